import type Redis from 'ioredis';
import pino, { type Logger } from 'pino';
import type { Sql } from 'postgres';
import { createSqlClient } from '@fuel-code/db';
import { createRedisConnection } from '@fuel-code/stream';
import type { WorkerConfig } from './config';

export function createRootLogger(config: Pick<WorkerConfig, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { service: 'event-worker', pid: process.pid } });
}

/** How long a command on the command connection may wait for its reply. */
export const REDIS_COMMAND_TIMEOUT_MS = 3_000;

/**
 * The command connection (XACK, XAUTOCLAIM, the dead-letter script…; the blocking read has
 * a connection of its own). While Redis is away, commands wait for the reconnect, each
 * bounded by the command timeout, and the consumer backs off and retries them itself. A
 * connection that goes silent is dropped after two commands in a row time out
 * (createRedisConnection). The timeout is generous next to a healthy round trip, as a
 * batch's reply can be large and a timed-out read is only read again.
 */
export function createRedis(config: Pick<WorkerConfig, 'redisUrl'>, logger: Logger): Redis {
  return createRedisConnection({
    url: config.redisUrl,
    logger,
    connectionName: 'fuel-code-worker',
    commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
    queueWhileDisconnected: true,
    reconnectDelayMs: (attempt) => Math.min(attempt * 200, 2000),
  });
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
