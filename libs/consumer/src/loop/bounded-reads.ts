import type Redis from 'ioredis';
import type { Logger } from 'pino';
import {
  claimIdleBounded,
  deadLetterAndAck,
  entryBytes,
  eventField,
  oversizedEntryError,
  readNewBounded,
  readOwnPendingBounded,
  type BoundedRead,
  type OversizedEntry,
  type StreamEntry,
} from '@fuel-code/stream';
import type { ConsumerConfig } from '../config';
import { notify, type ConsumerObserver } from '../observer';
import { redisCall, retryTransient, type RetryDeps } from '../retry';
import type { ConsumerCounters } from '../stats';

export interface BoundedReadsDeps {
  redis: Redis;
  config: ConsumerConfig;
  logger: Logger;
  counters: ConsumerCounters;
  retry: RetryDeps;
  observer?: ConsumerObserver;
}

/**
 * The consumer's reads, bounded by count and bytes (see @fuel-code/stream bounded-read):
 * entries over maxEntryBytes are dead-lettered inside Redis; this counts and logs them.
 * The caller retries these calls through outages.
 */
export function createBoundedReads(deps: BoundedReadsDeps) {
  const { redis, config, counters } = deps;
  const log = deps.logger;
  const target = { stream: config.stream, group: config.group, consumer: config.consumerName, deadLetterStream: config.deadLetterStream };
  const limits = { maxEntryBytes: config.maxEntryBytes, maxBatchBytes: config.maxBatchBytes };

  function noteOversized(oversized: readonly OversizedEntry[]): void {
    for (const { id, bytes } of oversized) {
      counters.deadLettered.invalid++;
      notify(deps.observer, 'onDeadLetter', log, 'invalid', undefined);
      log.warn(
        { streamId: id, bytes, maxEntryBytes: config.maxEntryBytes },
        `Invalid stream entry ${id} dead-lettered: ${oversizedEntryError(bytes, config.maxEntryBytes)}`,
      );
    }
  }

  const noted = (read: BoundedRead): BoundedRead => {
    noteOversized(read.oversized);
    return read;
  };

  return {
    /** New entries waiting now (no blocking): at most `count`, stopping at `budgetBytes`. */
    newEntries: (count: number, budgetBytes = config.maxBatchBytes) =>
      readNewBounded(redis, target, { ...limits, maxBatchBytes: budgetBytes, count }).then(noted),

    /** This consumer's own pending entries after `afterId` ('0' for all). */
    ownPending: (afterId: string) => readOwnPendingBounded(redis, target, { ...limits, count: config.batchSize, afterId }).then(noted),

    /** Entries idle longer than claimIdleMs in any consumer of the group, claimed. */
    idle: () => claimIdleBounded(redis, target, { ...limits, count: config.batchSize, minIdleMs: config.claimIdleMs }).then(noted),

    /**
     * Entries that reached this process another way (the blocking read, one entry at a
     * time): an oversized one is dead-lettered here with its bytes, the rest returned.
     */
    async withinLimit(entries: readonly StreamEntry[]): Promise<StreamEntry[]> {
      const kept: StreamEntry[] = [];
      for (const entry of entries) {
        const bytes = entryBytes(entry);
        if (bytes <= config.maxEntryBytes) {
          kept.push(entry);
          continue;
        }
        const letter = { event: eventField(entry), streamId: entry.id, reason: 'invalid' as const, error: oversizedEntryError(bytes, config.maxEntryBytes), attempts: 1, consumer: config.consumerName };
        const id = await retryTransient('dead-letter write', () => redisCall(() => deadLetterAndAck(redis, target, letter)), deps.retry);
        if (id !== undefined) noteOversized([{ id: entry.id, bytes }]);
      }
      return kept;
    },
  };
}

export type BoundedReads = ReturnType<typeof createBoundedReads>;
