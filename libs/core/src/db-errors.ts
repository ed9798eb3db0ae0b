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
 * SQLSTATEs that say nothing about the input: the server is shutting down, out of
 * connections, or two transactions collided and the work can simply run again.
 */
function isTransientSqlState(state: string): boolean {
  return (
    state.startsWith('08') || // connection exception
    state.startsWith('57P') || // admin/crash shutdown, cannot connect now
    state === '53300' || // too many connections
    state === '53000' || // insufficient resources
    state === '40001' || // serialization failure
    state === '40P01' || // deadlock detected
    state === '55P03' || // lock not available
    state === '57014' // query canceled (statement timeout)
  );
}

/** The `code` property of an error-like value (Node, driver and SQLSTATE codes), if any. */
export function errorCodeOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
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
