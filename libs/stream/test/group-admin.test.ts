import { consumerInfos, ensureConsumerGroup, handBackPending, refreshConsumer, publishMany, readFromStream, removeIdleConsumers } from '@fuel-code/stream';
import { waitFor } from '@fuel-code/testing';
import { pendingRows, setIdle, useRedisKeys } from './helpers';

const ctx = useRedisKeys('stream-group-admin');
const HOUR = 3_600_000;

/** Consumers named in XINFO CONSUMERS. */
async function consumerNames(): Promise<string[]> {
  return (await consumerInfos(ctx.redis, ctx.keys.stream, ctx.keys.group)).map((c) => c.name).sort();
}

/** A group with `names` as consumers that never read anything (idle since creation). */
async function groupWith(names: string[]): Promise<void> {
  await ensureConsumerGroup(ctx.redis, ctx.keys);
  for (const name of names) await ctx.redis.xgroup('CREATECONSUMER', ctx.keys.stream, ctx.keys.group, name);
}

/** Wait (polling, no fixed sleep) until every named consumer's idle exceeds `ms`. */
async function idleBeyond(ms: number, names: string[]): Promise<void> {
  await waitFor(
    async () => {
      const infos = await consumerInfos(ctx.redis, ctx.keys.stream, ctx.keys.group);
      return names.every((n) => (infos.find((c) => c.name === n)?.idleMs ?? 0) > ms);
    },
    10_000,
    { description: `consumers ${names.join(', ')} idle beyond ${ms} ms`, intervalMs: 10 },
  );
}

describe('removeIdleConsumers', () => {
  test('removes idle consumers without pending entries; keeps those with pending, the fresh one and self', async () => {
    const { redis, keys } = ctx;
    await publishMany(redis, keys.stream, ['{"n":1}', '{"n":2}']);
    await groupWith(['dead-empty', 'self']);
    expect(await readFromStream(redis, { ...keys, consumer: 'dead-holding', count: 1 })).toHaveLength(1);
    await idleBeyond(50, ['dead-empty', 'dead-holding', 'self']);
    await redis.xgroup('CREATECONSUMER', keys.stream, keys.group, 'fresh');

    const result = await removeIdleConsumers(redis, { ...keys, self: 'self', minIdleMs: 50 });

    expect(result).toEqual({ removed: [{ name: 'dead-empty', idleMs: expect.any(Number) as number }], more: false });
    expect(result.removed[0]?.idleMs).toBeGreaterThan(50);
    expect(await consumerNames()).toEqual(['dead-holding', 'fresh', 'self']);
    // The pending entry is still there, for reclaim.
    expect((await pendingRows(redis, keys.stream, keys.group)).map((r) => r.consumer)).toEqual(['dead-holding']);
  });

  test('stops at maxRemovals and says there is more', async () => {
    const { redis, keys } = ctx;
    await groupWith(['a', 'b', 'c']);
    await idleBeyond(20, ['a', 'b', 'c']);
    const first = await removeIdleConsumers(redis, { ...keys, self: 'x', minIdleMs: 20, maxRemovals: 2 });
    expect(first.removed).toHaveLength(2);
    expect(first.more).toBe(true);
    const second = await removeIdleConsumers(redis, { ...keys, self: 'x', minIdleMs: 20, maxRemovals: 2 });
    expect(second.removed).toHaveLength(1);
    expect(second.more).toBe(false);
    expect(await consumerNames()).toEqual([]);
  });

  test('a missing stream or group has nothing to remove', async () => {
    const { redis, keys } = ctx;
    expect(await removeIdleConsumers(redis, { ...keys, self: 'x', minIdleMs: 0 })).toEqual({ removed: [], more: false });
    await publishMany(redis, keys.stream, ['{}']);
    expect(await removeIdleConsumers(redis, { ...keys, self: 'x', minIdleMs: 0 })).toEqual({ removed: [], more: false });
  });
});

describe('refreshConsumer', () => {
  test("restarts the consumer's idle time (an empty read of new entries does not), creating it if it was removed", async () => {
    const { redis, keys } = ctx;
    await groupWith(['quiet']);
    await idleBeyond(100, ['quiet']);
    // What a live worker does on a quiet stream: read new entries and get none.
    expect(await readFromStream(redis, { ...keys, consumer: 'quiet', count: 1, blockMs: 10 })).toEqual([]);
    const before = (await consumerInfos(redis, keys.stream, keys.group)).find((c) => c.name === 'quiet');
    expect(before?.idleMs).toBeGreaterThan(100);

    await refreshConsumer(redis, { ...keys, consumer: 'quiet' });
    const after = (await consumerInfos(redis, keys.stream, keys.group)).find((c) => c.name === 'quiet');
    expect(after?.idleMs).toBeLessThan(100);

    await redis.xgroup('DELCONSUMER', keys.stream, keys.group, 'quiet');
    await refreshConsumer(redis, { ...keys, consumer: 'quiet' });
    expect(await consumerNames()).toEqual(['quiet']);
  });
});

describe('handBackPending', () => {
  test("makes this consumer's pending entries idle for everyone, keeping delivery counts; others' untouched", async () => {
    const { redis, keys } = ctx;
    await publishMany(redis, keys.stream, ['{"n":1}', '{"n":2}', '{"n":3}']);
    await ensureConsumerGroup(redis, keys);
    await readFromStream(redis, { ...keys, consumer: 'leaving', count: 2 });
    await readFromStream(redis, { ...keys, consumer: 'staying', count: 1 });

    expect(await handBackPending(redis, { ...keys, consumer: 'leaving' })).toBe(2);

    const rows = await pendingRows(redis, keys.stream, keys.group);
    const leaving = rows.filter((r) => r.consumer === 'leaving');
    expect(leaving).toHaveLength(2);
    for (const row of leaving) {
      expect(row.idleMs).toBeGreaterThan(HOUR);
      expect(row.deliveries).toBe(1);
    }
    expect(rows.find((r) => r.consumer === 'staying')?.idleMs).toBeLessThan(HOUR);
    // Any other consumer's idle scan takes them now.
    const claimed = (await redis.xautoclaim(keys.stream, keys.group, 'other', 60_000, '0-0', 'COUNT', 10, 'JUSTID')) as [string, string[]];
    expect(claimed[1]).toHaveLength(2);
  });

  test('an entry another consumer claimed meanwhile is not taken back', async () => {
    const { redis, keys } = ctx;
    await publishMany(redis, keys.stream, ['{"n":1}']);
    await ensureConsumerGroup(redis, keys);
    const [entry] = await readFromStream(redis, { ...keys, consumer: 'leaving', count: 1 });
    await setIdle(redis, keys.stream, keys.group, 'other', [entry!.id], 0);
    expect(await handBackPending(redis, { ...keys, consumer: 'leaving' })).toBe(0);
    expect((await pendingRows(redis, keys.stream, keys.group)).map((r) => r.consumer)).toEqual(['other']);
  });

  test('a missing group hands back nothing', async () => {
    expect(await handBackPending(ctx.redis, { ...ctx.keys, consumer: 'x' })).toBe(0);
  });
});
