#!/usr/bin/env node
import Fastify from 'fastify';

/*
 * The yardstick of `npm run bench -- --api`: a bare fastify route at the ingest path that
 * answers 202 to any JSON body, with nothing else (no logger, no auth, no Redis). Run as a
 * child process on PORT; prints `listening <port>` once it accepts connections. Fastify is
 * the same pinned version as apps/api, so the ratio measures our route, not the framework.
 */
async function main(): Promise<void> {
  const app = Fastify({ logger: false });
  app.post('/api/events/ingest', async (_request, reply) => reply.code(202).send({ ingested: 1 }));
  app.get('/api/health', async () => ({ status: 'ok' }));
  await app.listen({ port: Number(process.env['PORT'] ?? 0), host: '127.0.0.1' });
  const address = app.server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : '?'}\n`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`bare ingest server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
