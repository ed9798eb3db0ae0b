import type { StreamEntry } from '@fuel-code/stream';

/** An entry as read, with how many times Redis has handed it out (this time included). */
export interface Delivery {
  entry: StreamEntry;
  delivery: number;
}

/** What became of one entry: acknowledge it, or leave it pending to be read again soon. */
export type EntryOutcome = 'ack' | 'retry';

/** Stream id → outcome. An id the handler leaves out is treated as 'retry': nothing is acknowledged unsaid. */
export type EntryOutcomes = Map<string, EntryOutcome>;

/**
 * The consume loop's one port: handle a batch of entries and say, for each, whether it may
 * be acknowledged. `signal` aborts when the consumer stops: a handler waiting out an outage
 * gives up with StoppedError (the entries stay pending); one that is working finishes.
 * Rejecting with anything else is a bug: the loop ends.
 */
export type HandleEntries = (batch: readonly Delivery[], signal: AbortSignal) => Promise<EntryOutcomes>;
