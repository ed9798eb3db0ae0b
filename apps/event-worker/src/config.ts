import { hostname } from 'node:os';
import { ConfigError, parseUrlFaithfully, redactUrl } from '@fuel-code/core';
import { DEFAULT_CONSUMER_CONFIG, type ConsumerConfig } from '@fuel-code/consumer';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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

export type Env = Readonly<Record<string, string | undefined>>;

/** Long enough for a big batch, a reclaim round or a short outage; short enough to catch a hung loop. */
export const HEALTH_MARGIN_MS = 30_000;
export const RETENTION_INTERVAL_MS = 60_000;
export const CONSUMER_CLEANUP_IDLE_MS = 3_600_000;

interface Source {
  /** How the user named it: `--batch-size` or `EVENTS_STREAM`. */
  name: string;
  value: string;
}

/** flag > env > default: the first source that was given. */
function pick(flag: [string, string | undefined] | undefined, env: [string, string | undefined] | undefined): Source | undefined {
  if (flag && flag[1] !== undefined) return { name: flag[0], value: flag[1] };
  if (env && env[1] !== undefined && env[1] !== '') return { name: env[0], value: env[1] };
  return undefined;
}

function integer(source: Source | undefined, fallback: number, min: number, max: number): number {
  if (!source) return fallback;
  const n = Number(source.value);
  if (!/^\d+$/.test(source.value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`Invalid ${source.name}: expected an integer from ${min} to ${max}, got "${source.value}"`);
  }
  return n;
}

function url(source: Source | undefined, fallback: string, schemes: readonly string[]): string {
  if (!source) return fallback;
  const parsed = parseUrlFaithfully(source.value);
  if (!parsed) {
    // Also a URL whose password holds an unencoded '/', '?', '#': it would parse with part
    // of the password taken for the host, port or path, and connect somewhere else.
    throw new ConfigError(
      `Invalid ${source.name}: expected a URL (${schemes.join(' or ')}) with any '/', '?', '#' or '@' in its user or password ` +
        `percent-encoded (e.g. %2F), got "${redactUrl(source.value)}"`,
    );
  }
  if (!schemes.includes(parsed.protocol)) {
    throw new ConfigError(`Invalid ${source.name}: expected a ${schemes.join(' or ')} URL, got "${parsed.protocol}"`);
  }
  return source.value;
}

function name(source: Source | undefined, fallback: string): string {
  if (!source) return fallback;
  if (!/^\S{1,200}$/.test(source.value)) {
    throw new ConfigError(`Invalid ${source.name}: expected 1 to 200 characters without spaces, got "${source.value}"`);
  }
  return source.value;
}

export function defaultConsumerName(pid: number = process.pid): string {
  return `${hostname()}-${pid}`;
}

const MIB = 1024 * 1024;

/** --max-entry-bytes and --max-batch-bytes; a batch must be able to hold the largest entry. */
function byteLimits(flags: WorkerFlags, env: Env): Pick<ConsumerConfig, 'maxEntryBytes' | 'maxBatchBytes'> {
  const d = DEFAULT_CONSUMER_CONFIG;
  const entrySource = pick(['--max-entry-bytes', flags.maxEntryBytes], ['MAX_ENTRY_BYTES', env['MAX_ENTRY_BYTES']]);
  const batchSource = pick(['--max-batch-bytes', flags.maxBatchBytes], ['MAX_BATCH_BYTES', env['MAX_BATCH_BYTES']]);
  // Redis holds at most 512 MiB in one value.
  const maxEntryBytes = integer(entrySource, d.maxEntryBytes, 1024, 512 * MIB);
  const maxBatchBytes = integer(batchSource, d.maxBatchBytes, 1024, 1024 * MIB);
  if (maxBatchBytes < maxEntryBytes) {
    throw new ConfigError(
      `Invalid ${batchSource?.name ?? 'MAX_BATCH_BYTES'}: expected at least ${entrySource?.name ?? 'MAX_ENTRY_BYTES'} (${maxEntryBytes}), got ${maxBatchBytes}`,
    );
  }
  return { maxEntryBytes, maxBatchBytes };
}

/**
 * --consumer-cleanup-idle-ms: 0 (off) or longer than a live worker can be quiet. A worker
 * says it is alive at least once per block time, so a threshold of two block times or less
 * could remove live workers (harmless, they come back on their next read, but noisy).
 */
function cleanupIdleMs(flags: WorkerFlags, env: Env, blockMs: number): number {
  const source = pick(['--consumer-cleanup-idle-ms', flags.consumerCleanupIdleMs], ['CONSUMER_CLEANUP_IDLE_MS', env['CONSUMER_CLEANUP_IDLE_MS']]);
  const ms = integer(source, CONSUMER_CLEANUP_IDLE_MS, 0, 30 * 86_400_000);
  if (ms !== 0 && ms <= 2 * blockMs) {
    throw new ConfigError(
      `Invalid ${source?.name ?? 'CONSUMER_CLEANUP_IDLE_MS'}: expected 0 (off) or more than twice --block-ms (${2 * blockMs}), got ${ms}`,
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
  const logLevelSource = pick(undefined, ['LOG_LEVEL', env['LOG_LEVEL']]);
  const logLevel = (logLevelSource?.value ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`Invalid LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got "${logLevelSource?.value}"`);
  }
  const d = DEFAULT_CONSUMER_CONFIG;
  const consumer: ConsumerConfig = Object.freeze({
    stream: name(pick(undefined, ['EVENTS_STREAM', env['EVENTS_STREAM']]), d.stream),
    group: name(pick(undefined, ['CONSUMER_GROUP', env['CONSUMER_GROUP']]), d.group),
    consumerName: name(pick(['--consumer-name', flags.consumerName], ['CONSUMER_NAME', env['CONSUMER_NAME']]), defaultConsumerName(pid)),
    deadLetterStream: name(pick(undefined, ['DEAD_LETTER_STREAM', env['DEAD_LETTER_STREAM']]), d.deadLetterStream),
    batchSize: integer(pick(['--batch-size', flags.batchSize], undefined), d.batchSize, 1, 10_000),
    inFlightBatches: integer(pick(['--in-flight-batches', flags.inFlightBatches], undefined), d.inFlightBatches, 1, 8),
    blockMs: integer(pick(['--block-ms', flags.blockMs], undefined), d.blockMs, 1, 600_000),
    claimIdleMs: integer(pick(['--claim-idle-ms', flags.claimIdleMs], undefined), d.claimIdleMs, 100, 86_400_000),
    maxAttempts: integer(pick(['--max-attempts', flags.maxAttempts], undefined), d.maxAttempts, 1, 1000),
    statsIntervalMs: integer(pick(['--stats-interval-ms', flags.statsIntervalMs], undefined), d.statsIntervalMs, 100, 86_400_000),
    stopTimeoutMs: d.stopTimeoutMs,
    stuckBatchMs: d.stuckBatchMs,
    ...byteLimits(flags, env),
  });
  refuseLoop(consumer);
  return Object.freeze({
    redisUrl: url(pick(undefined, ['REDIS_URL', env['REDIS_URL']]), 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    databaseUrl: url(
      pick(undefined, ['DATABASE_URL', env['DATABASE_URL']]),
      'postgres://postgres@127.0.0.1:5432/postgres',
      ['postgres:', 'postgresql:'],
    ),
    logLevel,
    httpPort: integer(pick(['--http-port', flags.httpPort], ['WORKER_HTTP_PORT', env['WORKER_HTTP_PORT']]), 9464, 0, 65_535),
    healthMarginMs: HEALTH_MARGIN_MS,
    retentionIntervalMs: RETENTION_INTERVAL_MS,
    consumerCleanupIdleMs: cleanupIdleMs(flags, env, consumer.blockMs),
    consumer,
  });
}
