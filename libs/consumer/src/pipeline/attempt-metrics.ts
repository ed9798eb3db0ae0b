import type { Logger } from 'pino';
import { isTransientError, type ProcessResult } from '@fuel-code/core';
import { notify, type ConsumerObserver, type EventOutcome } from '../observer';
import type { ConsumerCounters } from '../stats';
import { onlyDelivery, type EventDelivery, type Middleware, type StoreEvents } from './types';
import { createUnhandledTally } from './unhandled';

export interface MeasureAttemptsDeps {
  counters: ConsumerCounters;
  logger: Logger;
  observer?: ConsumerObserver | undefined;
}

/**
 * Counts what each store attempt came to, and tells the observer once per attempt, type and
 * outcome (never a call per event). Sits inside the outage retry: the duration is the
 * attempt's own time in the store, and an outage being waited out is not a failed attempt.
 */
export function measureAttempts(deps: MeasureAttemptsDeps): Middleware<StoreEvents> {
  const { counters, logger } = deps;
  const unhandled = createUnhandledTally(deps);

  function countResults(results: readonly ProcessResult[], durationMs: number): void {
    const tally = new Map<string, { type: string; outcome: EventOutcome; count: number }>();
    for (const result of results) {
      if (result.status === 'duplicate') counters.duplicates++;
      else counters.processed++;
      for (const handled of result.handlerResults) if (handled.status === 'failed') counters.handlerFailures++;
      if (result.status === 'processed' && result.payload !== 'valid') unhandled.record(result);
      const key = `${result.type}\u0000${result.status}`;
      const group = tally.get(key);
      if (group) group.count++;
      else tally.set(key, { type: result.type, outcome: result.status, count: 1 });
    }
    for (const { type, outcome, count } of tally.values()) notify(deps.observer, 'onEvents', logger, type, outcome, count);
    unhandled.flush();
    notify(deps.observer, 'onAttempt', logger, results.length, 'ok', durationMs);
  }

  /** A refused attempt. A single event's failure is counted as one (each retry that fails counts); a batch's is not: the split gives each event its own. */
  function countRefusal(batch: readonly EventDelivery[], durationMs: number): void {
    const only = onlyDelivery(batch);
    if (only) {
      counters.errors++;
      notify(deps.observer, 'onEvents', logger, only.event.type, 'failed', 1);
    }
    notify(deps.observer, 'onAttempt', logger, batch.length, 'failed', durationMs);
  }

  return (next) => async (batch, signal) => {
    const started = Date.now();
    try {
      const results = await next(batch, signal);
      countResults(results, Date.now() - started);
      return results;
    } catch (err) {
      if (!isTransientError(err)) countRefusal(batch, Date.now() - started);
      throw err;
    }
  };
}
