import { setMaxListeners } from 'node:events';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import { isTransientError, toError, TransientError } from '@fuel-code/core';
import { untilAborted, WaitAbortedError } from '@fuel-code/runtime';

/** Raised when stop was requested while waiting on a dependency. */
export class StoppedError extends Error {
  readonly code = 'CONSUMER_STOPPING' as const;
  constructor() {
    super('consumer is stopping');
    this.name = 'StoppedError';
  }
}

export interface BackoffOptions {
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** How often to repeat the warning while an outage lasts. */
  reminderEveryMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { minTimeoutMs: 100, maxTimeoutMs: 5000, reminderEveryMs: 30_000 };

export interface RetryDeps {
  /** Aborted when stop is requested: waiting out an outage ends with StoppedError. */
  signal: AbortSignal;
  logger: Logger;
  backoff?: BackoffOptions;
}

/**
 * An AbortController for a consume loop: many calls wait on its signal at once (batches in
 * flight, XACKs, reads, each backing off through an outage), more than EventTarget's
 * default listener count before it warns.
 */
export function createStopController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/**
 * Run `fn` until it succeeds, backing off (capped exponential with jitter) for as long as
 * it fails with a TransientError: a dependency outage is not the input's fault, so it is
 * never counted against it. Any other error is rethrown at once. Rejects with StoppedError
 * as soon as the signal is aborted.
 *
 * Logs one warning when an outage starts, a reminder while it lasts, and an info line when
 * the dependency answers again.
 */
export async function retryTransient<T>(what: string, fn: () => Promise<T>, deps: RetryDeps): Promise<T> {
  // The first attempt always runs to completion, even after stop: that is how the batch
  // in hand gets finished. Only waiting out an outage is cut short by stop.
  try {
    return await fn();
  } catch (thrown) {
    if (!isTransientError(thrown)) throw thrown;
    if (deps.signal.aborted) throw new StoppedError();
    return await backOffUntilSuccess(what, fn, deps, thrown);
  }
}

async function backOffUntilSuccess<T>(what: string, fn: () => Promise<T>, deps: RetryDeps, first: TransientError): Promise<T> {
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;
  const { signal } = deps;
  const outageStart = Date.now();
  let lastReminder = outageStart;
  deps.logger.warn({ err: first, dependency: first.dependency }, `${first.dependency} unavailable during ${what}; backing off until it answers`);

  const attempt = async (): Promise<T> => {
    if (signal.aborted) throw new pRetry.AbortError(new StoppedError());
    try {
      return await fn();
    } catch (thrown) {
      if (isTransientError(thrown)) throw thrown;
      throw new pRetry.AbortError(toError(thrown));
    }
  };

  const retrying = pRetry(attempt, {
    forever: true,
    factor: 2,
    minTimeout: backoff.minTimeoutMs,
    maxTimeout: backoff.maxTimeoutMs,
    randomize: true,
    onFailedAttempt: (error) => {
      // Failures caused by our own shutdown (connections closed under us) are not news.
      if (signal.aborted) return;
      const now = Date.now();
      if (now - lastReminder < backoff.reminderEveryMs) return;
      lastReminder = now;
      const dependency = error instanceof TransientError ? error.dependency : first.dependency;
      deps.logger.warn(
        { err: error, dependency, outageMs: now - outageStart, attempts: error.attemptNumber + 1 },
        `${dependency} still unavailable after ${Math.round((now - outageStart) / 1000)} s (${what})`,
      );
    },
  });
  // If stop comes first, the background retry ends on its next attempt; nobody awaits it.
  let result: T;
  try {
    result = await untilAborted(retrying, signal);
  } catch (err) {
    throw err instanceof WaitAbortedError && signal.aborted && err.reason === signal.reason ? new StoppedError() : err;
  }
  const outageMs = Date.now() - outageStart;
  deps.logger.info({ outageMs, dependency: first.dependency }, `Recovered: ${what} succeeded after ${outageMs} ms`);
  return result;
}

/** Every failure of a Redis command is taken as Redis being unavailable. */
export async function redisCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw err instanceof TransientError ? err : new TransientError('redis', toError(err).message, { cause: err });
  }
}
