import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { touchPending, type ConsumerRef } from '@fuel-code/stream';

export interface InHandDeps {
  redis: Redis;
  consumer: ConsumerRef;
  /** Entries idle this long may be reclaimed by others: in-hand ones are touched well within it. */
  claimIdleMs: number;
  /** A batch in hand this long is stuck: logged once, no longer kept fresh. */
  stuckBatchMs: number;
  logger: Logger;
}

interface Held {
  since: number;
  warned: boolean;
}

/**
 * The batches this consumer is working on. Their entries' idle time is reset regularly, so
 * nobody else reclaims live work, but not forever: a batch that never finishes (a connection
 * silently gone, where TCP gives up only after many minutes) would hold them hostage. Past
 * stuckBatchMs it is logged and left to go idle, so another consumer can take it over;
 * event ids make a late finish here a duplicate.
 */
export function createInHand(deps: InHandDeps) {
  const held = new Map<readonly string[], Held>();
  const log = deps.logger;
  const isStuck = (h: Held, now: number) => now - h.since >= deps.stuckBatchMs;

  function freshIds(now: number): string[] {
    const ids: string[] = [];
    for (const [batch, h] of held) if (!isStuck(h, now)) ids.push(...batch);
    return ids;
  }

  function warnStuck(now: number): void {
    for (const [ids, h] of held) {
      if (h.warned || !isStuck(h, now)) continue;
      h.warned = true;
      log.error(
        { count: ids.length, inHandMs: now - h.since },
        `A batch of ${ids.length} entries has been in hand for ${Math.round((now - h.since) / 1000)} s: a dependency is down that long, or it is stuck; ` +
          'its entries are no longer kept fresh, so another consumer can take them over',
      );
    }
  }

  /** Reset the idle time of the fresh entries in hand (best effort: a failed touch is tried again next beat). */
  function touch(): void {
    const now = Date.now();
    const fresh = freshIds(now);
    if (fresh.length > 0) touchPending(deps.redis, deps.consumer, fresh).catch(() => undefined);
    warnStuck(now);
  }

  const heartbeat = setInterval(touch, Math.max(50, Math.floor(deps.claimIdleMs / 3)));
  heartbeat.unref();

  return {
    /** Hold `ids` while they are worked on; call the returned function when done. */
    hold(ids: readonly string[]): () => void {
      const h: Held = { since: Date.now(), warned: false };
      held.set(ids, h);
      return () => {
        held.delete(ids);
        if (h.warned) log.info({ count: ids.length, inHandMs: Date.now() - h.since }, `The slow batch of ${ids.length} finished`);
      };
    },
    /** How many entries are in hand now. */
    count: () => [...held.keys()].reduce((n, ids) => n + ids.length, 0),
    /**
     * Whether a batch is stuck. A consumer with one takes no one else's work, nor (XAUTOCLAIM
     * does not tell) its own stuck entries back, which would keep them from the others again.
     */
    hasStuck: () => [...held.values()].some((h) => isStuck(h, Date.now())),
    close: () => clearInterval(heartbeat),
  };
}

export type InHand = ReturnType<typeof createInHand>;
