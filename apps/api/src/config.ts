import { configReader, durationMs, integer, logLevel, name, secretToken, url, type Env, type LogLevel } from '@fuel-code/runtime';

export type { Env, LogLevel } from '@fuel-code/runtime';

export interface ApiConfig {
  readonly port: number;
  readonly apiKey: string;
  readonly redisUrl: string;
  readonly eventsStream: string;
  readonly logLevel: LogLevel;
  /** The worker's consumer group, whose backlog is the API's high-water mark. */
  readonly consumerGroup: string;
  /** Requests per window per API key (per client IP without a valid key). */
  readonly rateLimitMax: number;
  readonly rateLimitWindowMs: number;
  /** At this many entries still to be processed by the group, ingest answers 503. */
  readonly ingestMaxBacklog: number;
  /** Time to receive a whole request, headers and body. */
  readonly requestTimeoutMs: number;
  /** A socket with no activity for this long is closed. */
  readonly connectionTimeoutMs: number;
  /** An idle kept-alive socket is closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** Connections beyond this many open ones are dropped on arrival. */
  readonly maxConnections: number;
}

export const API_CONFIG_DEFAULTS = Object.freeze({
  port: 3000,
  redisUrl: 'redis://127.0.0.1:6379',
  eventsStream: 'events:incoming',
  logLevel: 'info' as LogLevel,
  consumerGroup: 'event-processors',
  rateLimitMax: 600,
  rateLimitWindowMs: 60_000,
  ingestMaxBacklog: 1_000_000,
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 256,
});

/**
 * The API's whole configuration, read once from the environment (main passes process.env).
 * Throws ConfigError naming the variable and what it expected.
 */
export function parseApiConfig(env: Env): ApiConfig {
  const d = API_CONFIG_DEFAULTS;
  const read = configReader(env);
  return Object.freeze({
    port: read.value({ env: 'PORT' }, integer(0, 65_535), d.port),
    apiKey: read.required({ env: 'API_KEY' }, secretToken(), 'set it to the secret clients send as "Authorization: Bearer <API_KEY>"'),
    redisUrl: read.value({ env: 'REDIS_URL' }, url(['redis:', 'rediss:']), d.redisUrl),
    eventsStream: read.value({ env: 'EVENTS_STREAM' }, name(), d.eventsStream),
    logLevel: read.value({ env: 'LOG_LEVEL' }, logLevel(), d.logLevel),
    consumerGroup: read.value({ env: 'CONSUMER_GROUP' }, name(), d.consumerGroup),
    rateLimitMax: read.value({ env: 'RATE_LIMIT_MAX' }, integer(1, 1_000_000_000), d.rateLimitMax),
    rateLimitWindowMs: read.value({ env: 'RATE_LIMIT_WINDOW_MS' }, durationMs(1_000), d.rateLimitWindowMs),
    ingestMaxBacklog: read.value({ env: 'INGEST_MAX_BACKLOG' }, integer(1, Number.MAX_SAFE_INTEGER), d.ingestMaxBacklog),
    requestTimeoutMs: read.value({ env: 'REQUEST_TIMEOUT_MS' }, durationMs(1), d.requestTimeoutMs),
    connectionTimeoutMs: read.value({ env: 'CONNECTION_TIMEOUT_MS' }, durationMs(1), d.connectionTimeoutMs),
    keepAliveTimeoutMs: read.value({ env: 'KEEP_ALIVE_TIMEOUT_MS' }, durationMs(1), d.keepAliveTimeoutMs),
    maxConnections: read.value({ env: 'MAX_CONNECTIONS' }, integer(1, 1_000_000), d.maxConnections),
  });
}
