import type Redis from 'ioredis';
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

let db: TestDatabase;
let redis: Redis;
let keys: TestStreamKeys;
let consumer: RunningConsumer | undefined;

beforeAll(async () => {
  db = await createTestDatabase('redis_conn');
  redis = createTestRedis();
});
beforeEach(() => {
  keys = uniqueStreamKeys('redis-conn');
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

/** CLIENT KILL every connection whose name ends with the consumer's name; returns how many. */
async function killConnectionsOf(name: string): Promise<number> {
  const list = String(await redis.client('LIST'));
  const ids = list
    .split('\n')
    .map((line) => ({ id: /\bid=(\d+)/.exec(line)?.[1], name: /\bname=(\S*)/.exec(line)?.[1] ?? '' }))
    .filter((c) => c.id && (c.name === `fc-read:${name}` || c.name === `fc-cmd:${name}`));
  for (const c of ids) await redis.client('KILL', 'ID', c.id ?? '');
  return ids.length;
}

test('killing its Redis connections, again and again, does not stop the consumer', async () => {
  consumer = runConsumer(db.sql, keys, { blockMs: 5000 });
  await consumer.logs.waitForLine('Event consumer started');
  const published: string[] = [];
  for (let round = 0; round < 3; round++) {
    // Wait until it is blocked in XREADGROUP on its reading connection, then cut both.
    await waitFor(async () => String(await redis.client('LIST')).includes(`name=fc-read:${consumer?.name} `), 5000);
    expect(await killConnectionsOf(consumer.name)).toBeGreaterThanOrEqual(1);
    const events = Array.from({ length: 5 }, () => gitCommitEvent(null));
    published.push(...events.map((e) => e.id));
    await publishAll(redis, keys.stream, events);
    await waitFor(async () => (await countEvents(db.sql, published)) === published.length, 15_000, {
      description: `round ${round}: events after the kill`,
    });
  }
  await waitFor(async () => (await groupPending(redis, keys)) === 0, 5000, { description: 'pending 0' });
  expect(consumer.handle.health().running).toBe(true);
});
