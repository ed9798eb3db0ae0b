/**
 * The error taxonomy, and the one place that says which errors are transient. Every error the
 * pipeline raises on purpose has a stable `code` (logged as `err.code`; see docs/operations.md,
 * "Error codes"). Only the first three decide what happens to an event:
 *
 * Transient (the input is fine; wait, never spend an attempt, never dead-letter):
 *  - DEPENDENCY_UNAVAILABLE (TransientError): Redis or PostgreSQL is down or refusing writes.
 *    classifyDbError (db-errors.ts) maps socket, driver and outage SQLSTATEs here; the consumer's
 *    outage breaker also maps a SQLSTATE failing many distinct events here. The worker backs off
 *    (retryTransient) until it answers or the worker stops; the API answers 503.
 *  - READ_WATCHDOG_TIMEOUT (consumer): a blocking read went silent; its connection is replaced
 *    and the read backed off like any Redis outage.
 *
 * Permanent (this input will never get better):
 *  - EVENT_INVALID (InvalidEventError, the one PermanentError): the worker dead-letters the entry
 *    at once with reason `invalid` and acks it; the API answers 400.
 *  - PROCESSING_FAILED (ProcessingError): a refusal that is not an outage (a bad value, a
 *    constraint). Not permanent at first sight: the refused batch is split down to the one event
 *    that fails, which is retried until --max-attempts; then ATTEMPTS_EXHAUSTED (consumer) and a
 *    dead letter with reason `failed`. Anything else thrown while storing takes the same path.
 *
 * Neither (they end a process or a wait, and no event is lost): CONFIG_INVALID (exit 2),
 * MIGRATION_FAILED (libs/db; the worker does not start), CONSUMER_STOPPING (a wait cut short by
 * stop: the entries stay pending for the next reader), WAIT_ABORTED (libs/runtime), and those
 * of the apps and tools (RATE_LIMITED: 429, BACKLOG_READ_TIMEOUT, CONSOLE_TOKEN_REQUIRED,
 * USAGE_INVALID, COMMAND_FAILED). docs/adr/009-outage-versus-poison.md says why.
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
