import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ConsumerCounters } from '../stats';
import type { Acker } from './acker';
import type { BlockingReader } from './blocking-reader';
import type { InFlight } from './in-flight';
import type { InHand } from './in-hand';

/*
 * The stop path, in one place. On stop:
 *  - the stop signal aborts: no new read starts, reclaim and read-back pages end, and a
 *    handler waiting out an outage gives up (its entries stay pending, to be read back or
 *    reclaimed);
 *  - the blocking read in flight is abandoned (nothing it took is lost: it stays pending);
 *  - every batch already read is finished and acknowledged (finishInHand), within
 *    stopTimeoutMs; past that, stop returns and what is still in hand stays pending.
 */

/** When the loop ends: what was read is ours; finish it rather than leave it pending. */
export async function finishInHand(batches: InFlight, acker: Acker): Promise<void> {
  await batches.settle().catch(() => undefined);
  await acker.settle();
}

export interface StopDeps {
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
    const deadline = new AbortController();
    const timedOut = sleep(deps.stopTimeoutMs, 'timeout' as const, { signal: deadline.signal }).catch(() => 'done' as const);
    const ended = deps.done.then(
      () => 'done' as const,
      () => 'done' as const,
    );
    const outcome = await Promise.race([ended, timedOut]);
    deadline.abort();
    if (outcome === 'timeout') log.warn({ inHand: deps.inHand.count() }, 'Consumer did not finish its batch in time; leaving it pending');
    log.info({ ...deps.counters }, 'Consumer stopped');
  }
  return () => (stopping ??= stopOnce());
}
