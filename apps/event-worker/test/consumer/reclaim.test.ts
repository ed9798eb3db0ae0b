import type Redis from 'ioredis';
import {
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  gitCommitEvent,
  makeEvent,
  uniqueStreamKeys,
  waitFor,
  type TestDatabase,
  type TestStreamKeys,
} from '@fuel-code/testing';
import { createHandlerRegistry } from '@fuel-code/core';
import { countEvents, groupPending, publishAll, runConsumer, type RunningConsumer } from './helpers';

let db: TestDatabase;
let redis: Redis;
let keys: TestStreamKeys;
const running: RunningConsumer[] = [];

beforeAll(async () => {
  db = await createTestDatabase('reclaim');
  redis = createTestRedis();
});
beforeEach(async () => {
  keys = uniqueStreamKeys('reclaim');
  await redis.xgroup('CREATE', keys.stream, keys.group, '0', 'MKSTREAM');
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
  await deleteKeys(redis, keys);
});
afterAll(async () => {
  redis.disconnect();
  await db.drop();
});

/** A consumer that read entries and died without acknowledging them. */
async function ghostReads(count: number): Promise<string[]> {
  const reply = (await redis.xreadgroup('GROUP', keys.group, 'ghost', 'COUNT', count, 'STREAMS', keys.stream, '>')) as
    | [string, [string, string[]][]][]
    | null;
  return (reply?.[0]?.[1] ?? []).map(([id]) => id);
}

async function ownerOf(id: string): Promise<string | undefined> {
  const rows = (await redis.xpending(keys.stream, keys.group, id, id, 1)) as [string, string, number, number][];
  return rows[0]?.[1];
}

test('at boot: entries another consumer read and never acknowledged are processed', async () => {
  const events = Array.from({ length: 25 }, () => gitCommitEvent(null));
  await publishAll(redis, keys.stream, events);
  const ids = await ghostReads(25);
  expect(ids).toHaveLength(25);
  // Make them look abandoned long ago, without waiting: XCLAIM can set the idle time.
  await redis.xclaim(keys.stream, keys.group, 'ghost', 0, ...ids, 'IDLE', 600_000, 'JUSTID');

  const consumer = runConsumer(db.sql, keys, { claimIdleMs: 60_000 });
  running.push(consumer);
  await waitFor(async () => (await countEvents(db.sql, events.map((e) => e.id))) === 25, 10_000, { description: '25 rows' });
  await waitFor(async () => (await groupPending(redis, keys)) === 0, 5000, { description: 'pending 0' });
  expect(consumer.logs.find('Reclaimed').length).toBeGreaterThan(0);
});

test('at runtime: a consumer that dies while the worker runs has its entries taken over', async () => {
  const consumer = runConsumer(db.sql, keys, { claimIdleMs: 2000 });
  running.push(consumer);
  await consumer.logs.waitForLine('Event consumer started');
  // Stop the live consumer from taking them first: publish, then let the ghost read them at once.
  await consumer.stop();
  running.pop();
  const events = Array.from({ length: 10 }, () => gitCommitEvent(null));
  await publishAll(redis, keys.stream, events);
  const ids = await ghostReads(10);
  expect(ids).toHaveLength(10);

  const second = runConsumer(db.sql, keys, { claimIdleMs: 2000 });
  running.push(second);
  await second.logs.waitForLine('Event consumer started');
  // Boot found nothing idle long enough; now the ghost's entries age past claim-idle-ms.
  expect(await countEvents(db.sql, events.map((e) => e.id))).toBe(0);
  await redis.xclaim(keys.stream, keys.group, 'ghost', 0, ...ids, 'IDLE', 10_000, 'JUSTID');
  await waitFor(async () => (await countEvents(db.sql, events.map((e) => e.id))) === 10, 10_000, { description: 'taken over' });
  await waitFor(async () => (await groupPending(redis, keys)) === 0, 5000, { description: 'pending 0' });
});

test('an entry a live consumer is still working on is not stolen', async () => {
  let calls = 0;
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => (release = r));
  const slowRegistry = createHandlerRegistry({
    'git.merge': async () => {
      calls++;
      await released;
    },
  });
  const slow = makeEvent('git.merge', {
    data: { merge_commit: 'c1', message: 'merge', merged_branch: 'feature', into_branch: 'main', files_changed: 1, had_conflicts: false },
  });
  await publishAll(redis, keys.stream, [slow]);

  const holder = runConsumer(db.sql, keys, { claimIdleMs: 300, registry: slowRegistry });
  running.push(holder);
  await waitFor(() => calls === 1, 5000, { description: 'the slow handler to start' });
  const thief = runConsumer(db.sql, keys, { claimIdleMs: 300, registry: slowRegistry });
  running.push(thief);
  await thief.logs.waitForLine('Event consumer started');

  // Hold it across several reclaim scans by the other consumer, each long after claim-idle-ms.
  const scansBefore = thief.logs.find('Reclaim scan').length;
  await waitFor(() => thief.logs.find('Reclaim scan').length >= scansBefore + 2, 10_000, { description: 'two reclaim scans' });
  expect(thief.logs.find('Reclaim scan').every((l) => l['count'] === 0)).toBe(true);
  expect(await ownerOf(await firstPendingId())).toBe(holder.name);
  release();
  await waitFor(async () => (await groupPending(redis, keys)) === 0, 5000, { description: 'pending 0' });
  expect(calls).toBe(1);
});

async function firstPendingId(): Promise<string> {
  const rows = (await redis.xpending(keys.stream, keys.group, '-', '+', 1)) as [string][];
  const id = rows[0]?.[0];
  if (!id) throw new Error('nothing pending');
  return id;
}
