import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { toError } from '@fuel-code/core';
import { untilAborted } from '@fuel-code/runtime';
import type { Probe } from './health';

export interface HttpServerOptions {
  /** 0 picks a free port (tests); the worker never passes 0, which means "off" there. */
  port: number;
  /** Default: every interface (IPv6 and IPv4, as Node's own default). */
  host?: string;
  logger: Logger;
  liveness: () => Probe;
  readiness: () => Promise<Probe>;
  registry: Registry;
}

export interface WorkerHttpServer {
  port: number;
  /** Stop listening and drop open connections; resolves within about a second. */
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const PATHS = ['/healthz', '/readyz', '/metrics'];

function send(reply: FastifyReply, status: number, contentType: string, body: string): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').type(contentType).send(body);
}

function sendProbe(reply: FastifyReply, probe: Probe): FastifyReply {
  return send(reply, probe.ok ? 200 : 503, JSON_TYPE, `${JSON.stringify(probe.body)}\n`);
}

/** Node's own listen: with no host it takes every interface, IPv6 when there is one, else IPv4. */
function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'address already in use (set WORKER_HTTP_PORT or --http-port to another port, or 0 to turn HTTP off)' : err.message;
      reject(new Error(`cannot listen on HTTP port ${port}: ${why}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** `GET /healthz`, `GET /readyz`, `GET /metrics` (and HEAD) on fastify, the API's HTTP stack. */
export async function startHttpServer(o: HttpServerOptions): Promise<WorkerHttpServer> {
  // Probes come every few seconds: a line per request would drown the worker's own log.
  const app = Fastify({
    loggerInstance: o.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    keepAliveTimeout: 5000,
  });
  app.get('/healthz', (_req, reply) => sendProbe(reply, o.liveness()));
  app.get('/readyz', async (_req, reply) => sendProbe(reply, await o.readiness()));
  app.get('/metrics', async (_req, reply) => send(reply, 200, o.registry.contentType, await o.registry.metrics()));
  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(reply.header('allow', 'GET, HEAD'), 405, JSON_TYPE, '{"error":"method not allowed"}\n');
    }
    return send(reply, 404, JSON_TYPE, `${JSON.stringify({ error: 'not found', paths: PATHS })}\n`);
  });
  app.setErrorHandler((err, req, reply) => {
    o.logger.warn({ err: toError(err), url: req.url }, 'HTTP request failed');
    return send(reply, 500, JSON_TYPE, '{"error":"internal error"}\n');
  });
  await app.ready();
  await listen(app.server, o.port, o.host);
  app.server.on('error', (err) => o.logger.warn({ err }, 'HTTP server error'));
  const port = (app.server.address() as AddressInfo).port;
  o.logger.info({ port }, `Worker HTTP server listening on port ${port} (/healthz, /readyz, /metrics)`);

  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= (async () => {
        const closed = app.close();
        // Probes hold kept-alive sockets: drop them rather than wait out their idle timeout.
        app.server.closeAllConnections();
        await untilAborted(closed, AbortSignal.timeout(1000)).catch(() => undefined);
      })();
      return closing;
    },
  };
}
