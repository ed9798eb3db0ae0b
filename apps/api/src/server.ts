import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { DEFAULT_ACCESS_LOG_SAMPLE_EVERY, SampledAccessLog } from './access-log';
import { API_CONFIG_DEFAULTS, type ApiConfig } from './config';
import { lazyChildLogger } from './lazy-logger';
import { connectionLimits, registerLimitedIngestRoute } from './limits';
import { RateLimitedError } from './rate-limit';
import { registerHealthRoute } from './routes/health';
import { BODY_LIMIT_BYTES, type ErrorResponse } from './routes/ingest';

type LimitKey =
  | 'consumerGroup'
  | 'rateLimitMax'
  | 'rateLimitWindowMs'
  | 'ingestMaxBacklog'
  | 'requestTimeoutMs'
  | 'connectionTimeoutMs'
  | 'keepAliveTimeoutMs'
  | 'maxConnections';

/** What the server needs of the configuration; tuning knobs default to production values. */
export type ServerConfig = Pick<ApiConfig, 'apiKey' | 'eventsStream'> &
  Partial<Pick<ApiConfig, LimitKey>> & {
    readonly healthTimeoutMs?: number;
    readonly retryAfterSeconds?: number;
    /** How long a backlog reading is reused (0: read it for every request). */
    readonly backlogMaxAgeMs?: number;
    readonly backlogRetryAfterSeconds?: number;
    /** Successful requests logged at info: one in this many (see SampledAccessLog). */
    readonly accessLogSampleEvery?: number;
  };

export interface ServerDeps {
  /** Owned by the caller, who also closes it (after the server). */
  redis: Redis;
  logger: Logger;
  config: ServerConfig;
}

/** Header paths that must never reach a log line, whoever logs a request. */
export const REDACTED_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'];

/**
 * The client's fault, with an answer it can act on. Parser messages are not echoed:
 * V8's JSON errors quote a slice of the body.
 */
function clientErrorMessage(err: FastifyError): { status: number; error: string } | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, error: `body must be at most ${BODY_LIMIT_BYTES} bytes` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      // The contract's answer to a body that is not JSON is 400, whatever the header says.
      return { status: 400, error: 'body must be JSON sent with Content-Type: application/json' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, error: 'body is empty; expected {"events": [...]}' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, error: 'body is not valid JSON' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, error: 'body size does not match Content-Length' };
    default:
      break;
  }
  if (err instanceof SyntaxError) return { status: 400, error: 'body is not valid JSON' };
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, error: 'bad request' };
  return undefined;
}

export function createServer(deps: ServerDeps): FastifyInstance {
  const { redis } = deps;
  const config = { ...API_CONFIG_DEFAULTS, ...deps.config };
  const logger: FastifyBaseLogger = deps.logger.child(
    { component: 'http' },
    { redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
  );
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: () => randomUUID(),
    // Per-request lines: failures always, successes sampled at info, all at debug.
    logController: new SampledAccessLog(config.accessLogSampleEvery ?? DEFAULT_ACCESS_LOG_SAMPLE_EVERY),
    // request.log makes its pino child only for a request that writes a line (LazyRequestLogger).
    childLoggerFactory: lazyChildLogger,
    // During shutdown, requests on kept-alive sockets get 503 so clients go elsewhere.
    return503OnClosing: true,
    ...connectionLimits(config),
  });
  // Past the cap, Node drops new connections on arrival: memory stays bounded (each open
  // request may buffer up to BODY_LIMIT_BYTES), and the client retries later.
  app.server.maxConnections = config.maxConnections;

  // Once closing, a request still in flight is answered with `Connection: close`: left
  // open, its kept-alive socket would hold up the shutdown until the client dropped it.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // A callback hook, not an async one: it runs for every response and has nothing to await.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  app.setErrorHandler<FastifyError>(async (err, request, reply) => {
    if (err instanceof RateLimitedError) {
      // Refused before the body was read: close, as for a 401, rather than drain what is left of it.
      return reply
        .code(429)
        .header('retry-after', String(err.retryAfterSeconds))
        .header('connection', 'close')
        .send({ error: 'too many requests for this API key or address; retry later', retry_after_seconds: err.retryAfterSeconds });
    }
    const client = clientErrorMessage(err);
    if (client) {
      // The code only: a message could carry a piece of the payload.
      request.log.info({ code: err.code, statusCode: client.status }, 'Request refused');
      return reply.code(client.status).send({ error: client.error } satisfies ErrorResponse);
    }
    request.log.error({ err }, 'Request failed');
    return reply.code(500).send({ error: 'internal error' } satisfies ErrorResponse);
  });

  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send({ error: `no route for ${request.method} ${request.url.split('?')[0] ?? ''}` } satisfies ErrorResponse),
  );

  // Health is outside the rate limit and the backlog check (see registerLimitedIngestRoute).
  registerHealthRoute(app, { redis, timeoutMs: config.healthTimeoutMs });
  registerLimitedIngestRoute(app, { redis, config });
  return app;
}
