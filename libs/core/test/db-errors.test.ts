import { captureLogs, sessionStartEvent } from '@fuel-code/testing';
import {
  classifyDbError,
  createDefaultRegistry,
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
 * be recorded as a handler failure. A trigger on the session handler's table fails its first
 * call with a code that is no outage, and every later one with the outage code (a sequence
 * counts the calls: it is not rolled back with the fast path's transaction).
 */
test.each(['53100', '42703', '25006'])('an outage code (%s) inside a handler savepoint on the isolated path fails the batch as a TransientError', async (code) => {
  const name = `fc_outage_${code.toLowerCase()}`;
  await ctx.db.sql.unsafe(`
    CREATE SEQUENCE ${name}_calls;
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF nextval('${name}_calls') = 1 THEN RAISE EXCEPTION 'first call: no outage' USING ERRCODE = 'FC001'; END IF;
      RAISE EXCEPTION 'then an outage' USING ERRCODE = '${code}';
    END $$;
    CREATE TRIGGER ${name} BEFORE INSERT OR UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION ${name}();`);
  try {
    const events = [sessionStartEvent(`s-${name}-1`), sessionStartEvent(`s-${name}-2`)].map(parsed);
    const outcome = await processBatch(ctx.db.sql, events, createDefaultRegistry(), captureLogs().logger).catch((e: unknown) => e);

    expect(outcome).toBeInstanceOf(TransientError);
    expect(sqlStateOf(outcome)).toBe(code);
    const [calls] = await ctx.db.sql.unsafe<{ n: string }[]>(`SELECT last_value::text AS n FROM ${name}_calls`);
    expect(Number(calls?.n)).toBeGreaterThanOrEqual(2); // the isolated path ran
    const ids = events.map((e) => e.id);
    const [row] = await ctx.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM events WHERE id = ANY(${ids})`;
    expect(row?.n).toBe(0);
    expect(await ctx.db.sql`SELECT 1 FROM event_handler_failures WHERE event_id = ANY(${ids})`).toHaveLength(0);
  } finally {
    await ctx.db.sql.unsafe(`DROP TRIGGER ${name} ON sessions; DROP FUNCTION ${name}(); DROP SEQUENCE ${name}_calls;`);
  }
});
