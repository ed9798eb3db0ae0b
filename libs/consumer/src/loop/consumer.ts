import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { toError } from '@fuel-code/core';
import { ensureConsumerGroup, type ConsumerRef } from '@fuel-code/stream';
import type { ConsumerConfig } from '../config';
import type { ConsumerObserver } from '../observer';
import type { HandleEntries } from '../port';
import { createStopController, StoppedError, type BackoffOptions, type RetryDeps } from '../retry';
import { createCounters, type ConsumerCounters } from '../stats';
import { createAcker } from './acker';
import { BlockingReader } from './blocking-reader';
import { createBoundedReads } from './bounded-reads';
import { createDispatch } from './dispatch';
import { createKeepAlive } from './group-membership';
import { InFlight } from './in-flight';
import { createInHand } from './in-hand';
import { createOwnPending } from './own-pending';
import { createProgress, type ConsumerHealth } from './progress';
import { createNewEntryReader } from './read-new';
import { createReclaimer } from './reclaim';
import { createRedisCalls } from './redis-calls';
import { createStop, finishInHand } from './stopping';

export interface ConsumerDeps {
  /** For XACK, XAUTOCLAIM, XPENDING and the bounded reads; the blocking read gets a duplicate of it. */
  redis: Redis;
  /** What to do with the entries read: the one port of the loop. */
  handle: HandleEntries;
  logger: Logger;
  config: ConsumerConfig;
  backoff?: BackoffOptions;
  /** onBatch, and onDeadLetter for entries dead-lettered at read time (oversized); no-op when absent. */
  observer?: ConsumerObserver;
  /** The running totals the stats line reports; share them with the handler that fills them. */
  counters?: ConsumerCounters;
  /** Extra fields for the 'Event consumer started' line (e.g. the registered handlers). */
  startedLogFields?: Record<string, unknown>;
}

export interface ConsumerHandle {
  /**
   * Stop reading; finish and ack the batches in hand and this consumer's other pending
   * entries; hand back (idle for everyone) what is left after stopTimeoutMs. Idempotent.
   */
  stop(): Promise<void>;
  counters(): Readonly<ConsumerCounters>;
  health(): ConsumerHealth;
  /** Settles when the loop has ended (after stop()). */
  readonly done: Promise<void>;
}

/** Builds the loop's parts; each is a module of its own (see ./loop). */
function assemble(deps: ConsumerDeps) {
  const { redis, config } = deps;
  const logger = deps.logger.child({ component: 'consumer', consumer: config.consumerName });
  const consumer: ConsumerRef = { stream: config.stream, group: config.group, consumer: config.consumerName };
  const controller = createStopController();
  const { signal } = controller;
  const counters = deps.counters ?? createCounters();
  const retry: RetryDeps = { signal, logger, ...(deps.backoff ? { backoff: deps.backoff } : {}) };
  const callRedis = createRedisCalls({ redis, group: consumer, retry, logger });
  const batches = new InFlight(config.inFlightBatches);
  const acker = createAcker({ redis, group: consumer, callRedis, logger });
  const reads = createBoundedReads({ redis, config, logger, counters, retry, observer: deps.observer });
  const ownPending = createOwnPending({ reads, callRedis, signal, settle: async () => {
    await batches.settle();
    await acker.settle();
  } });
  // Named after the consumer so an operator (or a test) can find it in CLIENT LIST. After a
  // failed read (its reply may be lost with entries handed to us), read our pending back.
  const reader = new BlockingReader(redis, logger, `fc-read:${config.consumerName.replace(/[^\w:.-]/g, '_')}`, () => ownPending.readBackIn(0));
  const inHand = createInHand({ redis, consumer, claimIdleMs: config.claimIdleMs, stuckBatchMs: config.stuckBatchMs, logger });
  const retryDelayMs = Math.min(500, Math.floor(config.claimIdleMs / 4));
  const dispatch = createDispatch({ redis, consumer, handle: deps.handle, signal, callRedis, inHand, acker, ownPending, retryDelayMs, logger, observer: deps.observer });
  return {
    logger, consumer, controller, signal, counters, callRedis, batches, acker, ownPending, reader, inHand, dispatch,
    reclaimer: createReclaimer({ reads, callRedis, signal, claimIdleMs: config.claimIdleMs, logger }),
    readNew: createNewEntryReader({ consumer, reads, reader, callRedis, ownPending, signal, ...config, onEmptyRead: createKeepAlive(redis, consumer, config.blockMs, logger) }),
    progress: createProgress({ redis, group: consumer, counters, statsIntervalMs: config.statsIntervalMs, logger }),
  };
}

type Parts = ReturnType<typeof assemble>;

async function runLoop(deps: ConsumerDeps, p: Parts): Promise<void> {
  const { config } = deps;
  await p.callRedis('creating the consumer group', () => ensureConsumerGroup(deps.redis, { stream: config.stream, group: config.group }));
  p.logger.info({ ...deps.startedLogFields, stream: config.stream, group: config.group }, 'Event consumer started');
  await p.ownPending.drain(p.dispatch);
  await p.reclaimer.reclaim(p.dispatch);
  try {
    while (!p.signal.aborted) {
      if (p.ownPending.isDue(Date.now())) await p.ownPending.drain(p.dispatch);
      if (p.reclaimer.isDue(Date.now()) && !p.inHand.hasStuck()) await p.reclaimer.reclaim(p.dispatch);
      await p.batches.waitForSlot();
      // Read the next batch while the last ones are still being handled (up to inFlightBatches).
      const batch = await p.readNew();
      if (batch.length > 0) p.batches.start(() => p.dispatch(batch, 'new'));
      p.progress.tick();
    }
  } finally {
    await finishInHand(p);
  }
}

/** Start the consume loop: read, reclaim, keep in-hand entries fresh, hand batches to deps.handle, ack. */
export function startConsumer(deps: ConsumerDeps): ConsumerHandle {
  const p = assemble(deps);
  const done = runLoop(deps, p)
    .catch((err: unknown) => {
      if (err instanceof StoppedError) return;
      // Nothing but a bug gets here: every dependency error is retried inside the loop.
      p.logger.fatal({ err: toError(err) }, 'Consumer loop crashed');
      throw err;
    })
    .finally(() => {
      p.progress.ended();
      p.inHand.close();
      p.reader.close();
    });
  done.catch(() => undefined);
  const stop = createStop({ redis: deps.redis, consumer: p.consumer, controller: p.controller, reader: p.reader, done, stopTimeoutMs: deps.config.stopTimeoutMs, inHand: p.inHand, counters: p.counters, logger: p.logger });
  return { stop, counters: () => p.counters, health: p.progress.health, done };
}
