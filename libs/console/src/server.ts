import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import { toError } from '@fuel-code/core';
import { untilAborted } from '@fuel-code/runtime';
import { loadAssets } from './assets';
import { SessionStore, tokenMissingForHost } from './auth';
import type { ConsoleConfig } from './config';
import { errorPage } from './html/login-page';
import { registerAuth } from './http/auth-routes';
import { parseForm, sendPage, type ConsoleContext } from './http/context';
import { registerDeadLetterRoutes } from './http/dead-letter-routes';
import { registerOverviewRoutes } from './http/overview-routes';
import { registerSessionRoutes } from './http/session-routes';
import { startSampler } from './sampler';
import { SelectionStore } from './selections';

export interface ConsoleDeps {
  redis: Redis;
  sql: Sql;
  logger: Logger;
  config: ConsoleConfig;
}

export interface RunningConsole {
  url: string;
  port: number;
  /** Stop listening, drop open connections and the sampler; idempotent, done within about 2 s. Leaves the clients open (the caller owns them). */
  close(): Promise<void>;
}

/** A token is needed off loopback: the app checks first (exit 2); this guards every other caller. */
export class ConsoleTokenRequiredError extends Error {
  readonly code = 'CONSOLE_TOKEN_REQUIRED' as const;
  constructor(host: string) {
    super(`CONSOLE_TOKEN is required when the console listens on ${host} (not loopback)`);
    this.name = 'ConsoleTokenRequiredError';
  }
}

const SELECTION_TTL_MS = 10 * 60_000;
const CLOSE_TIMEOUT_MS = 2_000;

/** Headers on every answer: no framing, no inline script or style, nothing cached, no referrer. */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
};

function registerAssets(app: FastifyInstance): void {
  const assets = loadAssets();
  // No icon: an empty answer, so browsers stop asking and log no error.
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).header('cache-control', 'max-age=86400').send());
  app.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
    const asset = assets.get(request.params.name);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.header('etag', asset.etag).header('cache-control', 'private, max-age=3600').type(asset.contentType).send(asset.body);
  });
}

function buildApp(ctx: ConsoleContext): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 256 * 1024, requestTimeout: 30_000 });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, parseForm(String(body)));
  });
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
    reply.header('cache-control', 'no-store');
  });
  registerAuth(app, ctx);
  registerAssets(app);
  registerOverviewRoutes(app, ctx);
  registerDeadLetterRoutes(app, ctx);
  registerSessionRoutes(app, ctx);
  app.setNotFoundHandler(async (_request, reply) => sendPage(reply, errorPage('Not found', 'No such page.'), 404));
  // The message of a client library's error can hold a host or a URL: logged, never shown.
  app.setErrorHandler(async (err: unknown, request, reply) => {
    const code = typeof err === 'object' && err !== null ? (err as { statusCode?: unknown }).statusCode : undefined;
    const status = typeof code === 'number' && code >= 400 && code < 500 ? code : 503;
    ctx.logger.warn({ err: toError(err), url: request.url }, 'Console request failed');
    return sendPage(reply, errorPage('Unavailable', status === 503 ? 'Redis or PostgreSQL did not answer; nothing shown. Try again.' : 'Bad request.'), status);
  });
  return app;
}

/** Start the console's HTTP server and its status sampler. */
export async function startConsole(deps: ConsoleDeps): Promise<RunningConsole> {
  const { config } = deps;
  if (tokenMissingForHost(config.host, config.token)) throw new ConsoleTokenRequiredError(config.host);
  const logger = deps.logger.child({ component: 'console' });
  const target = { stream: config.stream, group: config.group, deadLetterStream: config.deadLetterStream };
  const sampler = startSampler({
    redis: deps.redis,
    sql: deps.sql,
    logger,
    target,
    intervalMs: config.sampleIntervalMs,
    deadConsumerIdleMs: config.deadConsumerIdleMs,
  });
  const ctx: ConsoleContext = {
    ...deps,
    logger,
    target,
    sampler,
    sessions: new SessionStore({ ttlMs: config.sessionTtlMs }),
    selections: new SelectionStore(SELECTION_TTL_MS),
  };
  const app = buildApp(ctx);
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    sampler.stop();
    await app.close().catch(() => undefined);
    throw err;
  }
  const port = (app.server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  logger.info({ url, stream: config.stream, group: config.group, tokenSet: config.token !== undefined }, `Console listening on ${url}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= (async () => {
        sampler.stop();
        const closed = app.close().catch((err: unknown) => logger.warn({ err: toError(err) }, 'Error while closing the console server'));
        await untilAborted(closed, AbortSignal.timeout(CLOSE_TIMEOUT_MS)).catch(() => undefined);
      })();
      return closing;
    },
  };
}
