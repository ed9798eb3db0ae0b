import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { ConfigError } from '@fuel-code/core';
import { createShutdown } from '@fuel-code/runtime';
import { closeRedisConnection, createRedisConnection, REDIS_ROLES, waitUntilReady } from '@fuel-code/stream';
import { parseApiConfig, type ApiConfig } from './config';
import { createServer, REDACTED_PATHS } from './server';

function loadConfigOrExit(): ApiConfig {
  try {
    return parseApiConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // stderr and exit 2, before any logger exists: this is a usage error, not an incident.
    process.stderr.write(`fuel-code api: invalid configuration: ${err.message}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = pino({
    level: config.logLevel,
    base: { service: 'fuel-code-api', pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  });
  const redis = createRedisConnection({ url: config.redisUrl, logger: logger.child({ component: 'redis' }), ...REDIS_ROLES.api });
  const app = createServer({ redis, logger, config });
  // Stop accepting and let the requests in flight finish, then release Redis.
  const shutdown = createShutdown({
    logger,
    exit: (code) => process.exit(code),
    steps: [
      { name: 'http server', run: () => app.close() },
      { name: 'redis', run: () => closeRedisConnection(redis) },
    ],
  });
  process.on('SIGTERM', shutdown.onSignal);
  process.on('SIGINT', shutdown.onSignal);
  // Without the offline queue, requests before the first connect would get 503; wait a
  // little for it, but serve anyway (health says 503) if Redis is down at boot.
  if (!(await waitUntilReady(redis, 5_000))) logger.warn('Redis is not reachable yet: serving 503 until it is');
  await app.listen({ port: config.port, host: '0.0.0.0' });
  const { port } = app.server.address() as AddressInfo;
  const { consumerGroup, rateLimitMax, rateLimitWindowMs, ingestMaxBacklog, maxConnections } = config;
  logger.info(
    { port, eventsStream: config.eventsStream, consumerGroup, rateLimitMax, rateLimitWindowMs, ingestMaxBacklog, maxConnections },
    'API listening',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`fuel-code api: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
