import pino, { type Logger } from 'pino';
import type { Sql } from 'postgres';
import { createSqlClient } from '@fuel-code/db';
import type { WorkerConfig } from './config';

export function createRootLogger(config: Pick<WorkerConfig, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { service: 'event-worker', pid: process.pid } });
}

export function createSql(config: Pick<WorkerConfig, 'databaseUrl'>): Sql {
  // A worker frozen mid-transaction must not hold row locks other workers wait on.
  return createSqlClient({ url: config.databaseUrl, max: 10, applicationName: 'fuel-code-worker', idleInTransactionTimeoutMs: 10_000 });
}
