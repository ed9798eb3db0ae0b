import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { deliveryCounts, type ConsumerRef, type StreamEntry } from '@fuel-code/stream';
import { notify, type BatchOrigin, type ConsumerObserver } from '../observer';
import type { HandleEntries } from '../port';
import type { Acker } from './acker';
import type { InHand } from './in-hand';
import type { OwnPending } from './own-pending';
import type { CallRedis } from './redis-calls';

export interface DispatchDeps {
  redis: Redis;
  consumer: ConsumerRef;
  handle: HandleEntries;
  signal: AbortSignal;
  callRedis: CallRedis;
  inHand: InHand;
  acker: Acker;
  ownPending: OwnPending;
  /** An entry left for a retry is read back this soon: well before anyone could reclaim it as idle. */
  retryDelayMs: number;
  logger: Logger;
  observer?: ConsumerObserver | undefined;
}

/** Run one batch of entries through the handler: held fresh while in hand, then acknowledged or left for a retry. */
export function createDispatch(deps: DispatchDeps) {
  async function deliveries(batch: readonly StreamEntry[], origin: BatchOrigin) {
    // A new entry has been delivered once; only a re-read or a claim needs asking Redis.
    const counts =
      origin === 'new'
        ? new Map<string, number>()
        : await deps.callRedis('delivery counts', () => deliveryCounts(deps.redis, deps.consumer, batch.map((e) => e.id)));
    return batch.map((entry) => ({ entry, delivery: counts.get(entry.id) ?? 1 }));
  }

  return async function dispatch(batch: readonly StreamEntry[], origin: BatchOrigin): Promise<void> {
    if (batch.length === 0) return;
    notify(deps.observer, 'onBatch', deps.logger, batch.length, origin);
    const release = deps.inHand.hold(batch.map((e) => e.id));
    try {
      const outcomes = await deps.handle(await deliveries(batch, origin), deps.signal);
      const toAck = batch.filter((e) => outcomes.get(e.id) === 'ack').map((e) => e.id);
      if (toAck.length < batch.length) deps.ownPending.readBackIn(deps.retryDelayMs);
      deps.acker.ack(toAck);
    } finally {
      release();
    }
  };
}

export type Dispatch = ReturnType<typeof createDispatch>;
