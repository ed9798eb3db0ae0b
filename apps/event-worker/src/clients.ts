import Redis from 'ioredis';
import pino, { type Logger } from 'pino';
import type { Sql } from 'postgres';
import { createSqlClient } from '@fuel-code/db';
import type { WorkerConfig } from './config';

export function createRootLogger(config: Pick<WorkerConfig, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { service: 'event-worker', pid: process.pid } });
}

/**
 * The command connection: commands fail fast while Redis is away (the consumer backs off and
 * retries them itself) instead of queueing without bound.
 */
export function createRedis(config: Pick<WorkerConfig, 'redisUrl'>, logger: Logger): Redis {
  const redis = new Redis(config.redisUrl, {
    maxRetriesPerRequest: 1,
    connectionName: 'fuel-code-worker',
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) logger.warn({ err }, `Redis connection error: ${err.message}`);
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info('Redis connection restored');
    down = false;
  });
  return redis;
}

export function createSql(config: Pick<WorkerConfig, 'databaseUrl'>): Sql {
  // A worker frozen mid-transaction must not hold row locks other workers wait on.
  return createSqlClient({ url: config.databaseUrl, max: 10, applicationName: 'fuel-code-worker', idleInTransactionTimeoutMs: 10_000 });
}

/** Close both clients, each bounded in time; one failing does not skip the other. */
export async function closeClients(redis: Redis, sql: Sql, logger: Logger): Promise<void> {
  const results = await Promise.allSettled([
    Promise.race([redis.quit(), new Promise((r) => setTimeout(r, 1000).unref())]).finally(() => redis.disconnect()),
    sql.end({ timeout: 2 }),
  ]);
  for (const r of results) if (r.status === 'rejected') logger.warn({ err: r.reason as Error }, 'Error while closing a client');
}
