import { entryBytes, type ConsumerRef, type StreamEntry } from '@fuel-code/stream';
import type { BlockingReader } from './blocking-reader';
import type { BoundedReads } from './bounded-reads';
import type { OwnPending } from './own-pending';
import type { CallRedis } from './redis-calls';

export interface ReadNewDeps {
  consumer: ConsumerRef;
  reads: BoundedReads;
  reader: BlockingReader;
  callRedis: CallRedis;
  ownPending: OwnPending;
  signal: AbortSignal;
  batchSize: number;
  blockMs: number;
  maxBatchBytes: number;
  /** After a blocking read that came back empty (a quiet stream): see createKeepAlive. */
  onEmptyRead: () => void;
}

/**
 * The next batch of new entries, bounded by count and bytes. What is waiting is read
 * without blocking; when nothing is, a blocking read waits for one entry (an XREADGROUP
 * BLOCK hands over all it takes, so it takes one), then a bounded read takes the rest.
 */
export function createNewEntryReader(deps: ReadNewDeps): () => Promise<StreamEntry[]> {
  const { callRedis, reads } = deps;
  return async function readNew() {
    const waiting = await callRedis('reading new entries', () => reads.newEntries(deps.batchSize));
    if (waiting.lastId !== undefined || deps.signal.aborted) return waiting.entries;
    // Don't block past the moment this consumer's retries are due.
    const blockMs = deps.ownPending.blockFor(deps.blockMs, Date.now());
    const woken = await callRedis('waiting for new entries', () => deps.reader.read({ ...deps.consumer, count: 1, blockMs }));
    if (woken.length === 0) {
      deps.onEmptyRead();
      return woken;
    }
    const first = await reads.withinLimit(woken);
    // A blocked read wakes on the first XADD of a burst (an ingest request is one pipeline of
    // XADDs): one more read without BLOCK takes the rest of it into the same batch, rather
    // than leaving it to queue behind a transaction of one.
    if (woken.length >= deps.batchSize || deps.signal.aborted) return first;
    const used = first.reduce((n, e) => n + entryBytes(e), 0);
    const rest = await callRedis('reading the rest of a burst', () => reads.newEntries(deps.batchSize - woken.length, deps.maxBatchBytes - used));
    return first.concat(rest.entries);
  };
}
