import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { deadLetterAndAck, deadLetterBody, type DeadLetter, type StreamEntry } from '@fuel-code/stream';
import type { ConsumerConfig } from '../config';
import type { EntryOutcomes } from '../port';
import { notify, type ConsumerObserver } from '../observer';
import { redisCall, retryTransient, type BackoffOptions } from '../retry';
import type { ConsumerCounters } from '../stats';
import { AttemptsExhaustedError } from './attempts';
import { onlyDelivery, onRefusal, type HandleEvents, type Middleware } from './types';

export interface DeadLettersDeps {
  redis: Redis;
  config: Pick<ConsumerConfig, 'stream' | 'group' | 'deadLetterStream' | 'consumerName'>;
  counters: ConsumerCounters;
  logger: Logger;
  backoff?: BackoffOptions;
  observer?: ConsumerObserver;
}

/** What the caller says about a dead letter; the entry's bytes, id and consumer are filled in. */
export type LetterDetails = Pick<DeadLetter, 'reason' | 'error' | 'attempts'>;

/**
 * Writing dead letters: atomically with the entry's XACK, and only while it is still pending
 * (see deadLetterAndAck), retried through Redis outages; counted and told to the observer.
 */
export function createDeadLetters(deps: DeadLettersDeps) {
  const { config } = deps;
  const target = { stream: config.stream, group: config.group, deadLetterStream: config.deadLetterStream };
  return async function writeDeadLetter(entry: StreamEntry, details: LetterDetails, type: string | undefined, signal: AbortSignal): Promise<void> {
    const letter = { ...details, ...deadLetterBody(entry), streamId: entry.id, consumer: config.consumerName };
    const retry = { signal, logger: deps.logger, ...(deps.backoff ? { backoff: deps.backoff } : {}) };
    const id = await retryTransient('dead-letter write', () => redisCall(() => deadLetterAndAck(deps.redis, target, letter)), retry);
    if (id === undefined) {
      deps.logger.info({ streamId: entry.id }, `Entry ${entry.id} was already handled by another consumer; not dead-lettered twice`);
      return;
    }
    deps.counters.deadLettered[details.reason]++;
    notify(deps.observer, 'onDeadLetter', deps.logger, details.reason, type);
  };
}

export type WriteDeadLetter = ReturnType<typeof createDeadLetters>;

/**
 * The poison wrapper: an event that used up its attempts (AttemptsExhaustedError) is
 * dead-lettered with reason `failed` and acknowledged, so it no longer holds up the stream.
 */
export function deadLetterExhausted(writeDeadLetter: WriteDeadLetter): Middleware<HandleEvents> {
  return onRefusal<EntryOutcomes>(async (thrown, batch, signal) => {
    const only = onlyDelivery(batch);
    if (!only || !(thrown instanceof AttemptsExhaustedError)) throw thrown;
    await writeDeadLetter(only.entry, { reason: 'failed', error: thrown.error.message, attempts: thrown.attempts }, only.event.type, signal);
    return new Map([[only.entry.id, 'ack' as const]]);
  });
}
