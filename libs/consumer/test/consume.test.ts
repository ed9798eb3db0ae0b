import type Redis from 'ioredis';
import {
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  gitCommitEvent,
  makeEvent,
  sessionStartEvent,
  uniqueStreamKeys,
  waitFor,
  type TestDatabase,
  type TestStreamKeys,
} from '@fuel-code/testing';
import { createHandlerRegistry } from '@fuel-code/core';
import { countEvents, groupPending, publishAll, readDeadLetters, runConsumer, type RunningConsumer } from './helpers';

let db: TestDatabase;
let redis: Redis;
let keys: TestStreamKeys;
let consumer: RunningConsumer | undefined;

beforeAll(async () => {
  db = await createTestDatabase('consume');
  redis = createTestRedis();
});
beforeEach(() => {
  keys = uniqueStreamKeys('consume');
});
afterEach(async () => {
  await consumer?.stop();
  consumer = undefined;
  await deleteKeys(redis, keys);
});
afterAll(async () => {
  redis.disconnect();
  await db.drop();
});

test('a published event becomes a row in events, and its entry is acknowledged', async () => {
  consumer = runConsumer(db.sql, keys);
  const event = gitCommitEvent(null);
  await publishAll(redis, keys.stream, [event]);
  await waitFor(() => countEvents(db.sql, [event.id]), 10_000, { description: 'the event row' });
  await waitFor(async () => (await groupPending(redis, keys)) === 0, 5000, { description: 'pending 0' });
  expect(consumer.handle.counters().processed).toBe(1);
});

test('session.start becomes a sessions row', async () => {
  consumer = runConsumer(db.sql, keys);
  await publishAll(redis, keys.stream, [sessionStartEvent('consume-session-1')]);
  const row = await waitFor(async () => (await db.sql`SELECT lifecycle FROM sessions WHERE id = 'consume-session-1'`)[0], 10_000);
  expect(row['lifecycle']).toBe('detected');
});

test('a duplicate is stored once and counted as a duplicate', async () => {
  consumer = runConsumer(db.sql, keys);
  const event = gitCommitEvent(null);
  await publishAll(redis, keys.stream, [event, event, event]);
  await waitFor(() => consumer?.handle.counters().duplicates === 2, 10_000, { description: '2 duplicates' });
  expect(await countEvents(db.sql, [event.id])).toBe(1);
  expect(consumer.handle.counters().processed).toBe(1);
  expect(await groupPending(redis, keys)).toBe(0);
});

test('entries published before the consumer started are processed (group from id 0)', async () => {
  const events = [gitCommitEvent(null), gitCommitEvent(null)];
  await publishAll(redis, keys.stream, events);
  consumer = runConsumer(db.sql, keys);
  await waitFor(async () => (await countEvents(db.sql, events.map((e) => e.id))) === 2, 10_000);
});

test('a throwing handler: the event is persisted, the error logged and recorded, the entry acknowledged', async () => {
  const registry = createHandlerRegistry();
  registry.register('git.push', async () => {
    throw new Error('push handler broke');
  });
  consumer = runConsumer(db.sql, keys, { registry });
  const event = makeEvent('git.push', { data: { ref: 'main' } });
  await publishAll(redis, keys.stream, [event]);
  await waitFor(() => countEvents(db.sql, [event.id]), 10_000);
  const line = await consumer.logs.waitForLine('push handler broke');
  expect(line).toMatchObject({ eventId: event.id, type: 'git.push', level: 50 });
  const [failure] = await db.sql`SELECT error_message FROM event_handler_failures WHERE event_id = ${event.id}`;
  expect(failure?.['error_message']).toBe('push handler broke');
  await waitFor(async () => (await groupPending(redis, keys)) === 0, 5000);
  expect(await readDeadLetters(redis, keys.deadLetter)).toHaveLength(0);
});

test('log lines: Event consumer started lists the handlers; the stats line appears on its interval', async () => {
  consumer = runConsumer(db.sql, keys, { statsIntervalMs: 200 });
  const started = await consumer.logs.waitForLine('Event consumer started');
  expect(started['registeredHandlers']).toEqual(['session.end', 'session.start']);
  await publishAll(redis, keys.stream, [gitCommitEvent(null), gitCommitEvent(null)]);
  const stats = await consumer.logs.waitForLine(/^Consumer stats: 2 processed, 0 duplicates, 0 errors, 0 pending$/, 10_000);
  expect(stats.level).toBe(30);
});
