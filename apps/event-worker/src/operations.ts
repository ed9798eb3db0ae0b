import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import { toError } from '@fuel-code/core';
import { startGroupCleanup, type ConsumerHandle, type ConsumerObserver, type GroupCleanup } from '@fuel-code/consumer';
import { createSqlClient } from '@fuel-code/db';
import { unansweredSince } from '@fuel-code/stream';
import type { WorkerConfig } from './config';
import { liveness, readiness } from './health';
import { startHttpServer, type WorkerHttpServer } from './http-server';
import { createWorkerMetrics, type WorkerMetrics } from './metrics';
import { startRetention, type Retention } from './retention';

export interface OperationsDeps {
  redis: Redis;
  logger: Logger;
  /** The running consumer, once there is one. */
  consumer: () => ConsumerHandle | undefined;
}

export interface Operations {
  metrics: WorkerMetrics;
  /** Hand to startConsumer. */
  observer: ConsumerObserver;
  /** The HTTP server, when WORKER_HTTP_PORT is not 0. */
  http: WorkerHttpServer | undefined;
  /** Start stream retention and group cleanup (call once the consumer group exists and the loop runs). */
  startGroupMaintenance(): void;
  /** Stop retention and group cleanup, close the HTTP server and its probe connection; bounded in time. */
  close(): Promise<void>;
}

/**
 * What an operator sees of a running worker: the HTTP server (/healthz, /readyz, /metrics)
 * started before migrations, so a booting worker already answers (healthz: "starting"), and
 * stream retention on an interval.
 */
export async function startOperations(config: WorkerConfig, deps: OperationsDeps): Promise<Operations> {
  const { consumer } = config;
  const metrics = createWorkerMetrics({
    redis: deps.redis,
    stream: consumer.stream,
    group: consumer.group,
    deadLetterStream: consumer.deadLetterStream,
    logger: deps.logger.child({ component: 'metrics' }),
  });
  let probeSql: Sql | undefined;
  let http: WorkerHttpServer | undefined;
  if (config.httpPort !== 0) {
    // Probes get a pool of their own: they never queue behind, nor starve, the consumer's queries.
    probeSql = createSqlClient({ url: config.databaseUrl, max: 1, connectTimeoutSeconds: 2, applicationName: 'fuel-code-worker-probe' });
    try {
      http = await startHttpServer({
        port: config.httpPort,
        logger: deps.logger.child({ component: 'http' }),
        registry: metrics.registry,
        liveness: () =>
          liveness({
            health: () => deps.consumer()?.health(),
            lastActivityAt: metrics.lastActivityAt,
            staleAfterMs: consumer.blockMs + config.healthMarginMs,
            redisUnansweredSince: () => unansweredSince(deps.redis),
          }),
        readiness: readiness({ redis: deps.redis, sql: probeSql }),
      });
    } catch (err) {
      await probeSql.end({ timeout: 1 }).catch(() => undefined);
      throw err;
    }
  }

  let retention: Retention | undefined;
  let cleanup: GroupCleanup | undefined;
  return {
    metrics,
    observer: metrics.observer,
    http,
    startGroupMaintenance() {
      retention ??= startRetention({
        redis: deps.redis,
        stream: consumer.stream,
        intervalMs: config.retentionIntervalMs,
        logger: deps.logger.child({ component: 'retention' }),
        onTrim: metrics.recordTrim,
      });
      cleanup ??= startGroupCleanup({
        redis: deps.redis,
        logger: deps.logger,
        stream: consumer.stream,
        group: consumer.group,
        self: consumer.consumerName,
        idleMs: config.consumerCleanupIdleMs,
        onRemoved: () => metrics.recordConsumerRemoved(),
      });
    },
    async close() {
      retention?.stop();
      const results = await Promise.allSettled([cleanup?.stop(), http?.close(), probeSql?.end({ timeout: 1 })]);
      for (const r of results) {
        if (r.status === 'rejected') deps.logger.warn({ err: toError(r.reason) }, 'Error while closing the HTTP server');
      }
    },
  };
}
