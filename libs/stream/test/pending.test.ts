import type Redis from 'ioredis';
import {
  acknowledge,
  claimPendingEntries,
  deliveryCounts,
  ensureConsumerGroup,
  pendingCount,
  publish,
  publishMany,
  readFromStream,
  readOwnPending,
  touchPending,
} from '@fuel-code/stream';
import type { TestStreamKeys } from '@fuel-code/testing';
import { pendingRows, setIdle, useRedisKeys } from './helpers';

const ctx = useRedisKeys('stream-pending');
const HOUR = 3_600_000;

/** Publish `n` entries, create the group and let `consumer` read them all (pending, delivered once). */
async function pendingFor(redis: Redis, keys: TestStreamKeys, consumer: string, n: number): Promise<string[]> {
  const outcomes = await publishMany(redis, keys.stream, Array.from({ length: n }, (_, i) => `{"n":${i}}`));
  const ids = outcomes.map((o) => (o.ok ? o.id : ''));
  await ensureConsumerGroup(redis, keys);
  const read = await readFromStream(redis, { ...keys, consumer, count: n });
  expect(read).toHaveLength(n);
  return ids;
}

describe('claimPendingEntries', () => {
  test('follows the XAUTOCLAIM cursor across pages of 1000 (2500 idle entries)', async () => {
    const { redis, keys } = ctx;
    const ids = await pendingFor(redis, keys, 'c1', 2500);
    const spy = jest.spyOn(redis, 'callBuffer');
    try {
      const claimed = await claimPendingEntries(redis, { ...keys, consumer: 'c2', minIdleMs: 0, count: 10_000 });
      const autoclaims = spy.mock.calls.filter((args) => String(args[0]).toUpperCase() === 'XAUTOCLAIM');
      expect(autoclaims).toHaveLength(3);
      expect(claimed.map((e) => e.id)).toEqual(ids);
      expect(claimed[2499]?.fields.get('event')?.toString()).toBe('{"n":2499}');
    } finally {
      spy.mockRestore();
    }
    const rows = await pendingRows(redis, keys.stream, keys.group);
    expect(rows).toHaveLength(2500);
    expect(rows.every((r) => r.consumer === 'c2' && r.deliveries === 2)).toBe(true);
  });

  test('stops at `count` entries', async () => {
    const { redis, keys } = ctx;
    const ids = await pendingFor(redis, keys, 'c1', 1500);
    const claimed = await claimPendingEntries(redis, { ...keys, consumer: 'c2', minIdleMs: 0, count: 1200 });
    expect(claimed.map((e) => e.id)).toEqual(ids.slice(0, 1200));
    const owners = (await pendingRows(redis, keys.stream, keys.group)).map((r) => r.consumer);
    expect(owners.filter((c) => c === 'c2')).toHaveLength(1200);
    expect(owners.filter((c) => c === 'c1')).toHaveLength(300);
    await expect(claimPendingEntries(redis, { ...keys, consumer: 'c2', minIdleMs: 0, count: 0 })).resolves.toEqual([]);
  });

  test('claims only entries idle for at least minIdleMs', async () => {
    const { redis, keys } = ctx;
    const ids = await pendingFor(redis, keys, 'c1', 5);
    // Just read: none is an hour idle.
    expect(await claimPendingEntries(redis, { ...keys, consumer: 'c2', minIdleMs: HOUR, count: 100 })).toEqual([]);
    // Make two of them look two hours idle (no sleeping): only those are claimed.
    const stale = [ids[1] ?? '', ids[3] ?? ''];
    await setIdle(redis, keys.stream, keys.group, 'c1', stale, 2 * HOUR);
    const claimed = await claimPendingEntries(redis, { ...keys, consumer: 'c2', minIdleMs: HOUR, count: 100 });
    expect(claimed.map((e) => e.id)).toEqual(stale);
    const rows = await pendingRows(redis, keys.stream, keys.group);
    expect(rows.map((r) => r.consumer)).toEqual(['c1', 'c2', 'c1', 'c2', 'c1']);
  });

  test('an entry deleted while pending is not returned and leaves the PEL', async () => {
    const { redis, keys } = ctx;
    const ids = await pendingFor(redis, keys, 'c1', 3);
    await redis.xdel(keys.stream, ids[1] ?? '');
    const claimed = await claimPendingEntries(redis, { ...keys, consumer: 'c2', minIdleMs: 0, count: 100 });
    expect(claimed.map((e) => e.id)).toEqual([ids[0], ids[2]]);
    expect(claimed.every((e) => !e.deleted)).toBe(true);
    expect(await pendingCount(redis, keys)).toBe(2);
  });
});

describe('acknowledge and pendingCount', () => {
  test('pendingCount is 0 for a new group and follows reads and acks', async () => {
    const { redis, keys } = ctx;
    await ensureConsumerGroup(redis, keys);
    expect(await pendingCount(redis, keys)).toBe(0);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await publish(redis, keys.stream, '{}'));
    expect(await pendingCount(redis, keys)).toBe(0);
    await readFromStream(redis, { ...keys, consumer: 'c1', count: 2 });
    await readFromStream(redis, { ...keys, consumer: 'c2', count: 2 });
    expect(await pendingCount(redis, keys)).toBe(3);
    await acknowledge(redis, keys, [ids[0] ?? '']);
    expect(await pendingCount(redis, keys)).toBe(2);
  });

  test('acks many ids in one call', async () => {
    const { redis, keys } = ctx;
    const ids = await pendingFor(redis, keys, 'c1', 300);
    const spy = jest.spyOn(redis, 'xack');
    try {
      await expect(acknowledge(redis, keys, ids)).resolves.toBe(300);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
    expect(await pendingCount(redis, keys)).toBe(0);
    // Acking again, or nothing, is harmless.
    await expect(acknowledge(redis, keys, ids.slice(0, 5))).resolves.toBe(0);
    await expect(acknowledge(redis, keys, [])).resolves.toBe(0);
  });
});

describe('deliveryCounts', () => {
  test('counts every delivery: a re-read from id 0 increments it', async () => {
    const { redis, keys } = ctx;
    const ids = await pendingFor(redis, keys, 'c1', 3);
    const once = await deliveryCounts(redis, { ...keys, consumer: 'c1' }, ids);
    expect([...once.entries()]).toEqual(ids.map((id) => [id, 1]));
    await readOwnPending(redis, { ...keys, consumer: 'c1', count: 10 });
    const twice = await deliveryCounts(redis, { ...keys, consumer: 'c1' }, ids);
    expect([...twice.entries()]).toEqual(ids.map((id) => [id, 2]));
  });

  test('finds every requested id even when others of this consumer lie between them', async () => {
    const { redis, keys } = ctx;
    const ids = await pendingFor(redis, keys, 'c1', 6);
    const wanted = [ids[5] ?? '', ids[0] ?? '', ids[3] ?? ''];
    const counts = await deliveryCounts(redis, { ...keys, consumer: 'c1' }, wanted);
    expect(counts).toEqual(new Map(wanted.map((id) => [id, 1])));
  });

  test("reports only ids this consumer holds (not acked ones, not other consumers')", async () => {
    const { redis, keys } = ctx;
    const ids = await pendingFor(redis, keys, 'c1', 4);
    await claimPendingEntries(redis, { ...keys, consumer: 'c2', minIdleMs: 0, count: 1 });
    await acknowledge(redis, keys, [ids[1] ?? '']);
    const counts = await deliveryCounts(redis, { ...keys, consumer: 'c1' }, ids);
    expect(counts).toEqual(new Map([ids[2] ?? '', ids[3] ?? ''].map((id) => [id, 1])));
    expect(await deliveryCounts(redis, { ...keys, consumer: 'c2' }, ids)).toEqual(new Map([[ids[0], 2]]));
    expect(await deliveryCounts(redis, { ...keys, consumer: 'c1' }, [])).toEqual(new Map());
  });
});

describe('touchPending', () => {
  test('resets the idle time without changing the delivery count or the owner', async () => {
    const { redis, keys } = ctx;
    const ids = await pendingFor(redis, keys, 'c1', 3);
    await setIdle(redis, keys.stream, keys.group, 'c1', ids, 2 * HOUR);
    const before = await pendingRows(redis, keys.stream, keys.group);
    expect(before.every((r) => r.idleMs >= 2 * HOUR && r.deliveries === 1)).toBe(true);

    const touched = [ids[0] ?? '', ids[2] ?? ''];
    expect(await touchPending(redis, { ...keys, consumer: 'c1' }, touched)).toBe(2);
    const after = await pendingRows(redis, keys.stream, keys.group);
    expect(after.map((r) => [r.id, r.consumer, r.deliveries])).toEqual(ids.map((id) => [id, 'c1', 1]));
    for (const row of after) {
      if (touched.includes(row.id)) expect(row.idleMs).toBeLessThan(10_000);
      else expect(row.idleMs).toBeGreaterThanOrEqual(2 * HOUR);
    }
    // So a reclaim by idle time takes only the untouched one.
    const claimed = await claimPendingEntries(redis, { ...keys, consumer: 'c2', minIdleMs: HOUR, count: 10 });
    expect(claimed.map((e) => e.id)).toEqual([ids[1]]);
    await expect(touchPending(redis, { ...keys, consumer: 'c1' }, [])).resolves.toBe(0);
  });

  test('never takes back an entry another consumer has claimed since', async () => {
    const { redis, keys } = ctx;
    const ids = await pendingFor(redis, keys, 'c1', 2);
    await redis.xclaim(keys.stream, keys.group, 'c2', 0, ids[0] ?? '', 'JUSTID');
    expect(await touchPending(redis, { ...keys, consumer: 'c1' }, ids)).toBe(1);
    const owners = await pendingRows(redis, keys.stream, keys.group);
    expect(owners.map((r) => [r.id, r.consumer])).toEqual([
      [ids[0], 'c2'],
      [ids[1], 'c1'],
    ]);
  });
});
