import { captureLogs, makeEvent } from '@fuel-code/testing';
import {
  classifyDbError,
  createHandlerRegistry,
  processBatch,
  ProcessingError,
  sqlStateOf,
  TransientError,
  type Db,
} from '@fuel-code/core';
import { parsed, useTestDatabase } from './helpers';

const ctx = useTestDatabase('db_errors');

/** What the driver rejects with when the server raises `code`: a real PostgresError. */
async function raised(code: string, sql: Db = ctx.db.sql): Promise<unknown> {
  try {
    await sql.unsafe(`DO $$ BEGIN RAISE EXCEPTION 'raised %', '${code}' USING ERRCODE = '${code}'; END $$`);
  } catch (err) {
    return err;
  }
  throw new Error(`expected ${code} to be raised`);
}

const OUTAGES = [
  ['25006', 'read-only (default_transaction_read_only, a standby)'],
  ['53000', 'insufficient resources'],
  ['53100', 'disk full'],
  ['53200', 'out of memory'],
  ['53300', 'too many connections'],
  ['53400', 'configuration limit exceeded'],
  ['57P01', 'admin shutdown'],
  ['57P02', 'crash shutdown'],
  ['57P03', 'cannot connect now (starting up, in recovery)'],
  ['57P04', 'database dropped'],
  ['57P05', 'idle session timeout'],
  ['58000', 'system error'],
  ['58030', 'I/O error'],
  ['58P01', 'undefined file'],
  ['58P02', 'duplicate file'],
  ['42P01', 'undefined table (a deploy half done)'],
  ['42703', 'undefined column (a deploy half done)'],
  ['08006', 'connection failure'],
  ['40001', 'serialization failure'],
  ['40P01', 'deadlock'],
  ['55P03', 'lock not available'],
  ['57014', 'query canceled'],
] as const;

test.each(OUTAGES)('SQLSTATE %s (%s) is an outage: TransientError', async (code) => {
  const err = await raised(code);
  expect(sqlStateOf(err)).toBe(code);
  expect(classifyDbError(err)).toBeInstanceOf(TransientError);
});

test.each([
  ['22P05', 'untranslatable character (a NUL in jsonb)'],
  ['23505', 'unique violation'],
  ['23514', 'check violation'],
  ['42601', 'syntax error'],
  ['P0001', 'raise_exception'],
  ['FC001', 'a code nobody knows'],
])('SQLSTATE %s (%s) is not: ProcessingError', async (code) => {
  const err = await raised(code);
  expect(classifyDbError(err)).toBeInstanceOf(ProcessingError);
  // sqlStateOf sees through the wrapper, for the outage breaker.
  expect(sqlStateOf(classifyDbError(err))).toBe(code);
});

test('the real thing, not only RAISE: a write in a read-only transaction, a missing table, a missing column', async () => {
  const readOnly = await ctx.db.sql.begin('read only', (tx) => tx`INSERT INTO devices (id) VALUES ('ro')`).catch((e: unknown) => e);
  const noTable = await ctx.db.sql`SELECT 1 FROM no_such_table`.catch((e: unknown) => e);
  const noColumn = await ctx.db.sql`SELECT no_such_column FROM events`.catch((e: unknown) => e);
  expect([readOnly, noTable, noColumn].map(sqlStateOf)).toEqual(['25006', '42P01', '42703']);
  for (const err of [readOnly, noTable, noColumn]) expect(classifyDbError(err)).toBeInstanceOf(TransientError);
});

test('socket and driver errors have no SQLSTATE', () => {
  expect(sqlStateOf(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).toBeUndefined();
  expect(sqlStateOf(Object.assign(new Error('closed'), { code: 'CONNECTION_CLOSED' }))).toBeUndefined();
  expect(sqlStateOf(new Error('plain'))).toBeUndefined();
});

/**
 * The fast path fails for a reason of its own, so the batch runs again on the isolated path,
 * where each handler runs under a savepoint and a handler's failure is normally recorded and
 * kept to that event. An outage code raised there must fail the whole batch as an outage, not
 * be recorded as that event's handler failure.
 */
test.each(['53100', '42703', '25006'])('an outage code (%s) inside a handler savepoint on the isolated path fails the batch as a TransientError', async (code) => {
  const registry = createHandlerRegistry();
  registry.register('git.push', ({ sql }) => raised(code, sql).then((err) => Promise.reject(err)), {
    batch: () => Promise.reject(new Error('a batch handler bug: run them one by one')),
  });
  const events = [makeEvent('git.push'), makeEvent('git.push')].map(parsed);
  const logs = captureLogs();

  const outcome = await processBatch(ctx.db.sql, events, registry, logs.logger).catch((e: unknown) => e);
  expect(outcome).toBeInstanceOf(TransientError);
  expect(sqlStateOf(outcome)).toBe(code);
  expect(logs.find('running its events one by one')).toHaveLength(1);
  const [row] = await ctx.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM events WHERE id = ANY(${events.map((e) => e.id)})`;
  expect(row?.n).toBe(0);
  const failures = await ctx.db.sql`SELECT 1 FROM event_handler_failures WHERE event_id = ANY(${events.map((e) => e.id)})`;
  expect(failures).toHaveLength(0);
});
