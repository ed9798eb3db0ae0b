import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import { classifyDbError, TransientError } from '@fuel-code/core';
import { retryTransient, type ConsumerHandle } from '@fuel-code/consumer';
import { migrate, type MigrationReport } from '@fuel-code/db';
import { createShutdown } from '@fuel-code/runtime';
import { closeRedisConnection, createRedisConnection, REDIS_ROLES } from '@fuel-code/stream';
import { createSql } from './clients';
import type { WorkerConfig } from './config';
import { startOperations } from './operations';
import { startEventConsumer } from './wire';

/** Hard limit for shutdown: the contract promises exit within 10 s of SIGTERM. */
const SHUTDOWN_LIMIT_MS = 9500;

/** Migrations, with a database that does not answer (yet) reported as an outage to wait out. */
async function migrateOnceReachable(sql: Sql, logger: Logger): Promise<MigrationReport> {
  try {
    return await migrate({ sql, logger });
  } catch (err) {
    const classified = classifyDbError(err);
    throw classified instanceof TransientError ? classified : err;
  }
}

/** `run`: migrate, start the consumer, and stop cleanly on SIGTERM/SIGINT. */
export async function runWorker(config: WorkerConfig, logger: Logger): Promise<void> {
  const redis = createRedisConnection({ url: config.redisUrl, logger: logger.child({ component: 'redis' }), ...REDIS_ROLES.worker });
  const sql = createSql(config);
  const running: { consumer?: ConsumerHandle } = {};
  // HTTP first: a booting worker already answers /healthz ("starting"), /readyz and /metrics.
  const ops = await startOperations(config, { redis, logger, consumer: () => running.consumer });

  const shutdown = createShutdown({
    logger,
    deadlineMs: SHUTDOWN_LIMIT_MS,
    exit: (code) => process.exit(code),
    cleanMessage: 'Worker stopped',
    steps: [
      { name: 'consumer', run: () => running.consumer?.stop() },
      { name: 'http server and retention', run: () => ops.close() },
      { name: 'redis', run: () => closeRedisConnection(redis) },
      { name: 'postgres', run: () => sql.end({ timeout: 2 }) },
    ],
  });
  process.on('SIGTERM', shutdown.onSignal);
  process.on('SIGINT', shutdown.onSignal);

  // Postgres may still be starting when the container boots: wait for it, don't crash-loop.
  await retryTransient('applying migrations', () => migrateOnceReachable(sql, logger), { signal: shutdown.signal, logger });

  // A signal during migrations: the shutdown already under way must not race a new consumer.
  if (shutdown.signal.aborted) return;
  const consumer = startEventConsumer({ redis, sql, logger, config: config.consumer, observer: ops.observer });
  running.consumer = consumer;
  ops.startGroupMaintenance();
  await consumer.done;
}
