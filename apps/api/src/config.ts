import { ConfigError } from '@fuel-code/core';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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

/** Node's timers overflow above this (a longer delay fires at once), so no duration may exceed it. */
const MAX_TIMER_MS = 2_147_483_647;

export type Env = Readonly<Record<string, string | undefined>>;

/** An unset variable and an empty one mean the same: use the default. */
function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined) return API_CONFIG_DEFAULTS.port;
  // Number('') and Number(' 1e3 ') are numbers too; only plain digits are a port.
  if (!/^\d{1,5}$/.test(raw.trim()) || Number(raw) > 65_535) {
    throw new ConfigError(`PORT must be an integer from 0 to 65535 (0 picks a free port), got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

function parseApiKey(raw: string | undefined): string {
  if (raw === undefined) {
    throw new ConfigError('API_KEY is required: set it to the secret clients send as "Authorization: Bearer <API_KEY>"');
  }
  // The key travels as one header token: whitespace could never be matched.
  if (/\s/.test(raw)) throw new ConfigError('API_KEY must not contain whitespace');
  return raw;
}

function parseRedisUrl(raw: string | undefined): string {
  if (raw === undefined) return API_CONFIG_DEFAULTS.redisUrl;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The value is not echoed: a Redis URL may carry a password.
    throw new ConfigError('REDIS_URL must be a URL like redis://host:6379 (or rediss:// for TLS)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(`REDIS_URL must use redis:// or rediss://, got ${url.protocol}//`);
  }
  return raw;
}

/** A whole number in [min, max], written as plain digits; the message names the variable. */
function parseInteger(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function parseLogLevel(raw: string | undefined): LogLevel {
  if (raw === undefined) return API_CONFIG_DEFAULTS.logLevel;
  const level = LOG_LEVELS.find((l) => l === raw.trim().toLowerCase());
  if (!level) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}`);
  return level;
}

/**
 * The API's whole configuration, read once from the environment (main passes process.env).
 * Throws ConfigError naming the variable and what it expected.
 */
export function parseApiConfig(env: Env): ApiConfig {
  const d = API_CONFIG_DEFAULTS;
  const int = (name: string, fallback: number, min: number, max: number) => parseInteger(name, read(env, name), fallback, min, max);
  return Object.freeze({
    port: parsePort(read(env, 'PORT')),
    apiKey: parseApiKey(read(env, 'API_KEY')),
    redisUrl: parseRedisUrl(read(env, 'REDIS_URL')),
    eventsStream: read(env, 'EVENTS_STREAM')?.trim() ?? API_CONFIG_DEFAULTS.eventsStream,
    logLevel: parseLogLevel(read(env, 'LOG_LEVEL')),
    consumerGroup: read(env, 'CONSUMER_GROUP')?.trim() ?? d.consumerGroup,
    rateLimitMax: int('RATE_LIMIT_MAX', d.rateLimitMax, 1, 1_000_000_000),
    rateLimitWindowMs: int('RATE_LIMIT_WINDOW_MS', d.rateLimitWindowMs, 1_000, MAX_TIMER_MS),
    ingestMaxBacklog: int('INGEST_MAX_BACKLOG', d.ingestMaxBacklog, 1, Number.MAX_SAFE_INTEGER),
    requestTimeoutMs: int('REQUEST_TIMEOUT_MS', d.requestTimeoutMs, 1, MAX_TIMER_MS),
    connectionTimeoutMs: int('CONNECTION_TIMEOUT_MS', d.connectionTimeoutMs, 1, MAX_TIMER_MS),
    keepAliveTimeoutMs: int('KEEP_ALIVE_TIMEOUT_MS', d.keepAliveTimeoutMs, 1, MAX_TIMER_MS),
    maxConnections: int('MAX_CONNECTIONS', d.maxConnections, 1, 1_000_000),
  });
}
