import type { Logger } from 'pino';
import { isTransientDbError, toError, TransientError } from '@fuel-code/core';
import { retryTransient, type ConsumerHandle } from '@fuel-code/consumer';
import { migrate } from '@fuel-code/db';
import { closeClients, createRedis, createSql } from './clients';
import type { WorkerConfig } from './config';
import { startOperations } from './operations';
import { startEventConsumer } from './wire';

/** Hard limit for shutdown: the contract promises exit within 10 s of SIGTERM. */
const SHUTDOWN_LIMIT_MS = 9500;

/** `run`: migrate, start the consumer, and stop cleanly on SIGTERM/SIGINT. */
export async function runWorker(config: WorkerConfig, logger: Logger): Promise<void> {
  const redis = createRedis(config, logger.child({ component: 'redis' }));
  const sql = createSql(config);
  const boot = new AbortController();
  const running: { consumer?: ConsumerHandle } = {};
  let shuttingDown = false;
  // HTTP first: a booting worker already answers /healthz ("starting"), /readyz and /metrics.
  const ops = await startOperations(config, { redis, logger, consumer: () => running.consumer });

  const shutdown = async (signalName: string) => {
    if (shuttingDown) {
      logger.warn(`Second ${signalName}: exiting now`);
      process.exit(1);
    }
    shuttingDown = true;
    logger.info(`${signalName} received: shutting down`);
    const force = setTimeout(() => {
      logger.error('Shutdown took too long: exiting anyway');
      process.exit(0);
    }, SHUTDOWN_LIMIT_MS);
    force.unref();
    boot.abort();
    try {
      await running.consumer?.stop();
    } catch (err) {
      logger.error({ err: toError(err) }, 'Error while stopping the consumer');
    }
    await Promise.all([ops.close(), closeClients(redis, sql, logger)]);
    logger.info('Worker stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  // Postgres may still be starting when the container boots: wait for it, don't crash-loop.
  await retryTransient(
    'applying migrations',
    async () => {
      try {
        return await migrate({ sql, logger });
      } catch (err) {
        if (isTransientDbError(err)) throw new TransientError('postgres', toError(err).message, { cause: err });
        throw err;
      }
    },
    { signal: boot.signal, logger },
  );

  // A signal during migrations: the shutdown already under way must not race a new consumer.
  if (shuttingDown) return;
  const consumer = startEventConsumer({ redis, sql, logger, config: config.consumer, observer: ops.observer });
  running.consumer = consumer;
  ops.startGroupMaintenance();
  await consumer.done;
}
