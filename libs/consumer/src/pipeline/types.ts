import type { FuelEvent, ProcessResult } from '@fuel-code/core';
import type { Delivery, EntryOutcomes } from '../port';

/** A delivery whose entry parsed into a valid event. */
export interface EventDelivery extends Delivery {
  event: FuelEvent;
}

/**
 * One attempt to store a batch of events: resolves with each one's result, or rejects when
 * the store refuses the batch. The innermost step of the pipeline (the app's PostgreSQL
 * write), and what the outage and metrics wrappers wrap.
 */
export type StoreEvents = (batch: readonly EventDelivery[], signal: AbortSignal) => Promise<ProcessResult[]>;

/** Valid events in, an outcome per entry out; rejects when the batch is refused (the policies decide what that means). */
export type HandleEvents = (batch: readonly EventDelivery[], signal: AbortSignal) => Promise<EntryOutcomes>;

/** A wrapper that adds one concern to a step and keeps its shape. */
export type Middleware<S> = (next: S) => S;

/** The delivery of a batch of one; undefined for a larger batch (the policies act on single events). */
export function onlyDelivery(batch: readonly EventDelivery[]): EventDelivery | undefined {
  return batch.length === 1 ? batch[0] : undefined;
}

/**
 * A wrapper that runs the step and hands its rejection to `onRefused`, which answers for the
 * batch with an outcome or throws (the same error or the one that replaces it).
 */
export function onRefusal<R>(
  onRefused: (thrown: unknown, batch: readonly EventDelivery[], signal: AbortSignal) => Promise<R>,
): Middleware<(batch: readonly EventDelivery[], signal: AbortSignal) => Promise<R>> {
  return (next) => async (batch, signal) => {
    try {
      return await next(batch, signal);
    } catch (thrown) {
      return onRefused(thrown, batch, signal);
    }
  };
}

/** Apply wrappers to `inner`, the first listed innermost. */
export function wrap<S>(inner: S, ...wrappers: readonly Middleware<S>[]): S {
  return wrappers.reduce((step, w) => w(step), inner);
}

/** A stored batch: every entry acknowledged. The step between the store attempt and the policies. */
export function ackStored(store: StoreEvents): HandleEvents {
  return async (batch, signal) => {
    await store(batch, signal);
    return new Map(batch.map((d) => [d.entry.id, 'ack' as const]));
  };
}

/** `[first event id]` or `a batch of n`: how the log lines name a batch. */
export function describeBatch(batch: readonly EventDelivery[]): string {
  return batch.length === 1 && batch[0] ? `processing event ${batch[0].event.id}` : `processing a batch of ${batch.length}`;
}
