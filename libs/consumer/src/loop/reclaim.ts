import type { Logger } from 'pino';
import type { StreamEntry } from '@fuel-code/stream';
import type { BatchOrigin } from '../observer';
import type { BoundedReads } from './bounded-reads';
import type { CallRedis } from './redis-calls';

export interface ReclaimDeps {
  reads: BoundedReads;
  callRedis: CallRedis;
  signal: AbortSignal;
  /** Entries idle this long in any consumer are taken over; scans come every half of it (at least 1 s, at most 30 s). */
  claimIdleMs: number;
  logger: Logger;
}

/**
 * At most this long between idle scans, even with a long claim-idle: entries a stopping worker
 * handed back (idle for everyone) are taken at the next scan. One XAUTOCLAIM over a short PEL is cheap.
 */
const RECLAIM_SCAN_MAX_INTERVAL_MS = 30_000;

/** Taking over entries that other consumers (dead ones, or stuck ones) left idle for claimIdleMs (XAUTOCLAIM). */
export function createReclaimer(deps: ReclaimDeps) {
  let nextAt = 0;
  const log = deps.logger;
  return {
    isDue: (now: number) => now >= nextAt,
    async reclaim(run: (batch: readonly StreamEntry[], origin: BatchOrigin) => Promise<void>): Promise<void> {
      nextAt = Date.now() + Math.min(RECLAIM_SCAN_MAX_INTERVAL_MS, Math.max(1000, Math.floor(deps.claimIdleMs / 2)));
      for (;;) {
        const { entries, lastId } = await deps.callRedis('reclaiming idle entries', () => deps.reads.idle());
        log.debug({ count: entries.length }, 'Reclaim scan');
        if (lastId === undefined || deps.signal.aborted) return;
        if (entries.length > 0) log.info({ count: entries.length }, `Reclaimed ${entries.length} idle entries from other consumers`);
        await run(entries, 'claimed');
      }
    },
  };
}

export type Reclaimer = ReturnType<typeof createReclaimer>;
