import type { Logger } from 'pino';
import { toError } from '@fuel-code/core';
import { StoppedError } from '../retry';
import { onlyDelivery, type HandleEvents, type Middleware } from './types';

/** An event failed its last allowed attempt: the dead-letter wrapper takes it from here. */
export class AttemptsExhaustedError extends Error {
  readonly code = 'ATTEMPTS_EXHAUSTED' as const;
  constructor(
    readonly attempts: number,
    readonly error: Error,
  ) {
    super(`failed after ${attempts} attempts: ${error.message}`, { cause: error });
    this.name = 'AttemptsExhaustedError';
  }
}

export interface LimitAttemptsDeps {
  /** Attempts before an event is given up on. */
  maxAttempts: number;
  logger: Logger;
}

/**
 * The attempt policy for one event the store refused (a batch of one: see bisectRefused).
 * Its attempt is the stream's delivery count (which survives restarts and counts other
 * consumers' tries) or one more than this process counted, whichever is higher. Below
 * maxAttempts it is left pending for a retry; at maxAttempts it is given up on with
 * AttemptsExhaustedError. Outages never get here: they are waited out further in.
 */
export function limitAttempts(deps: LimitAttemptsDeps): Middleware<HandleEvents> {
  const attempts = new Map<string, number>();
  return (next) => async (batch, signal) => {
    try {
      const outcomes = await next(batch, signal);
      for (const d of batch) attempts.delete(d.entry.id);
      return outcomes;
    } catch (thrown) {
      const only = onlyDelivery(batch);
      if (!only || thrown instanceof StoppedError) throw thrown;
      const { entry, event } = only;
      const err = toError(thrown);
      const attempt = Math.max(only.delivery, (attempts.get(entry.id) ?? 0) + 1);
      const eventLog = deps.logger.child({ eventId: event.id, type: event.type, streamId: entry.id });
      if (attempt < deps.maxAttempts) {
        attempts.set(entry.id, attempt);
        eventLog.warn({ err, attempt, maxAttempts: deps.maxAttempts }, `Event ${event.id} failed (attempt ${attempt} of ${deps.maxAttempts}): ${err.message}`);
        return new Map([[entry.id, 'retry' as const]]);
      }
      attempts.delete(entry.id);
      eventLog.error({ err, attempts: attempt }, `Event ${event.id} permanently failed after ${attempt} attempts: ${err.message}`);
      throw new AttemptsExhaustedError(attempt, err);
    }
  };
}
