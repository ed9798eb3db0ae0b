import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import { toError, type HandlerRegistry } from '@fuel-code/core';
import {
  acknowledge,
  deliveryCounts,
  ensureConsumerGroup,
  entryBytes,
  pendingCount,
  touchPending,
  type StreamEntry,
} from '@fuel-code/stream';
import { BlockingReader } from './blocking-reader';
import { createBoundedReads } from './bounded-reads';
import type { ConsumerConfig } from './config';
import { createEntryHandler } from './entry-handler';
import { createKeepAlive, handBackOnStop } from './group-membership';
import { InFlight } from './in-flight';
import { notify, type ConsumerObserver } from './observer';
import { redisCall, retryTransient, type BackoffOptions, type RetryDeps } from './retry';
import { createCounters, statsMessage, type ConsumerCounters } from './stats';
import { createStopSignal, StoppedError } from './stop-signal';

export interface ConsumerDeps {
  /** For XACK, XADD, XAUTOCLAIM, XPENDING; the blocking read gets a duplicate of it. */
  redis: Redis;
  sql: Sql;
  registry: HandlerRegistry;
  logger: Logger;
  config: ConsumerConfig;
  backoff?: BackoffOptions;
  /** Metrics hooks (per-type outcomes, durations, dead letters, batch sizes); no-op when absent. */
  observer?: ConsumerObserver;
}

export interface ConsumerHealth {
  /** When the loop last finished an iteration (ms since epoch). */
  lastProgressAt: number;
  running: boolean;
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

type Origin = 'new' | 'own-pending' | 'claimed';

const RECLAIM_SCAN_MAX_INTERVAL_MS = 30_000;

export function startConsumer(deps: ConsumerDeps): ConsumerHandle {
  const { redis, config } = deps;
  const log = deps.logger.child({ component: 'consumer', consumer: config.consumerName });
  const ref = { stream: config.stream, group: config.group, consumer: config.consumerName };
  const signal = createStopSignal();
  const counters = createCounters();
  let retryDueAt: number | undefined;
  // Named after the consumer so an operator (or a test) can find it in CLIENT LIST. After a
  // failed read (its reply may be lost with entries handed to us), read our pending back.
  const reader = new BlockingReader(redis, log, `fc-read:${config.consumerName.replace(/[^\w:.-]/g, '_')}`, () => {
    retryDueAt = Date.now();
  });
  /** Ids of the batches in hand: their idle time is reset regularly (until stuckBatchMs), so no live work is reclaimed. */
  const inHand = new Map<readonly string[], { since: number; warned: boolean }>();
  const heldIds = () => [...inHand.keys()].flat();
  const inFlight = new InFlight(config.inFlightBatches);
  const retry: RetryDeps = { signal, logger: log, ...(deps.backoff ? { backoff: deps.backoff } : {}) };
  const entryHandler = createEntryHandler({ ...deps, logger: log, counters, retry });
  const reads = createBoundedReads({ ...deps, logger: log, counters, retry });
  const health: ConsumerHealth = { lastProgressAt: Date.now(), running: true };
  let nextReclaimAt = 0;
  /** XACKs still in flight while the next batches are read and processed. */
  const acks = new InFlight();

  /** A Redis call retried through outages; a lost group (Redis restarted empty) is recreated first. */
  const callRedis = <T>(what: string, fn: () => Promise<T>) =>
    retryTransient(
      what,
      () =>
        redisCall(async () => {
          try {
            return await fn();
          } catch (err) {
            if (/NOGROUP/.test(toError(err).message)) {
              log.warn('Consumer group is gone (NOGROUP): Redis lost its data; recreating the group');
              await ensureConsumerGroup(redis, ref);
            }
            throw err;
          }
        }),
      retry,
    );

  async function handleBatch(batch: StreamEntry[], origin: Origin): Promise<void> {
    if (batch.length === 0) return;
    notify(deps.observer, 'onBatch', log, batch.length, origin);
    const ids = batch.map((e) => e.id);
    const held = { since: Date.now(), warned: false };
    inHand.set(ids, held);
    try {
      await processAndAck(batch, ids, origin);
    } finally {
      inHand.delete(ids);
      if (held.warned) log.info({ count: ids.length, inHandMs: Date.now() - held.since }, `The slow batch of ${ids.length} finished`);
    }
  }

  async function processAndAck(batch: StreamEntry[], ids: readonly string[], origin: Origin): Promise<void> {
    const deliveries =
      origin === 'new' ? new Map<string, number>() : await callRedis('delivery counts', () => deliveryCounts(redis, ref, ids));
    const outcomes = await entryHandler.handleBatch(batch.map((entry) => ({ entry, delivery: deliveries.get(entry.id) ?? 1 })));
    const toAck = batch.filter((e) => outcomes.get(e.id) !== 'retry').map((e) => e.id);
    const retries = batch.length - toAck.length;
    if (retries > 0) {
      // Retry soon, well before anyone else could reclaim the entry as idle.
      const delay = Math.min(500, Math.floor(config.claimIdleMs / 4));
      retryDueAt = Math.min(retryDueAt ?? Infinity, Date.now() + delay);
    }
    // The XACK goes out without holding up the next read. A failed XACK after the commit is
    // harmless: the entry is read again and is a duplicate.
    acks.start(async () => {
      try {
        await callRedis('XACK', () => acknowledge(redis, ref, toAck));
      } catch (err) {
        if (!(err instanceof StoppedError)) log.warn({ err: toError(err), count: toAck.length }, 'XACK failed; the entries will be read again as duplicates');
      }
    });
  }

  /**
   * Re-read this consumer's own pending entries once each (id 0, then after the last seen).
   * `whileStopping`: the last pass of a stop, which goes on although stop was requested.
   */
  async function drainOwnPending(whileStopping = false): Promise<void> {
    // Nothing in flight, or entries being processed (or just processed) would be read again.
    await inFlight.settle();
    await acks.settle();
    retryDueAt = undefined;
    let afterId = '0';
    for (;;) {
      const page = await callRedis('reading own pending entries', () => reads.ownPending(afterId));
      if (page.lastId === undefined || (signal.stopped && !whileStopping)) break;
      await handleBatch(page.entries, 'own-pending');
      afterId = page.lastId;
    }
    await acks.settle();
  }

  /** Take over entries other consumers left idle longer than claimIdleMs. */
  async function reclaimIdle(): Promise<void> {
    // At most every 30 s even with a long claim-idle: entries a stopping worker handed back
    // (idle for everyone) are taken at the next scan. One XAUTOCLAIM over a short PEL is cheap.
    nextReclaimAt = Date.now() + Math.min(RECLAIM_SCAN_MAX_INTERVAL_MS, Math.max(1000, Math.floor(config.claimIdleMs / 2)));
    for (;;) {
      const { entries, lastId } = await callRedis('reclaiming idle entries', () => reads.idle());
      log.debug({ count: entries.length }, 'Reclaim scan');
      if (lastId === undefined || signal.stopped) return;
      if (entries.length > 0) log.info({ count: entries.length }, `Reclaimed ${entries.length} idle entries from other consumers`);
      await handleBatch(entries, 'claimed');
    }
  }

  async function ensureGroup(): Promise<void> {
    await callRedis('creating the consumer group', () => ensureConsumerGroup(redis, ref));
  }

  /**
   * The next batch of new entries, bounded by count and bytes. What is waiting is read
   * without blocking; when nothing is, a blocking read waits for one entry (an XREADGROUP
   * BLOCK hands over all it takes, so it takes one), then a bounded read takes the rest.
   */
  async function readNew(): Promise<StreamEntry[]> {
    const waiting = await callRedis('reading new entries', () => reads.newEntries(config.batchSize));
    if (waiting.lastId !== undefined || signal.stopped) return waiting.entries;
    const untilRetry = retryDueAt === undefined ? config.blockMs : Math.max(1, retryDueAt - Date.now());
    const woken = await callRedis('waiting for new entries', () =>
      reader.read({ ...ref, count: 1, blockMs: Math.min(config.blockMs, untilRetry) }),
    );
    if (woken.length === 0) {
      keepAlive();
      return woken;
    }
    const first = await reads.withinLimit(woken);
    // A blocked read wakes on the first XADD of a burst (an ingest request is one pipeline of
    // XADDs): one more read without BLOCK takes the rest of it into the same batch, rather
    // than leaving it to queue behind a transaction of one.
    if (woken.length >= config.batchSize || signal.stopped) return first;
    const used = first.reduce((n, e) => n + entryBytes(e), 0);
    const rest = await callRedis('reading the rest of a burst', () => reads.newEntries(config.batchSize - woken.length, config.maxBatchBytes - used));
    return first.concat(rest.entries);
  }

  const keepAlive = createKeepAlive(redis, ref, config.blockMs, log);

  async function run(): Promise<void> {
    await ensureGroup();
    log.info(
      { registeredHandlers: deps.registry.listRegisteredTypes(), stream: config.stream, group: config.group },
      'Event consumer started',
    );
    await drainOwnPending();
    await reclaimIdle();
    try {
      while (!signal.stopped) {
        if (retryDueAt !== undefined && Date.now() >= retryDueAt) await drainOwnPending();
        // A consumer with a stuck batch takes no one else's work, nor (XAUTOCLAIM does not
        // tell) its own stuck entries back, which would keep them from the others again.
        if (Date.now() >= nextReclaimAt && !hasStuckBatch(Date.now())) await reclaimIdle();
        await inFlight.waitForSlot();
        // Read the next batch while the last one is still in Postgres (up to inFlightBatches).
        const batch = await readNew();
        if (batch.length > 0) inFlight.start(() => handleBatch(batch, 'new'));
        health.lastProgressAt = Date.now();
      }
    } finally {
      // Stopping (or failing): what was read is ours; finish it rather than leave it pending.
      await inFlight.settle().catch(() => undefined);
      await acks.settle();
      // Then what is still pending for us: entries awaiting a retry, and any a read handed to
      // us whose reply was lost (the blocking read abandoned by stop()). What cannot be
      // finished now is handed back by stop().
      if (signal.stopped) await drainOwnPending(true).catch((err: unknown) => log.debug({ err: toError(err) }, 'Stopped before finishing own pending entries'));
    }
  }

  /** Whether a batch has been in hand for stuckBatchMs: its entries are left to go idle. */
  const isStuck = (held: { since: number }, now: number) => now - held.since >= config.stuckBatchMs;
  const hasStuckBatch = (now: number) => [...inHand.values()].some((held) => isStuck(held, now));

  /**
   * Entries in hand are kept fresh so nobody else takes them over, but not forever: a batch
   * that never finishes (a connection silently gone, where TCP gives up only after many
   * minutes) would hold them hostage. Past stuckBatchMs they may go idle and be reclaimed;
   * event ids make a late finish here a duplicate.
   */
  function freshIds(now: number): string[] {
    const ids: string[] = [];
    for (const [batch, held] of inHand) if (!isStuck(held, now)) ids.push(...batch);
    return ids;
  }

  function warnStuckBatches(now: number): void {
    for (const [ids, held] of inHand) {
      if (held.warned || !isStuck(held, now)) continue;
      held.warned = true;
      log.error(
        { count: ids.length, inHandMs: now - held.since },
        `A batch of ${ids.length} entries has been in hand for ${Math.round((now - held.since) / 1000)} s: a dependency is down that long, or it is stuck; ` +
          'its entries are no longer kept fresh, so another consumer can take them over',
      );
    }
  }

  const statsTimer = setInterval(() => {
    pendingCount(redis, ref)
      .then((pending) => log.info({ ...counters, pending }, statsMessage(counters, pending)))
      .catch((err: unknown) => log.info({ ...counters, err: toError(err) }, statsMessage(counters, 'unknown')));
  }, config.statsIntervalMs);
  statsTimer.unref();

  const heartbeat = setInterval(() => {
    const now = Date.now();
    const fresh = freshIds(now);
    if (fresh.length > 0) touchPending(redis, ref, fresh).catch(() => undefined);
    warnStuckBatches(now);
  }, Math.max(50, Math.floor(config.claimIdleMs / 3)));
  heartbeat.unref();

  const done = run()
    .catch((err: unknown) => {
      if (err instanceof StoppedError) return;
      // Nothing but a bug gets here: every dependency error is retried inside the loop.
      log.fatal({ err: toError(err) }, 'Consumer loop crashed');
      throw err;
    })
    .finally(() => {
      health.running = false;
      clearInterval(statsTimer);
      clearInterval(heartbeat);
      reader.close();
    });
  done.catch(() => undefined);

  let stopping: Promise<void> | undefined;
  function stop(): Promise<void> {
    stopping ??= (async () => {
      log.info('Stopping consumer');
      signal.trigger();
      // Don't wait out a BLOCK: the read in flight is abandoned and the loop sees the stop.
      reader.close();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), config.stopTimeoutMs);
      });
      const outcome = await Promise.race([done.then(() => 'done' as const, () => 'done' as const), timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') log.warn({ inHand: heldIds().length }, 'Consumer did not finish its batch in time; handing it back');
      await handBackOnStop(redis, ref, log);
      log.info({ ...counters }, 'Consumer stopped');
    })();
    return stopping;
  }

  return {
    stop,
    counters: () => counters,
    health: () => ({ ...health }),
    done,
  };
}
