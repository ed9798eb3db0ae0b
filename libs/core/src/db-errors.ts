import { ProcessingError, TransientError, toError } from './errors';

/** Node socket errors that mean "could not reach or lost the server". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/** postgres.js's own codes for a connection that is gone or never came. */
const DRIVER_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/**
 * SQLSTATEs that say nothing about the input: the server cannot take writes now (read-only,
 * in recovery, out of disk or memory or connections, shut down by an operator, failing
 * underneath), the schema is half deployed, or two transactions collided and the work can
 * simply run again. Each is waited out with backoff and never costs the entry an attempt:
 * dead-lettering on these would throw away good events for as long as the outage lasts.
 */
const TRANSIENT_SQLSTATES = new Set([
  '25006', // read_only_sql_transaction: default_transaction_read_only, or a hot standby (recovery)
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57014', // query_canceled (statement timeout)
  '42P01', // undefined_table: a deploy is half done (migrations behind the code, or a table dropped)
  '42703', // undefined_column: likewise
]);

/** SQLSTATE classes transient as a whole. */
const TRANSIENT_SQLSTATE_PREFIXES = [
  '08', // connection exception
  '53', // insufficient resources: disk full, out of memory, too many connections, configuration limit
  '57P', // operator intervention: admin/crash shutdown, cannot connect now (starting, in recovery), database dropped, idle session timeout
  '58', // system error: I/O error, undefined or duplicate file
];

function isTransientSqlState(state: string): boolean {
  return TRANSIENT_SQLSTATES.has(state) || TRANSIENT_SQLSTATE_PREFIXES.some((prefix) => state.startsWith(prefix));
}

/** The `code` property of an error-like value (Node, driver and SQLSTATE codes), if any. */
export function errorCodeOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

const SQLSTATE_PATTERN = /^[0-9A-Z]{5}$/;

/**
 * The SQLSTATE Postgres answered with, looking through `cause` (classifyDbError wraps the
 * driver's error). Undefined for anything that is not a server error (a socket or driver code).
 */
export function sqlStateOf(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = errorCodeOf(current);
    if (current instanceof Error && current.name === 'PostgresError' && code && SQLSTATE_PATTERN.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isTransientDbError(err: unknown): boolean {
  if (err instanceof TransientError) return true;
  const code = errorCodeOf(err);
  if (code === undefined) return false;
  return NETWORK_CODES.has(code) || DRIVER_CODES.has(code) || isTransientSqlState(code);
}

/** Map an error from a database call to the taxonomy: TransientError or ProcessingError. */
export function classifyDbError(err: unknown): TransientError | ProcessingError {
  if (err instanceof TransientError || err instanceof ProcessingError) return err;
  const e = toError(err);
  if (isTransientDbError(err)) return new TransientError('postgres', e.message, { cause: err });
  return new ProcessingError(e.message, { cause: err });
}
