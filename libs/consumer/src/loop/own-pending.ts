import type { BatchOrigin } from '../observer';
import type { StreamEntry } from '@fuel-code/stream';
import type { BoundedReads } from './bounded-reads';
import type { CallRedis } from './redis-calls';

export interface OwnPendingDeps {
  reads: BoundedReads;
  callRedis: CallRedis;
  signal: AbortSignal;
  /** Wait until nothing is in flight (batches and XACKs): else entries in hand would be read twice. */
  settle: () => Promise<void>;
}

/**
 * This consumer's own pending entries: those its handler left for a retry, and those a failed
 * read may have handed over with the reply lost. They are read back (each once) when due.
 */
export function createOwnPending(deps: OwnPendingDeps) {
  let dueAt: number | undefined;
  return {
    /** Read them back within `delayMs` (0: now). */
    readBackIn(delayMs: number): void {
      dueAt = Math.min(dueAt ?? Infinity, Date.now() + delayMs);
    },
    isDue: (now: number) => dueAt !== undefined && now >= dueAt,
    /** How long a blocking read may wait without delaying a due read-back. */
    blockFor: (blockMs: number, now: number) => (dueAt === undefined ? blockMs : Math.min(blockMs, Math.max(1, dueAt - now))),
    /**
     * Read back every own pending entry once (id 0, then after the last seen) and run each page.
     * `whileStopping`: the last pass of a stop, which goes on although stop was requested.
     */
    async drain(run: (batch: readonly StreamEntry[], origin: BatchOrigin) => Promise<void>, whileStopping = false): Promise<void> {
      await deps.settle();
      dueAt = undefined;
      let afterId = '0';
      for (;;) {
        const page = await deps.callRedis('reading own pending entries', () => deps.reads.ownPending(afterId));
        if (page.lastId === undefined || (deps.signal.aborted && !whileStopping)) break;
        await run(page.entries, 'own-pending');
        afterId = page.lastId;
      }
      await deps.settle();
    },
  };
}

export type OwnPending = ReturnType<typeof createOwnPending>;
