import pRetry from 'p-retry';
import type { Logger } from 'pino';
import { isTransientError, toError, TransientError } from '@fuel-code/core';
import { StoppedError, type StopSignal } from './stop-signal';

export interface BackoffOptions {
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** How often to repeat the warning while an outage lasts. */
  reminderEveryMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { minTimeoutMs: 100, maxTimeoutMs: 5000, reminderEveryMs: 30_000 };

export interface RetryDeps {
  signal: StopSignal;
  logger: Logger;
  backoff?: BackoffOptions;
  /** Called on each failed attempt while the outage lasts (e.g. to keep held entries fresh). */
  onWaiting?: () => void;
}

/**
 * Run `fn` until it succeeds, backing off (capped exponential with jitter) for as long as
 * it fails with a TransientError: a dependency outage is not the input's fault, so it is
 * never counted against it. Any other error is rethrown at once. Rejects with StoppedError
 * as soon as stop is requested.
 *
 * Logs one warning when an outage starts, a reminder while it lasts, and an info line when
 * the dependency answers again.
 */
export async function retryTransient<T>(what: string, fn: () => Promise<T>, deps: RetryDeps): Promise<T> {
  // The first attempt always runs to completion, even after stop(): that is how the batch
  // in hand gets finished. Only waiting out an outage is cut short by stop().
  try {
    return await fn();
  } catch (thrown) {
    if (!isTransientError(thrown)) throw thrown;
    if (deps.signal.stopped) throw new StoppedError();
    return await backOffUntilSuccess(what, fn, deps, thrown);
  }
}

async function backOffUntilSuccess<T>(what: string, fn: () => Promise<T>, deps: RetryDeps, first: TransientError): Promise<T> {
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;
  const outageStart = Date.now();
  let lastReminder = outageStart;
  deps.logger.warn({ err: first, dependency: first.dependency }, `${first.dependency} unavailable during ${what}; backing off until it answers`);
  deps.onWaiting?.();

  const attempt = async (): Promise<T> => {
    if (deps.signal.stopped) throw new pRetry.AbortError(new StoppedError());
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
      if (deps.signal.stopped) return;
      const now = Date.now();
      if (now - lastReminder >= backoff.reminderEveryMs) {
        lastReminder = now;
        const dependency = error instanceof TransientError ? error.dependency : first.dependency;
        deps.logger.warn(
          { err: error, dependency, outageMs: now - outageStart, attempts: error.attemptNumber + 1 },
          `${dependency} still unavailable after ${Math.round((now - outageStart) / 1000)} s (${what})`,
        );
      }
      deps.onWaiting?.();
    },
  });
  // If stop wins the race, the background retry ends on its next attempt; nobody awaits it.
  retrying.catch(() => undefined);

  const stopped = deps.signal.promise.then((): never => {
    throw new StoppedError();
  });
  stopped.catch(() => undefined);

  const result = await Promise.race([retrying, stopped]);
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
