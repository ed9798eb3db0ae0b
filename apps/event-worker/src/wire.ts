import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import { createDefaultRegistry, InFlightSessions, processBatch, processEvent, SightingsWriter, WorkspaceIdCache, type HandlerRegistry } from '@fuel-code/core';
import {
  ackStored,
  bisectRefused,
  breakOutages,
  createCounters,
  createDeadLetters,
  createOutageBreaker,
  deadLetterExhausted,
  DEFAULT_OUTAGE_BREAKER,
  limitAttempts,
  measureAttempts,
  parseEntries,
  retryOutages,
  startConsumer,
  wrap,
  type BackoffOptions,
  type ConsumerConfig,
  type ConsumerHandle,
  type ConsumerObserver,
  type StoreEvents,
} from '@fuel-code/consumer';

export interface EventConsumerDeps {
  redis: Redis;
  sql: Sql;
  logger: Logger;
  config: ConsumerConfig;
  /** The handlers to run; the default registry when absent. */
  registry?: HandlerRegistry;
  backoff?: BackoffOptions;
  observer?: ConsumerObserver;
}

/** The innermost step: one transaction per batch in PostgreSQL (core's processBatch), a lone event through processEvent. */
function storeInPostgres(sql: Sql, registry: HandlerRegistry, logger: Logger): StoreEvents {
  const workspaceIds = new WorkspaceIdCache();
  // One per consumer: sightings of batches that commit while a write runs go in the next one.
  const sightings = new SightingsWriter();
  // One per consumer: a batch's git links are guessed with the sessions of batches not committed yet.
  const inFlightSessions = new InFlightSessions();
  const options = { workspaceIds, sightings, inFlightSessions };
  return async (batch) => {
    const only = batch.length === 1 ? batch[0] : undefined;
    if (!only) return processBatch(sql, batch.map((d) => d.event), registry, logger, options);
    const eventLog = logger.child({ eventId: only.event.id, type: only.event.type, streamId: only.entry.id });
    return [await processEvent(sql, only.event, registry, eventLog, options)];
  };
}

/**
 * The worker's consumer: the consume loop, handing its entries to the event pipeline
 * parse → store in PostgreSQL → policies. Each wrapper is listed innermost first.
 */
export function startEventConsumer(deps: EventConsumerDeps): ConsumerHandle {
  const { redis, config, observer } = deps;
  const registry = deps.registry ?? createDefaultRegistry();
  const logger = deps.logger.child({ component: 'consumer', consumer: config.consumerName });
  const backoff = deps.backoff ? { backoff: deps.backoff } : {};
  const counters = createCounters();
  const writeDeadLetter = createDeadLetters({ redis, config, counters, logger, ...backoff, ...(observer ? { observer } : {}) });
  const breaker = createOutageBreaker({ ...(config.outageBreaker ?? DEFAULT_OUTAGE_BREAKER), logger });
  const store = wrap(
    storeInPostgres(deps.sql, registry, logger),
    breakOutages(breaker), // a SQLSTATE failing many events is an outage...
    measureAttempts({ counters, logger, observer }), // ...not a failed attempt...
    retryOutages({ logger, ...backoff }), // ...and is waited out.
  );
  const handleEvents = wrap(
    ackStored(store),
    limitAttempts({ maxAttempts: config.maxAttempts, logger }), // a refused event is retried, up to maxAttempts...
    deadLetterExhausted(writeDeadLetter), // ...then dead-lettered as failed;
    bisectRefused({ logger }), // a refused batch is split to find the event at fault.
  );
  const handle = parseEntries({ writeDeadLetter, logger })(handleEvents);
  return startConsumer({
    redis,
    handle,
    logger: deps.logger,
    config,
    counters,
    ...backoff,
    ...(observer ? { observer } : {}),
    startedLogFields: { registeredHandlers: registry.listRegisteredTypes() },
  });
}
