import type { FastifyHttpOptions, FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import type Redis from 'ioredis';
import { createBacklogGauge } from '@fuel-code/stream';
import { createKeyCheck } from './auth';
import { BACKLOG_READ_TIMEOUT_MS, createBacklogGuard, DEFAULT_BACKLOG_MAX_AGE_MS, DEFAULT_BACKLOG_RETRY_AFTER_SECONDS } from './backlog-guard';
import type { ApiConfig } from './config';
import { registerRateLimit } from './rate-limit';
import { registerIngestRoute } from './routes/ingest';

/** Headers must arrive well before the whole request is due: a client that sends none is cut early. */
const HEADERS_TIMEOUT_MS = 10_000;
/** How often Node checks requestTimeout/headersTimeout (its default, 30 s, would let a timeout run up to 30 s late). */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/** After this many requests a kept-alive socket is closed, so clients spread over API processes behind a balancer. */
const MAX_REQUESTS_PER_SOCKET = 1_000;

type TimeoutConfig = Pick<ApiConfig, 'requestTimeoutMs' | 'connectionTimeoutMs' | 'keepAliveTimeoutMs'>;

/**
 * Fastify's server options for the timeouts: a slow or idle client must not hold a socket (and
 * up to a body's worth of memory) for long. requestTimeout bounds receiving one whole request,
 * connectionTimeout a socket with no traffic at all, keepAliveTimeout an idle kept-alive socket.
 */
export function connectionLimits(config: TimeoutConfig): FastifyHttpOptions<Server> {
  return {
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    maxRequestsPerSocket: MAX_REQUESTS_PER_SOCKET,
    http: {
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, config.requestTimeoutMs),
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
  };
}

export interface LimitedIngestDeps {
  redis: Redis;
  config: Pick<ApiConfig, 'apiKey' | 'eventsStream' | 'consumerGroup' | 'rateLimitMax' | 'rateLimitWindowMs' | 'ingestMaxBacklog'> & {
    readonly retryAfterSeconds?: number;
    readonly backlogMaxAgeMs?: number;
    readonly backlogRetryAfterSeconds?: number;
  };
}

/**
 * The ingest route in a scope of its own, behind the rate limit (onRequest, before the route's
 * key check) and the backlog high-water mark (preHandler, after it). Other routes, health
 * above all, are outside both: probes must see the truth however busy the API is.
 */
export function registerLimitedIngestRoute(app: FastifyInstance, { redis, config }: LimitedIngestDeps): void {
  app.register(async (scope) => {
    registerRateLimit(scope, {
      max: config.rateLimitMax,
      windowMs: config.rateLimitWindowMs,
      keyMatches: createKeyCheck(config.apiKey),
    });
    const gauge = createBacklogGauge({
      redis,
      stream: config.eventsStream,
      group: config.consumerGroup,
      maxAgeMs: config.backlogMaxAgeMs ?? DEFAULT_BACKLOG_MAX_AGE_MS,
      readTimeoutMs: BACKLOG_READ_TIMEOUT_MS,
    });
    const retryAfterSeconds = config.backlogRetryAfterSeconds ?? DEFAULT_BACKLOG_RETRY_AFTER_SECONDS;
    scope.addHook('preHandler', createBacklogGuard({ gauge, maxBacklog: config.ingestMaxBacklog, retryAfterSeconds }));
    registerIngestRoute(scope, { redis, apiKey: config.apiKey, eventsStream: config.eventsStream, retryAfterSeconds: config.retryAfterSeconds });
  });
}
