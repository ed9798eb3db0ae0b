import type Redis from 'ioredis';
import type { Sql } from 'postgres';
import { createSqlClient } from '@fuel-code/db';
import {
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  gitCommitEvent,
  uniqueStreamKeys,
  waitFor,
  type TestDatabase,
  type TestStreamKeys,
} from '@fuel-code/testing';
import { countEvents, groupPending, publishAll, runConsumer, type RunningConsumer } from './helpers';

/**
 * A database that refuses writes is an outage, not bad input: whatever SQLSTATE it refuses with,
 * the entries stay pending, none is dead-lettered, and all are stored once it takes writes again.
 * Each test gets a database of its own, since each breaks its database on purpose.
 */
let redis: Redis;
let keys: TestStreamKeys;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(() => {
  redis = createTestRedis();
});
beforeEach(() => {
  keys = uniqueStreamKeys('dbrefuse');
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  await deleteKeys(redis, keys);
});
afterAll(() => {
  redis.disconnect();
});

async function database(label: string): Promise<TestDatabase> {
  const db = await createTestDatabase(label);
  cleanups.push(() => db.drop());
  return db;
}

function consumerPool(db: TestDatabase): Sql {
  const sql = createSqlClient({ url: db.url, max: 3, applicationName: 'fc-refusing-test' });
  cleanups.push(() => sql.end({ timeout: 2 }));
  return sql;
}

function start(sql: Sql, overrides: Parameters<typeof runConsumer>[2] = {}): RunningConsumer {
  const consumer = runConsumer(sql, keys, { batchSize: 10, ...overrides });
  cleanups.push(() => consumer.stop());
  return consumer;
}

/** How many entries the group has been handed (acknowledged or pending), from XINFO GROUPS. */
async function entriesRead(): Promise<number> {
  const groups = (await redis.xinfo('GROUPS', keys.stream)) as unknown[][];
  for (const flat of groups) {
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), flat[i + 1]);
    if (fields.get('name') === keys.group) return Number(fields.get('entries-read'));
  }
  throw new Error(`no group ${keys.group}`);
}

/** The fault holds, the consumer has been backing off through it for a while, and has kept everything. */
async function expectHeldThroughFault(consumer: RunningConsumer, db: TestDatabase, published: number, countedAttempts = 0): Promise<void> {
  await consumer.logs.waitForLine(/^postgres unavailable during/, 15_000);
  // A reminder comes after 2 s of failed retries (runConsumer's backoff settings).
  await consumer.logs.waitForLine(/^postgres still unavailable after/, 20_000);
  expect(await countEvents(db.sql)).toBe(0);
  expect(await redis.xlen(keys.deadLetter)).toBe(0);
  // Read (as many as the batches in flight hold) but none acknowledged, and all still in the stream.
  const pending = await groupPending(redis, keys);
  expect(pending).toBeGreaterThan(0);
  expect(await entriesRead()).toBe(pending);
  expect(await redis.xlen(keys.stream)).toBe(published);
  expect(consumer.handle.counters().deadLettered).toEqual({ invalid: 0, failed: 0 });
  // A known outage code costs no entry an attempt, from the first failure on.
  expect(consumer.handle.counters().errors).toBe(countedAttempts);
}

/** A trigger `name` that refuses every insert into events with `message` and SQLSTATE `sqlstate`; DROP TRIGGER lifts it. */
async function refuseEventInserts(db: TestDatabase, name: string, message: string, sqlstate: string): Promise<void> {
  await db.sql.unsafe(`
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '${message}' USING ERRCODE = '${sqlstate}'; END $$;
    CREATE TRIGGER ${name} BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION ${name}();`);
}

async function expectAllStoredOnce(consumer: RunningConsumer, db: TestDatabase, ids: readonly string[]): Promise<void> {
  await waitFor(async () => (await countEvents(db.sql, ids)) === ids.length, 30_000, { description: `all ${ids.length} events stored` });
  await waitFor(async () => (await groupPending(redis, keys)) === 0, 10_000, { description: 'pending 0' });
  const [row] = await db.sql<{ n: number; distinct: number }[]>`SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct FROM events`;
  expect(row).toEqual({ n: ids.length, distinct: ids.length });
  expect(await redis.xlen(keys.deadLetter)).toBe(0);
  expect(consumer.handle.counters().deadLettered).toEqual({ invalid: 0, failed: 0 });
  expect(consumer.logs.find(/permanently failed/)).toEqual([]);
}

test('disk full (a trigger raising 53100 on every insert): held, nothing dead-lettered; all stored once it is lifted', async () => {
  const db = await database('diskfull');
  await refuseEventInserts(db, 'fc_disk_full', 'could not extend file: No space left on device', '53100');
  const events = Array.from({ length: 25 }, () => gitCommitEvent(null));
  await publishAll(redis, keys.stream, events);
  const consumer = start(consumerPool(db));

  await expectHeldThroughFault(consumer, db, events.length);
  await db.sql`DROP TRIGGER fc_disk_full ON events`;
  await expectAllStoredOnce(consumer, db, events.map((e) => e.id));
});

test('a dropped column the worker writes (42703, a deploy half done): held, nothing dead-lettered; all stored once it is back', async () => {
  const db = await database('dropcol');
  await db.sql`ALTER TABLE events DROP COLUMN blob_refs`;
  const events = Array.from({ length: 25 }, () => gitCommitEvent(null));
  await publishAll(redis, keys.stream, events);
  const consumer = start(consumerPool(db));

  await expectHeldThroughFault(consumer, db, events.length);
  expect(consumer.logs.find(/^postgres unavailable during/)[0]?.['err']).toMatchObject({ message: expect.stringMatching(/blob_refs/) });
  await db.sql`ALTER TABLE events ADD COLUMN blob_refs jsonb NOT NULL DEFAULT '[]'::jsonb`;
  await expectAllStoredOnce(consumer, db, events.map((e) => e.id));
});

test('read-only (default_transaction_read_only, 25006): held, nothing dead-lettered; all stored once it is lifted', async () => {
  const db = await database('readonly');
  const admin = createSqlClient({ url: db.url.replace(`/${db.name}`, '/postgres'), max: 1 });
  cleanups.push(() => admin.end({ timeout: 2 }));
  const sql = consumerPool(db);
  const consumer = start(sql);
  await consumer.logs.waitForLine('Event consumer started');

  // New sessions of this database are read-only; the open ones are ended, so none is left writable.
  await admin.unsafe(`ALTER DATABASE "${db.name}" SET default_transaction_read_only = on`);
  await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${db.name}`;
  const events = Array.from({ length: 25 }, () => gitCommitEvent(null));
  await publishAll(redis, keys.stream, events);

  await expectHeldThroughFault(consumer, db, events.length);
  // Lifted for new sessions only: the consumer's read-only sessions must be replaced to write again.
  await admin.unsafe(`ALTER DATABASE "${db.name}" RESET default_transaction_read_only`);
  await expectAllStoredOnce(consumer, db, events.map((e) => e.id));
});

test('the breaker: an unknown SQLSTATE failing several distinct events is an outage; held, then all stored', async () => {
  const db = await database('breaker');
  await refuseEventInserts(db, 'fc_refuse', 'storage quota exceeded (provider specific)', 'FC001');
  const events = Array.from({ length: 10 }, () => gitCommitEvent(null));
  await publishAll(redis, keys.stream, events);
  const consumer = start(consumerPool(db), { maxAttempts: 3, outageBreaker: { distinctEvents: 3, windowMs: 2000 } });

  const tripped = await consumer.logs.waitForLine('Outage breaker tripped', 15_000);
  expect(tripped).toMatchObject({ sqlstate: 'FC001', level: 40 });
  // Only the two events that failed before it tripped were counted an attempt; none reached the limit.
  await expectHeldThroughFault(consumer, db, events.length, 2);

  await db.sql`DROP TRIGGER fc_refuse ON events`;
  await expectAllStoredOnce(consumer, db, events.map((e) => e.id));
  await consumer.logs.waitForLine('Outage breaker reset', 10_000);
});
