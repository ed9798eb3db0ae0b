import type { OutageBreakerOptions } from './pipeline/outage-breaker';

export interface ConsumerConfig {
  stream: string;
  group: string;
  consumerName: string;
  deadLetterStream: string;
  /** XREADGROUP COUNT. */
  batchSize: number;
  /** Batches processed at the same time, each in its own transaction (1 = one after another). */
  inFlightBatches: number;
  /** XREADGROUP BLOCK. */
  blockMs: number;
  /** Entries idle longer than this in another consumer's PEL are taken over. */
  claimIdleMs: number;
  /** Processing attempts before an entry is dead-lettered with reason `failed`. */
  maxAttempts: number;
  statsIntervalMs: number;
  /** stop() gives the batch in hand this long before it returns anyway. */
  stopTimeoutMs: number;
  /**
   * A batch still in hand after this long is logged as an error, once (a long outage or a
   * hang), and its entries are no longer kept fresh: after claimIdleMs more, another consumer
   * may take them over. If this one finishes after all, its copies are duplicates.
   */
  stuckBatchMs: number;
  /** When several distinct events fail with one SQLSTATE, it is an outage (default: 3 within 10 s). */
  outageBreaker?: OutageBreakerOptions;
  /**
   * An entry larger than this (all its fields and values) is dead-lettered with reason
   * `invalid` inside Redis, its bytes never read into this process.
   */
  maxEntryBytes: number;
  /**
   * A read stops once its entries reach this many bytes, so a batch holds less than
   * maxBatchBytes + maxEntryBytes. At least maxEntryBytes.
   */
  maxBatchBytes: number;
}

export const DEFAULT_CONSUMER_CONFIG = {
  stream: 'events:incoming',
  group: 'event-processors',
  deadLetterStream: 'events:dead-letter',
  // Near the top of the throughput curve while the worker stays within its memory goal on a
  // large backlog; larger batches buy little speed for more memory, smaller ones pay each
  // batch's fixed cost more often (docs/performance.md, "Defaults chosen from these figures").
  batchSize: 500,
  // More than one batch in flight helps only while one waits on PostgreSQL; past four the
  // cores are busy anyway (docs/performance.md, same section). Each batch in flight holds one
  // transaction and up to batchSize parsed events.
  inFlightBatches: 4,
  blockMs: 5000,
  claimIdleMs: 60_000,
  maxAttempts: 3,
  statsIntervalMs: 60_000,
  stopTimeoutMs: 8000,
  stuckBatchMs: 60_000,
  maxEntryBytes: 1024 * 1024,
  // Far above a normal batch (500 events of a few hundred bytes each), so it binds only when
  // entries are large. The batches in flight then hold less than inFlightBatches ×
  // (maxBatchBytes + maxEntryBytes) of entries, each also decoded, parsed and serialized
  // again for PostgreSQL; a much larger cap breaks the memory goal (docs/reliability.md, "Bounded memory in the worker").
  maxBatchBytes: 4 * 1024 * 1024,
} as const satisfies Omit<ConsumerConfig, 'consumerName'>;
