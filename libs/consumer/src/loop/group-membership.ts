// The consumer's standing in the group: alive while it runs, nothing left behind when it stops.
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { toError } from '@fuel-code/core';
import { untilAborted, WaitAbortedError } from '@fuel-code/runtime';
import { handBackPending, refreshConsumer, type ConsumerRef } from '@fuel-code/stream';

/**
 * On a quiet stream, tell the group this consumer is alive (call after an empty read; acts at
 * most once per `everyMs`): an empty read does not, and other workers' group cleanup would
 * take it for dead.
 */
export function createKeepAlive(redis: Redis, ref: ConsumerRef, everyMs: number, log: Logger): () => void {
  let keptAliveAt = 0;
  return () => {
    const now = Date.now();
    if (now - keptAliveAt < everyMs) return;
    keptAliveAt = now;
    refreshConsumer(redis, ref).catch((err: unknown) => log.debug({ err: toError(err) }, 'Consumer keep-alive failed'));
  };
}

/** The hand-back is one script; past this the worker exits without it. */
const HAND_BACK_TIMEOUT_MS = 1000;

/**
 * The last step of a stop: whatever this consumer still holds after finishing what it could
 * (a batch that outlived the stop timeout, entries whose XACK failed, an entry that failed and
 * awaits its retry) is made idle for everyone, so another worker's next idle scan takes it
 * instead of waiting out --claim-idle-ms. Never throws; bounded in time.
 */
export async function handBackOnStop(redis: Redis, ref: ConsumerRef, log: Logger): Promise<number> {
  try {
    const count = await untilAborted(handBackPending(redis, ref), AbortSignal.timeout(HAND_BACK_TIMEOUT_MS));
    if (count > 0) log.warn({ count }, `Handed back ${count} pending entries: the next idle scan of another worker takes them`);
    return count;
  } catch (err) {
    if (err instanceof WaitAbortedError) log.warn('Could not hand back pending entries in time; they wait for --claim-idle-ms');
    else log.warn({ err: toError(err) }, 'Could not hand back pending entries; they wait for --claim-idle-ms');
    return 0;
  }
}
