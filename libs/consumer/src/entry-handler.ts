import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import {
  InvalidEventError,
  parseEventFields,
  parseEventJson,
  processBatch,
  processEvent,
  toError,
  SightingsWriter,
  WorkspaceIdCache,
  type FuelEvent,
  type HandlerRegistry,
  type ParseResult,
  type ProcessResult,
} from '@fuel-code/core';
import { deadLetterAndAck, deadLetterBody, entryBody, type DeadLetter, type StreamEntry } from '@fuel-code/stream';
import type { ConsumerConfig } from './config';
import { notify, type ConsumerObserver, type EventOutcome } from './observer';
import { createOutageBreaker, DEFAULT_OUTAGE_BREAKER } from './outage-breaker';
import { redisCall, retryTransient, type RetryDeps } from './retry';
import type { ConsumerCounters } from './stats';
import { StoppedError } from './stop-signal';
import { createUnhandledTally } from './unhandled';

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

/** An entry as read, with how many times Redis has handed it out (this time included). */
export interface Delivery {
  entry: StreamEntry;
  delivery: number;
}

interface ValidDelivery extends Delivery {
  event: FuelEvent;
}

function parseEntry(entry: StreamEntry): ParseResult {
  if (entry.deleted) {
    return { ok: false, error: new InvalidEventError([{ field: '', rule: 'entry was deleted from the stream before it was processed' }]) };
  }
  const body = entryBody(entry);
  if (body.format === 'event') return parseEventJson(body.json.toString('utf8'));
  if (body.format === 'fields') return parseEventFields(body.fields);
  return {
    ok: false,
    error: new InvalidEventError([{ field: 'event', rule: 'stream entry has neither an `event` field nor the fields format (`id`, `type`, …)' }]),
  };
}

/**
 * The error taxonomy, per batch and per entry:
 *  - invalid input is dead-lettered at once (reason `invalid`) and acknowledged;
 *  - the valid entries are processed together (processBatch); a dependency outage is waited
 *    out with backoff and never counted against them;
 *  - if Postgres refuses the batch, its entries are processed one by one, so a poison entry
 *    fails alone: its failure is counted (the stream's delivery counter, which survives
 *    restarts, and an in-memory map) and it stays pending for a retry, until `maxAttempts`,
 *    when it is dead-lettered with reason `failed` and acknowledged.
 * Throws only StoppedError (stop requested while waiting on a dependency).
 */
export function createEntryHandler(deps: EntryHandlerDeps) {
  const { config, counters } = deps;
  const attempts = new Map<string, number>();
  const breaker = createOutageBreaker({ ...(config.outageBreaker ?? DEFAULT_OUTAGE_BREAKER), logger: deps.logger });
  const log = deps.logger;
  const workspaceIds = new WorkspaceIdCache();
  const sightings = new SightingsWriter();
  const unhandled = createUnhandledTally({ logger: log, counters, observer: deps.observer });

  async function writeDeadLetter(entry: StreamEntry, d: Omit<DeadLetter, 'consumer' | 'event' | 'streamId'>, type?: string): Promise<void> {
    const target = { stream: config.stream, group: config.group, deadLetterStream: config.deadLetterStream };
    const id = await retryTransient(
      'dead-letter write',
      () => redisCall(() => deadLetterAndAck(deps.redis, target, { ...d, ...deadLetterBody(entry), streamId: entry.id, consumer: config.consumerName })),
      deps.retry,
    );
    if (id === undefined) {
      log.info({ streamId: entry.id }, `Entry ${entry.id} was already handled by another consumer; not dead-lettered twice`);
      return;
    }
    counters.deadLettered[d.reason]++;
    notify(deps.observer, 'onDeadLetter', log, d.reason, type);
  }

  /** Count what one attempt came to, and tell the observer once per type and outcome. */
  function countResults(results: readonly ProcessResult[], durationMs: number): void {
    const tally = new Map<string, { type: string; outcome: EventOutcome; count: number }>();
    for (const result of results) {
      if (result.status === 'duplicate') counters.duplicates++;
      else counters.processed++;
      for (const handled of result.handlerResults) if (handled.status === 'failed') counters.handlerFailures++;
      if (result.status === 'processed' && result.payload !== 'valid') unhandled.record(result);
      const key = `${result.type}\u0000${result.status}`;
      const group = tally.get(key);
      if (group) group.count++;
      else tally.set(key, { type: result.type, outcome: result.status, count: 1 });
    }
    for (const { type, outcome, count } of tally.values()) notify(deps.observer, 'onEvents', log, type, outcome, count);
    unhandled.flush();
    notify(deps.observer, 'onAttempt', log, results.length, 'ok', durationMs);
  }

  function countFailedEvent(type: string, durationMs: number): void {
    notify(deps.observer, 'onEvents', log, type, 'failed', 1);
    notify(deps.observer, 'onAttempt', log, 1, 'failed', durationMs);
  }

  async function processOne({ entry, event, delivery }: ValidDelivery): Promise<EntryOutcome> {
    const eventLog = log.child({ eventId: event.id, type: event.type, streamId: entry.id });
    let started = Date.now();
    try {
      const result = await retryTransient(
        `processing event ${event.id}`,
        () => {
          started = Date.now();
          return processEvent(deps.sql, event, deps.registry, eventLog, { workspaceIds, sightings }).catch((err: unknown) => {
            throw breaker.eventFailed(event.id, err);
          });
        },
        deps.retry,
      );
      countResults([result], Date.now() - started);
      attempts.delete(entry.id);
      return 'ack';
    } catch (thrown) {
      if (thrown instanceof StoppedError) throw thrown;
      const err = toError(thrown);
      const attempt = Math.max(delivery, (attempts.get(entry.id) ?? 0) + 1);
      counters.errors++;
      countFailedEvent(event.type, Date.now() - started);
      if (attempt < config.maxAttempts) {
        attempts.set(entry.id, attempt);
        eventLog.warn({ err, attempt, maxAttempts: config.maxAttempts }, `Event ${event.id} failed (attempt ${attempt} of ${config.maxAttempts}): ${err.message}`);
        return 'retry';
      }
      eventLog.error({ err, attempts: attempt }, `Event ${event.id} permanently failed after ${attempt} attempts: ${err.message}`);
      await writeDeadLetter(entry, { reason: 'failed', error: err.message, attempts: attempt }, event.type);
      attempts.delete(entry.id);
      return 'ack';
    }
  }

  /**
   * Process valid entries as one batch. If Postgres refuses it, split it in halves and try
   * each, down to single entries: a poison entry costs log2(n) extra transactions, not n,
   * and only it is counted as failed.
   */
  async function processValid(valid: readonly ValidDelivery[], outcomes: Map<string, EntryOutcome>): Promise<void> {
    if (valid.length === 0) return;
    if (valid.length === 1 && valid[0]) {
      outcomes.set(valid[0].entry.id, await processOne(valid[0]));
      return;
    }
    const events = valid.map((v) => v.event);
    let started = Date.now();
    try {
      const results = await retryTransient(
        `processing a batch of ${events.length}`,
        () => {
          started = Date.now();
          return processBatch(deps.sql, events, deps.registry, log, { workspaceIds, sightings }).catch((err: unknown) => {
            throw breaker.batchFailed(err);
          });
        },
        deps.retry,
      );
      countResults(results, Date.now() - started);
      for (const v of valid) {
        attempts.delete(v.entry.id);
        outcomes.set(v.entry.id, 'ack');
      }
    } catch (thrown) {
      if (thrown instanceof StoppedError) throw thrown;
      // Not counted as failed events: the split below gives each its own outcome.
      notify(deps.observer, 'onAttempt', log, valid.length, 'failed', Date.now() - started);
      log.warn({ err: toError(thrown), count: valid.length }, `Batch of ${valid.length} refused; splitting it to isolate the cause`);
      const half = Math.ceil(valid.length / 2);
      await processValid(valid.slice(0, half), outcomes);
      await processValid(valid.slice(half), outcomes);
    }
  }

  return {
    /** Handle a batch of deliveries; resolves with the outcome of each entry id. */
    async handleBatch(batch: readonly Delivery[]): Promise<Map<string, EntryOutcome>> {
      const valid: ValidDelivery[] = [];
      const outcomes = new Map<string, EntryOutcome>();
      for (const { entry, delivery } of batch) {
        const parsed = parseEntry(entry);
        if (parsed.ok) {
          valid.push({ entry, delivery, event: parsed.event });
          continue;
        }
        log.warn({ streamId: entry.id, err: parsed.error }, `Invalid stream entry ${entry.id} dead-lettered: ${parsed.error.message}`);
        await writeDeadLetter(entry, { reason: 'invalid', error: parsed.error.message, attempts: delivery });
        outcomes.set(entry.id, 'ack');
      }
      await processValid(valid, outcomes);
      return outcomes;
    },
  };
}

export type EntryHandler = ReturnType<typeof createEntryHandler>;
