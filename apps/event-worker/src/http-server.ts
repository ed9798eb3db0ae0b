import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { toError } from '@fuel-code/core';
import type { Probe } from './health';

export interface HttpServerOptions {
  /** 0 picks a free port (tests); the worker never passes 0, which means "off" there. */
  port: number;
  /** Default: every interface. */
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

function send(res: ServerResponse, req: IncomingMessage, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function sendProbe(res: ServerResponse, req: IncomingMessage, probe: Probe): void {
  send(res, req, probe.ok ? 200 : 503, 'application/json; charset=utf-8', `${JSON.stringify(probe.body)}\n`);
}

/** `GET /healthz`, `GET /readyz`, `GET /metrics` on node:http. */
export async function startHttpServer(o: HttpServerOptions): Promise<WorkerHttpServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(res, req, 405, 'application/json; charset=utf-8', '{"error":"method not allowed"}\n');
      return;
    }
    switch (path) {
      case '/healthz':
        return sendProbe(res, req, o.liveness());
      case '/readyz':
        return sendProbe(res, req, await o.readiness());
      case '/metrics':
        return send(res, req, 200, o.registry.contentType, await o.registry.metrics());
      default:
        send(res, req, 404, 'application/json; charset=utf-8', '{"error":"not found","paths":["/healthz","/readyz","/metrics"]}\n');
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      o.logger.warn({ err: toError(err), url: req.url }, 'HTTP request failed');
      if (!res.headersSent) send(res, req, 500, 'application/json; charset=utf-8', '{"error":"internal error"}\n');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new Error(`cannot listen on HTTP port ${o.port}: ${err.code === 'EADDRINUSE' ? 'address already in use (set WORKER_HTTP_PORT or --http-port to another port, or 0 to turn HTTP off)' : err.message}`));
    };
    server.once('error', onError);
    server.listen(o.port, o.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => o.logger.warn({ err }, 'HTTP server error'));
  const port = (server.address() as AddressInfo).port;
  o.logger.info({ port }, `Worker HTTP server listening on port ${port} (/healthz, /readyz, /metrics)`);

  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
