import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { toError } from '@fuel-code/core';
import { untilAborted } from '@fuel-code/runtime';
import type { ConsumerRef } from '@fuel-code/stream';
import type { ConsumerCounters } from '../stats';
import type { Acker } from './acker';
import type { BlockingReader } from './blocking-reader';
import type { Dispatch } from './dispatch';
import { handBackOnStop } from './group-membership';
import type { InFlight } from './in-flight';
import type { InHand } from './in-hand';
import type { OwnPending } from './own-pending';

/*
 * The stop path, in one place. On stop:
 *  - the stop signal aborts: no new read starts, reclaim pages end, and a handler waiting out
 *    an outage gives up (its entries stay pending);
 *  - the blocking read in flight is abandoned (what it took stays pending for us);
 *  - every batch already read is finished and acknowledged, then this consumer's other
 *    pending entries (awaiting a retry, or handed over by a read whose reply was lost) are
 *    read back and finished too (finishInHand), within stopTimeoutMs;
 *  - what is left after that is handed back: made idle for everyone, so another worker's
 *    next idle scan takes it (handBackOnStop).
 */

export interface FinishDeps {
  batches: InFlight;
  acker: Acker;
  ownPending: OwnPending;
  dispatch: Dispatch;
  signal: AbortSignal;
  logger: Logger;
}

/** When the loop ends: what was read is ours; finish it rather than leave it pending. */
export async function finishInHand(deps: FinishDeps): Promise<void> {
  await deps.batches.settle().catch(() => undefined);
  await deps.acker.settle();
  if (!deps.signal.aborted) return;
  await deps.ownPending.drain(deps.dispatch, true).catch((err: unknown) => deps.logger.debug({ err: toError(err) }, 'Stopped before finishing own pending entries'));
}

export interface StopDeps {
  redis: Redis;
  consumer: ConsumerRef;
  controller: AbortController;
  reader: BlockingReader;
  /** Settles when the loop has ended. */
  done: Promise<void>;
  stopTimeoutMs: number;
  inHand: InHand;
  counters: ConsumerCounters;
  logger: Logger;
}

/** stop(): idempotent, returns within stopTimeoutMs. */
export function createStop(deps: StopDeps): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const log = deps.logger;
  async function stopOnce(): Promise<void> {
    log.info('Stopping consumer');
    deps.controller.abort();
    // Don't wait out a BLOCK: the read in flight is abandoned and the loop sees the stop.
    deps.reader.close();
    const ended = deps.done.catch(() => undefined);
    const inTime = await untilAborted(ended, AbortSignal.timeout(deps.stopTimeoutMs)).then(
      () => true,
      () => false,
    );
    if (!inTime) log.warn({ inHand: deps.inHand.count() }, 'Consumer did not finish its batch in time; handing it back');
    await handBackOnStop(deps.redis, deps.consumer, log);
    log.info({ ...deps.counters }, 'Consumer stopped');
  }
  return () => (stopping ??= stopOnce());
}
