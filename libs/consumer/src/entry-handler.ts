import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import {
  EVENT_TYPES,
  InvalidEventError,
  parseEventJson,
  processEvent,
  toError,
  type FuelEvent,
  type HandlerRegistry,
  type ParseResult,
} from '@fuel-code/core';
import { deadLetter, eventField, type DeadLetter, type StreamEntry } from '@fuel-code/stream';
import type { ConsumerConfig } from './config';
import { notify, type ConsumerObserver } from './observer';
import { redisCall, retryTransient, type RetryDeps } from './retry';
import type { ConsumerCounters } from './stats';
import { StoppedError } from './stop-signal';

/** What became of one entry: acknowledge it, or leave it pending for a retry. */
export type EntryOutcome = 'ack' | 'retry';

export interface EntryHandlerDeps {
  redis: Redis;
  sql: Sql;
  registry: HandlerRegistry;
  logger: Logger;
  config: ConsumerConfig;
  counters: ConsumerCounters;
  retry: RetryDeps;
  observer?: ConsumerObserver;
}

function parseEntry(entry: StreamEntry): ParseResult {
  if (entry.deleted) {
    return { ok: false, error: new InvalidEventError([{ field: '', rule: 'entry was deleted from the stream before it was processed' }]) };
  }
  const raw = eventField(entry);
  if (raw === undefined) {
    return { ok: false, error: new InvalidEventError([{ field: 'event', rule: 'stream entry has no `event` field' }]) };
  }
  return parseEventJson(raw.toString('utf8'));
}

/** The `type` of an entry that failed validation, when it names a known type (a bounded metric label). */
function knownTypeOf(entry: StreamEntry): string | undefined {
  try {
    const parsed: unknown = JSON.parse(eventField(entry)?.toString('utf8') ?? '');
    const type: unknown = parsed && typeof parsed === 'object' ? (parsed as { type?: unknown }).type : undefined;
    return (EVENT_TYPES as readonly unknown[]).includes(type) ? (type as string) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The per-entry error taxonomy:
 *  - invalid input is dead-lettered at once (reason `invalid`) and acknowledged;
 *  - a dependency outage is waited out with backoff and never counted against the entry;
 *  - any other failure is counted (the stream's delivery counter, which survives restarts,
 *    and an in-memory map) and the entry stays pending for a retry, until `maxAttempts`,
 *    when it is dead-lettered with reason `failed` and acknowledged.
 * Throws only StoppedError (stop requested while waiting on a dependency).
 */
export function createEntryHandler(deps: EntryHandlerDeps) {
  const { config, counters } = deps;
  const attempts = new Map<string, number>();
  const log = deps.logger;

  async function writeDeadLetter(d: Omit<DeadLetter, 'consumer'>, type: string | undefined): Promise<void> {
    await retryTransient(
      'dead-letter write',
      () => redisCall(() => deadLetter(deps.redis, config.deadLetterStream, { ...d, consumer: config.consumerName })),
      deps.retry,
    );
    counters.deadLettered[d.reason]++;
    notify(deps.observer, 'onDeadLetter', log, d.reason, type);
  }

  async function processValid(entry: StreamEntry, event: FuelEvent, delivery: number): Promise<EntryOutcome> {
    const eventLog = log.child({ eventId: event.id, type: event.type, streamId: entry.id });
    /** The last attempt's time in processEvent: waiting out an outage is not processing time. */
    let attemptMs = 0;
    try {
      const result = await retryTransient(
        `processing event ${event.id}`,
        async () => {
          const started = performance.now();
          try {
            return await processEvent(deps.sql, event, deps.registry, eventLog);
          } finally {
            attemptMs = performance.now() - started;
          }
        },
        deps.retry,
      );
      attempts.delete(entry.id);
      if (result.status === 'duplicate') counters.duplicates++;
      else counters.processed++;
      notify(deps.observer, 'onEvent', log, event.type, result.status === 'duplicate' ? 'duplicate' : 'processed', attemptMs);
      counters.handlerFailures += result.handlerResults.filter((r) => r.status === 'failed').length;
      return 'ack';
    } catch (thrown) {
      if (thrown instanceof StoppedError) throw thrown;
      const err = toError(thrown);
      const attempt = Math.max(delivery, (attempts.get(entry.id) ?? 0) + 1);
      counters.errors++;
      notify(deps.observer, 'onEvent', log, event.type, 'failed', attemptMs);
      if (attempt < config.maxAttempts) {
        attempts.set(entry.id, attempt);
        eventLog.warn({ err, attempt, maxAttempts: config.maxAttempts }, `Event ${event.id} failed (attempt ${attempt} of ${config.maxAttempts}): ${err.message}`);
        return 'retry';
      }
      eventLog.error({ err, attempts: attempt }, `Event ${event.id} permanently failed after ${attempt} attempts: ${err.message}`);
      await writeDeadLetter({ event: eventField(entry), streamId: entry.id, reason: 'failed', error: err.message, attempts: attempt }, event.type);
      attempts.delete(entry.id);
      return 'ack';
    }
  }

  return {
    /** `delivery` is how many times Redis has handed this entry out, this time included. */
    async handle(entry: StreamEntry, delivery: number): Promise<EntryOutcome> {
      const parsed = parseEntry(entry);
      if (parsed.ok) return processValid(entry, parsed.event, delivery);
      log.warn({ streamId: entry.id, err: parsed.error }, `Invalid stream entry ${entry.id} dead-lettered: ${parsed.error.message}`);
      await writeDeadLetter({ event: eventField(entry), streamId: entry.id, reason: 'invalid', error: parsed.error.message, attempts: delivery }, knownTypeOf(entry));
      return 'ack';
    },
    /** Entries this process has seen fail and will retry. */
    retryingCount: () => attempts.size,
  };
}

export type EntryHandler = ReturnType<typeof createEntryHandler>;
