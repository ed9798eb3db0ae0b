/**
 * The error taxonomy. Every error the pipeline raises on purpose is a FuelCodeError with
 * a stable `code`. The split that matters to callers:
 *  - PermanentError: this input is bad and will never get better (dead-letter it).
 *  - TransientError: a dependency is down or slow; the input is fine (back off, retry, never dead-letter).
 * Anything else that escapes processing is a ProcessingError: retried a bounded number of times.
 */
export type ErrorCode =
  | 'EVENT_INVALID'
  | 'DEPENDENCY_UNAVAILABLE'
  | 'PROCESSING_FAILED'
  | 'CONFIG_INVALID';

export abstract class FuelCodeError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `data.cc_session_id`; empty for the whole value. */
  field: string;
  /** The rule it broke, in words. */
  rule: string;
}

export abstract class PermanentError extends FuelCodeError {}

export class InvalidEventError extends PermanentError {
  readonly code = 'EVENT_INVALID' as const;
  constructor(readonly issues: readonly ValidationIssue[]) {
    super(
      issues.length === 0
        ? 'invalid event'
        : issues.map((i) => (i.field ? `${i.field}: ${i.rule}` : i.rule)).join('; '),
    );
  }
}

export class TransientError extends FuelCodeError {
  readonly code = 'DEPENDENCY_UNAVAILABLE' as const;
  constructor(
    readonly dependency: 'postgres' | 'redis',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${dependency} unavailable: ${message}`, options);
  }
}

export class ProcessingError extends FuelCodeError {
  readonly code = 'PROCESSING_FAILED' as const;
}

export class ConfigError extends FuelCodeError {
  readonly code = 'CONFIG_INVALID' as const;
}

/** Coerce anything thrown into an Error, keeping Errors as they are. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  try {
    return new Error(`non-error thrown: ${JSON.stringify(value)}`);
  } catch {
    return new Error(`non-error thrown: ${String(value)}`);
  }
}

export function isTransientError(err: unknown): err is TransientError {
  return err instanceof TransientError;
}
