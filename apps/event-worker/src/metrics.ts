import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { toError } from '@fuel-code/core';
import type { ConsumerObserver } from '@fuel-code/consumer';
import { within } from '@fuel-code/runtime';
import { groupInfos, type TrimResult } from '@fuel-code/stream';

export interface MetricsOptions {
  /** The command connection: stream gauges are read from it at each scrape. */
  redis: Redis;
  stream: string;
  group: string;
  deadLetterStream: string;
  logger: Logger;
  /** A scrape gives up on Redis after this long and reports no stream gauges. Default 1000. */
  redisTimeoutMs?: number;
  /** Also collect prom-client's default process metrics (default true). */
  defaultMetrics?: boolean;
}

export interface WorkerMetrics {
  /** This process's own registry (the global default registry is never touched). */
  registry: Registry;
  /** Hand to startConsumer: counts and times what the loop does. */
  observer: ConsumerObserver;
  /** Record one retention pass. */
  recordTrim(result: TrimResult): void;
  /** Count one consumer removed from the group by the cleanup. */
  recordConsumerRemoved(): void;
  /** When the consumer last handled a batch, an event or a dead letter (ms since epoch); 0 if never. */
  lastActivityAt(): number;
}

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const MAX_UNKNOWN_TYPE_LABELS = 50;
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];

export function createWorkerMetrics(o: MetricsOptions): WorkerMetrics {
  const registry = new Registry();
  if (o.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const timeoutMs = o.redisTimeoutMs ?? 1000;
  let lastActivityAt = 0;

  const processed = new Counter({ name: 'fuel_code_events_processed_total', help: 'Events stored (new ids), by event type', labelNames: ['type'], registers });
  const duplicates = new Counter({ name: 'fuel_code_events_duplicate_total', help: 'Events whose id was already stored (acknowledged, no handler run), by event type', labelNames: ['type'], registers });
  const failed = new Counter({ name: 'fuel_code_events_failed_total', help: 'Processing attempts that failed and will be retried or dead-lettered, by event type', labelNames: ['type'], registers });
  const deadLettered = new Counter({
    name: 'fuel_code_events_dead_lettered_total',
    help: 'Entries written to the dead-letter stream, by reason (invalid|failed) and event type (unknown when it did not parse)',
    labelNames: ['reason', 'type'],
    registers,
  });
  const duration = new Histogram({
    name: 'fuel_code_processing_attempt_duration_seconds',
    help: 'Time of one processing attempt (a batch, or one event after a split) in PostgreSQL, outage waits excluded, by outcome (ok|failed)',
    labelNames: ['outcome'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const batchSize = new Histogram({
    name: 'fuel_code_consumer_batch_size',
    help: 'Entries per non-empty batch, by origin (new|own-pending|claimed)',
    labelNames: ['origin'],
    buckets: BATCH_BUCKETS,
    registers,
  });
  const unhandled = new Counter({
    name: 'fuel_code_events_unhandled_total',
    help: 'New events stored without a handler run, by kind (unknown-type|payload-invalid) and type (past 50 distinct unknown types: "other")',
    labelNames: ['kind', 'type'],
    registers,
  });
  const unknownTypeLabels = new Set<string>();
  /** Unknown type names come from producers: bound the label set so one cannot flood the registry. */
  const unhandledTypeLabel = (kind: string, type: string): string => {
    if (kind !== 'unknown-type' || unknownTypeLabels.has(type)) return type;
    if (unknownTypeLabels.size >= MAX_UNKNOWN_TYPE_LABELS) return 'other';
    unknownTypeLabels.add(type);
    return type;
  };
  // Not labelled by consumer name: names change with every restart, and this worker exports no
  // per-consumer series at all, so a removed consumer leaves no label set behind.
  const consumersRemoved = new Counter({
    name: 'fuel_code_consumers_removed_total',
    help: 'Consumers removed from the group by this worker (idle past --consumer-cleanup-idle-ms, nothing pending)',
    labelNames: ['stream', 'group'],
    registers,
  });
  const trimmed = new Counter({ name: 'fuel_code_stream_trimmed_entries_total', help: 'Entries removed from the stream by retention (XTRIM MINID)', labelNames: ['stream'], registers });

  // Stream gauges, read from Redis once per scrape: every gauge's collect awaits the same read.
  let inFlight: Promise<void> | undefined;
  const refresh = (): Promise<void> => {
    inFlight ??= readStreamGauges().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  const collect = async (): Promise<void> => refresh();
  const lag = new Gauge({ name: 'fuel_code_stream_lag', help: 'Entries not yet delivered to the consumer group (XINFO GROUPS lag)', labelNames: ['stream', 'group'], registers, collect });
  const pending = new Gauge({ name: 'fuel_code_stream_pending', help: 'Entries delivered to the group and not yet acknowledged (XINFO GROUPS pending)', labelNames: ['stream', 'group'], registers, collect });
  const length = new Gauge({ name: 'fuel_code_stream_length', help: 'Entries in the stream (XLEN), kept bounded by retention', labelNames: ['stream'], registers, collect });
  const deadLetters = new Gauge({ name: 'fuel_code_dead_letters', help: 'Entries in the dead-letter stream (XLEN)', labelNames: ['stream'], registers, collect });

  async function readStreamGauges(): Promise<void> {
    const groupLabels = { stream: o.stream, group: o.group };
    try {
      const [groups, len, dlLen] = await within(
        Promise.all([groupInfos(o.redis, o.stream), o.redis.xlen(o.stream), o.redis.xlen(o.deadLetterStream)]),
        timeoutMs,
      );
      const group = groups.find((g) => g.name === o.group);
      // lag is null when Redis cannot compute it (e.g. entries deleted inside the unread range).
      if (group?.lag != null) lag.set(groupLabels, group.lag);
      else lag.remove(groupLabels);
      if (group) pending.set(groupLabels, group.pending);
      else pending.remove(groupLabels);
      length.set({ stream: o.stream }, len);
      deadLetters.set({ stream: o.deadLetterStream }, dlLen);
    } catch (err) {
      // No number rather than a stale one.
      o.logger.debug({ err: toError(err) }, 'Could not read stream gauges');
      lag.reset();
      pending.reset();
      length.reset();
      deadLetters.reset();
    }
  }

  const observer: ConsumerObserver = {
    onEvents(type, outcome, count) {
      lastActivityAt = Date.now();
      (outcome === 'processed' ? processed : outcome === 'duplicate' ? duplicates : failed).inc({ type }, count);
    },
    onAttempt(_size, outcome, durationMs) {
      lastActivityAt = Date.now();
      duration.observe({ outcome }, durationMs / 1000);
    },
    onDeadLetter(reason, type) {
      lastActivityAt = Date.now();
      deadLettered.inc({ reason, type: type ?? 'unknown' });
    },
    onUnhandled(kind, type, count) {
      unhandled.inc({ kind, type: unhandledTypeLabel(kind, type) }, count);
    },
    onBatch(size, origin) {
      lastActivityAt = Date.now();
      batchSize.observe({ origin }, size);
    },
  };

  return {
    registry,
    observer,
    recordTrim(result) {
      if (result.status === 'trimmed') trimmed.inc({ stream: o.stream }, result.removed);
    },
    recordConsumerRemoved() {
      consumersRemoved.inc({ stream: o.stream, group: o.group });
    },
    lastActivityAt: () => lastActivityAt,
  };
}
