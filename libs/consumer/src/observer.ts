import { toError } from '@fuel-code/core';
import type { DeadLetterReason } from '@fuel-code/stream';
import type { Logger } from 'pino';

/** What one processing attempt of a valid event came to. */
export type EventOutcome = 'processed' | 'duplicate' | 'failed';

/** Why a stored event ran no handler: a type this build does not know, or a payload that fails its type's schema. */
export type UnhandledKind = 'unknown-type' | 'payload-invalid';

/** Whether a processing attempt (a batch, or one event after a split) committed. */
export type AttemptOutcome = 'ok' | 'failed';

/** Where a batch came from: a new read, a re-read of the consumer's own pending entries, or a claim. */
export type BatchOrigin = 'new' | 'own-pending' | 'claimed';

/**
 * Optional hooks for metrics. Every method is optional; a throw from one is logged and
 * ignored, so an observer can never break the consume loop. Outcomes come per attempt and
 * type, never a call per event: prom-client hashes the labels on every call, and at the
 * worker's rate a call per event costs a visible share of the throughput (docs/performance.md,
 * "Metrics per batch, not per event").
 */
export interface ConsumerObserver {
  /**
   * `count` valid events of one type came to one outcome in one processing attempt.
   * `failed` is an attempt that will be retried or, at the last attempt, dead-lettered.
   */
  onEvents?(type: string, outcome: EventOutcome, count: number): void;
  /**
   * One processing attempt of `size` valid events finished: `durationMs` is its time in
   * PostgreSQL (not time spent waiting out an outage).
   */
  onAttempt?(size: number, outcome: AttemptOutcome, durationMs: number): void;
  /** An entry was written to the dead-letter stream; `type` when the entry parsed that far. */
  onDeadLetter?(reason: DeadLetterReason, type: string | undefined): void;
  /** `count` new events of `type` were stored without running a handler, for `kind`. */
  onUnhandled?(kind: UnhandledKind, type: string, count: number): void;
  /** A non-empty batch is about to be handled. */
  onBatch?(size: number, origin: BatchOrigin): void;
}

/** Call one observer hook, never letting it throw into the loop. */
export function notify<K extends keyof ConsumerObserver>(
  observer: ConsumerObserver | undefined,
  hook: K,
  logger: Logger,
  ...args: Parameters<NonNullable<ConsumerObserver[K]>>
): void {
  const fn = observer?.[hook] as ((...a: unknown[]) => void) | undefined;
  if (!fn) return;
  try {
    fn.apply(observer, args);
  } catch (err) {
    logger.debug({ err: toError(err), hook }, 'Consumer observer threw; ignored');
  }
}
