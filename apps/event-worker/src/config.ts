import { hostname } from 'node:os';
import { ConfigError } from '@fuel-code/core';
import { DEFAULT_CONSUMER_CONFIG, type ConsumerConfig } from '@fuel-code/consumer';
import { configReader, durationMs, integer, logLevel, name, url, type ConfigReader, type Env, type LogLevel } from '@fuel-code/runtime';

export type { Env, LogLevel } from '@fuel-code/runtime';

export interface WorkerConfig {
  redisUrl: string;
  databaseUrl: string;
  logLevel: LogLevel;
  /** 0 turns the HTTP server off. */
  httpPort: number;
  /** /healthz reports "stuck" when the loop made no progress for blockMs plus this long. */
  healthMarginMs: number;
  /** Stream retention (XTRIM MINID to what every group is done with) runs this often. */
  retentionIntervalMs: number;
  /** Consumers of the group idle this long with nothing pending are removed; 0 = off. */
  consumerCleanupIdleMs: number;
  consumer: ConsumerConfig;
}

/** Flags as commander hands them over: strings, or undefined when not given. */
export interface WorkerFlags {
  consumerName?: string;
  batchSize?: string;
  inFlightBatches?: string;
  blockMs?: string;
  claimIdleMs?: string;
  maxAttempts?: string;
  statsIntervalMs?: string;
  httpPort?: string;
  maxEntryBytes?: string;
  maxBatchBytes?: string;
  consumerCleanupIdleMs?: string;
}

/** Long enough for a big batch, a reclaim round or a short outage; short enough to catch a hung loop. */
export const HEALTH_MARGIN_MS = 30_000;
export const RETENTION_INTERVAL_MS = 60_000;
export const CONSUMER_CLEANUP_IDLE_MS = 3_600_000;

export function defaultConsumerName(pid: number = process.pid): string {
  return `${hostname()}-${pid}`;
}

const MIB = 1024 * 1024;

/** --max-entry-bytes and --max-batch-bytes; a batch must be able to hold the largest entry. */
function byteLimits(read: ConfigReader, flags: WorkerFlags): Pick<ConsumerConfig, 'maxEntryBytes' | 'maxBatchBytes'> {
  const d = DEFAULT_CONSUMER_CONFIG;
  const entryPlace = { flag: ['--max-entry-bytes', flags.maxEntryBytes], env: 'MAX_ENTRY_BYTES' } as const;
  const batchPlace = { flag: ['--max-batch-bytes', flags.maxBatchBytes], env: 'MAX_BATCH_BYTES' } as const;
  // Redis holds at most 512 MiB in one value.
  const maxEntryBytes = read.value(entryPlace, integer(1024, 512 * MIB), d.maxEntryBytes);
  const maxBatchBytes = read.value(batchPlace, integer(1024, 1024 * MIB), d.maxBatchBytes);
  if (maxBatchBytes < maxEntryBytes) {
    throw new ConfigError(
      `Invalid ${read.source(batchPlace)?.name ?? 'MAX_BATCH_BYTES'}: expected at least ${read.source(entryPlace)?.name ?? 'MAX_ENTRY_BYTES'} (${maxEntryBytes}), got ${maxBatchBytes}`,
    );
  }
  return { maxEntryBytes, maxBatchBytes };
}

/**
 * --consumer-cleanup-idle-ms: 0 (off) or longer than a live worker can be quiet. A worker
 * says it is alive at least once per block time, so a threshold of two block times or less
 * could remove live workers (harmless, they come back on their next read, but noisy).
 */
function cleanupIdleMs(read: ConfigReader, flags: WorkerFlags, blockMs: number): number {
  const place = { flag: ['--consumer-cleanup-idle-ms', flags.consumerCleanupIdleMs], env: 'CONSUMER_CLEANUP_IDLE_MS' } as const;
  const ms = read.value(place, integer(0, 30 * 86_400_000), CONSUMER_CLEANUP_IDLE_MS);
  if (ms !== 0 && ms <= 2 * blockMs) {
    throw new ConfigError(
      `Invalid ${read.source(place)?.name ?? 'CONSUMER_CLEANUP_IDLE_MS'}: expected 0 (off) or more than twice --block-ms (${2 * blockMs}), got ${ms}`,
    );
  }
  return ms;
}

/**
 * A dead-letter stream that is the events stream would feed every dead letter back in as a
 * new (still invalid) entry, without end, and `dead-letters purge` would delete live events.
 */
function refuseLoop(consumer: Pick<ConsumerConfig, 'stream' | 'deadLetterStream'>): void {
  if (consumer.stream === consumer.deadLetterStream) {
    throw new ConfigError(
      `Invalid DEAD_LETTER_STREAM: it must differ from EVENTS_STREAM, but both are "${consumer.stream}" ` +
        '(dead letters would be read back as new entries without end, and a purge would delete live events)',
    );
  }
}

/** Parse flags and environment once into a frozen config; a bad value throws ConfigError naming it. */
export function parseWorkerConfig(flags: WorkerFlags, env: Env, pid: number = process.pid): WorkerConfig {
  const read = configReader(env);
  const d = DEFAULT_CONSUMER_CONFIG;
  const consumer: ConsumerConfig = Object.freeze({
    stream: read.value({ env: 'EVENTS_STREAM' }, name(), d.stream),
    group: read.value({ env: 'CONSUMER_GROUP' }, name(), d.group),
    consumerName: read.value({ flag: ['--consumer-name', flags.consumerName], env: 'CONSUMER_NAME' }, name(), defaultConsumerName(pid)),
    deadLetterStream: read.value({ env: 'DEAD_LETTER_STREAM' }, name(), d.deadLetterStream),
    batchSize: read.value({ flag: ['--batch-size', flags.batchSize] }, integer(1, 10_000), d.batchSize),
    inFlightBatches: read.value({ flag: ['--in-flight-batches', flags.inFlightBatches] }, integer(1, 8), d.inFlightBatches),
    blockMs: read.value({ flag: ['--block-ms', flags.blockMs] }, durationMs(1, 600_000), d.blockMs),
    claimIdleMs: read.value({ flag: ['--claim-idle-ms', flags.claimIdleMs] }, durationMs(100, 86_400_000), d.claimIdleMs),
    maxAttempts: read.value({ flag: ['--max-attempts', flags.maxAttempts] }, integer(1, 1000), d.maxAttempts),
    statsIntervalMs: read.value({ flag: ['--stats-interval-ms', flags.statsIntervalMs] }, durationMs(100, 86_400_000), d.statsIntervalMs),
    stopTimeoutMs: d.stopTimeoutMs,
    stuckBatchMs: d.stuckBatchMs,
    ...byteLimits(read, flags),
  });
  refuseLoop(consumer);
  return Object.freeze({
    redisUrl: read.value({ env: 'REDIS_URL' }, url(['redis:', 'rediss:']), 'redis://127.0.0.1:6379'),
    databaseUrl: read.value({ env: 'DATABASE_URL' }, url(['postgres:', 'postgresql:']), 'postgres://postgres@127.0.0.1:5432/postgres'),
    logLevel: read.value({ env: 'LOG_LEVEL' }, logLevel(), 'info'),
    httpPort: read.value({ flag: ['--http-port', flags.httpPort], env: 'WORKER_HTTP_PORT' }, integer(0, 65_535), 9464),
    healthMarginMs: HEALTH_MARGIN_MS,
    retentionIntervalMs: RETENTION_INTERVAL_MS,
    consumerCleanupIdleMs: cleanupIdleMs(read, flags, consumer.blockMs),
    consumer,
  });
}
