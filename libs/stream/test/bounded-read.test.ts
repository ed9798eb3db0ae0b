import Redis from 'ioredis';
import {
  claimIdleBounded,
  entryBytes,
  ensureConsumerGroup,
  oversizedEntryError,
  readFromStream,
  readNewBounded,
  readOwnPendingBounded,
  type BoundedReadTarget,
} from '@fuel-code/stream';
import { startRedisServer } from '@fuel-code/testing';
import { pendingRows, useRedisKeys } from './helpers';

const ctx = useRedisKeys('bounded-read');
const limits = { maxEntryBytes: 1000, maxBatchBytes: 10_000 };

function target(consumer: string): BoundedReadTarget {
  return { ...ctx.keys, consumer, deadLetterStream: ctx.keys.deadLetter };
}

/** XADD each value as the `event` field; returns the ids. */
async function add(...values: Buffer[]): Promise<string[]> {
  const ids: string[] = [];
  for (const v of values) ids.push((await ctx.redis.xadd(ctx.keys.stream, '*', 'event', v)) ?? '');
  return ids;
}

/** `n` bytes of not-UTF-8 data, different per `seed`: a dead letter must keep them exactly. */
const blob = (n: number, seed = 1) => Buffer.alloc(n, 0xff - seed);
const small = (n: number) => Buffer.from(`{"n":${n}}`);
/** Entry size as the script counts it: field name `event` plus the value. */
const size = (value: Buffer) => 'event'.length + value.length;

async function deadLetters(): Promise<Map<string, Buffer>[]> {
  const raw = (await ctx.redis.xrangeBuffer(ctx.keys.deadLetter, '-', '+')) as [Buffer, Buffer[]][];
  return raw.map(([, flat]) => {
    const fields = new Map<string, Buffer>();
    for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), flat[i + 1] ?? Buffer.alloc(0));
    return fields;
  });
}

describe('readNewBounded', () => {
  test('dead-letters an oversized entry inside Redis with its exact bytes, acknowledged; returns its neighbours', async () => {
    await ensureConsumerGroup(ctx.redis, ctx.keys);
    const big = blob(5000);
    const [a, b, c] = await add(small(1), big, small(2));
    const read = await readNewBounded(ctx.redis, target('c1'), { ...limits, count: 10 });
    expect(read.entries.map((e) => e.id)).toEqual([a, c]);
    expect(read.entries[1]?.fields.get('event')).toEqual(small(2));
    expect(read.oversized).toEqual([{ id: b, bytes: size(big) }]);
    expect(read.lastId).toBe(c);

    const [letter, ...more] = await deadLetters();
    expect(more).toHaveLength(0);
    expect(letter?.get('event')).toEqual(big);
    expect(String(letter?.get('stream_id'))).toBe(b);
    expect(String(letter?.get('reason'))).toBe('invalid');
    expect(String(letter?.get('error'))).toBe(oversizedEntryError(size(big), 1000));
    expect(String(letter?.get('attempts'))).toBe('1');
    expect(String(letter?.get('consumer'))).toBe('c1');
    expect([...(letter?.keys() ?? [])]).toEqual(['event', 'stream_id', 'reason', 'error', 'attempts', 'consumer', 'failed_at']);
    // The oversized one is acknowledged; the two returned are pending to c1.
    expect((await pendingRows(ctx.redis, ctx.keys.stream, ctx.keys.group)).map((r) => [r.id, r.consumer])).toEqual([[a, 'c1'], [c, 'c1']]);
  });

  test('stops once the bytes looked at reach maxBatchBytes (the entry reaching it included), then carries on', async () => {
    await ensureConsumerGroup(ctx.redis, ctx.keys);
    const ids = await add(...Array.from({ length: 10 }, (_, i) => blob(295, i)));
    const o = { maxEntryBytes: 1000, maxBatchBytes: 1000, count: 100 };
    const batches: string[][] = [];
    for (;;) {
      const read = await readNewBounded(ctx.redis, target('c1'), o);
      if (read.lastId === undefined) break;
      batches.push(read.entries.map((e) => e.id));
    }
    // 300 bytes each: 300, 600, 900 < 1000, the fourth reaches it.
    expect(batches).toEqual([ids.slice(0, 4), ids.slice(4, 8), ids.slice(8)]);
  });

  test('stops at `count` entries looked at, oversized ones included', async () => {
    await ensureConsumerGroup(ctx.redis, ctx.keys);
    const [a, b, c] = await add(blob(2000), small(1), small(2));
    const first = await readNewBounded(ctx.redis, target('c1'), { ...limits, count: 2 });
    expect(first.oversized.map((o) => o.id)).toEqual([a]);
    expect(first.entries.map((e) => e.id)).toEqual([b]);
    const second = await readNewBounded(ctx.redis, target('c1'), { ...limits, count: 2 });
    expect(second.entries.map((e) => e.id)).toEqual([c]);
    const third = await readNewBounded(ctx.redis, target('c1'), { ...limits, count: 2 });
    expect(third).toEqual({ entries: [], oversized: [], lastId: undefined });
  });

  test('an oversized entry ends the read (its bytes count); the next read goes on after it', async () => {
    await ensureConsumerGroup(ctx.redis, ctx.keys);
    const [a, b] = await add(blob(20_000), small(1));
    const o = { maxEntryBytes: 1000, maxBatchBytes: 1000, count: 10 };
    const first = await readNewBounded(ctx.redis, target('c1'), o);
    expect(first).toEqual({ entries: [], oversized: [{ id: a, bytes: 20_005 }], lastId: a });
    const second = await readNewBounded(ctx.redis, target('c1'), o);
    expect(second.entries.map((e) => e.id)).toEqual([b]);
  });

  test('reads several entries per step when the budget allows, and stays under maxBatchBytes + maxEntryBytes', async () => {
    await ensureConsumerGroup(ctx.redis, ctx.keys);
    const ids = await add(...Array.from({ length: 12 }, (_, i) => blob(895, i)));
    const o = { maxEntryBytes: 1000, maxBatchBytes: 5000, count: 100 };
    const read = await readNewBounded(ctx.redis, target('c1'), o);
    // A step of 5 (4500 bytes), then of 1: 5400 reaches the budget.
    expect(read.entries.map((e) => e.id)).toEqual(ids.slice(0, 6));
    expect(read.entries.reduce((n, e) => n + entryBytes(e), 0)).toBe(5400);
  });
});

describe('readOwnPendingBounded', () => {
  test('re-reads own pending entries after afterId; an oversized one is dead-lettered with its delivery count; a deleted one comes back deleted', async () => {
    await ensureConsumerGroup(ctx.redis, ctx.keys);
    const big = blob(3000);
    const [a, b, c, d] = await add(small(1), big, small(2), small(3));
    // Delivered by a plain read (as an older worker would): the big one is pending too.
    expect(await readFromStream(ctx.redis, { ...ctx.keys, consumer: 'c1', count: 10 })).toHaveLength(4);
    await ctx.redis.xdel(ctx.keys.stream, c ?? '');

    const read = await readOwnPendingBounded(ctx.redis, target('c1'), { ...limits, count: 10, afterId: a ?? '' });
    expect(read.entries.map((e) => [e.id, e.deleted])).toEqual([[c, true], [d, false]]);
    expect(read.oversized).toEqual([{ id: b, bytes: size(big) }]);
    expect(read.lastId).toBe(d);
    const [letter] = await deadLetters();
    expect(letter?.get('event')).toEqual(big);
    expect(String(letter?.get('attempts'))).toBe('2');
    const rows = await pendingRows(ctx.redis, ctx.keys.stream, ctx.keys.group);
    expect(rows.map((r) => r.id)).toEqual([a, c, d]);
    // Re-reading counts a delivery, as a plain XREADGROUP of the history does.
    expect(rows.find((r) => r.id === d)?.deliveries).toBe(2);
  });

  test('is bounded by bytes like a new read, and reads nothing of another consumer', async () => {
    await ensureConsumerGroup(ctx.redis, ctx.keys);
    const ids = await add(...Array.from({ length: 6 }, (_, i) => blob(495, i)));
    await readFromStream(ctx.redis, { ...ctx.keys, consumer: 'c1', count: 10 });
    const o = { maxEntryBytes: 1000, maxBatchBytes: 1000, count: 10 };
    const first = await readOwnPendingBounded(ctx.redis, target('c1'), { ...o, afterId: '0' });
    expect(first.entries.map((e) => e.id)).toEqual(ids.slice(0, 2));
    const second = await readOwnPendingBounded(ctx.redis, target('c1'), { ...o, afterId: first.lastId ?? '' });
    expect(second.entries.map((e) => e.id)).toEqual(ids.slice(2, 4));
    expect((await readOwnPendingBounded(ctx.redis, target('c2'), { ...o, afterId: '0' })).lastId).toBeUndefined();
  });
});

describe('claimIdleBounded', () => {
  test('claims idle entries of other consumers, dead-letters an oversized one, within the byte budget', async () => {
    await ensureConsumerGroup(ctx.redis, ctx.keys);
    const big = blob(4000);
    const [a, b, c, d] = await add(blob(600, 1), big, blob(600, 2), blob(600, 3));
    await readFromStream(ctx.redis, { ...ctx.keys, consumer: 'c1', count: 10 });

    const o = { maxEntryBytes: 1000, maxBatchBytes: 1200, count: 10, minIdleMs: 0 };
    const first = await claimIdleBounded(ctx.redis, target('c2'), o);
    // 605 bytes, then 4005 (oversized, dead-lettered): the budget is spent.
    expect(first.entries.map((e) => e.id)).toEqual([a]);
    expect(first.oversized).toEqual([{ id: b, bytes: size(big) }]);
    const [letter] = await deadLetters();
    expect(letter?.get('event')).toEqual(big);
    expect(String(letter?.get('attempts'))).toBe('2');
    expect(String(letter?.get('consumer'))).toBe('c2');

    const owners = new Map((await pendingRows(ctx.redis, ctx.keys.stream, ctx.keys.group)).map((r) => [r.id, r.consumer]));
    expect([...owners]).toEqual([[a, 'c2'], [c, 'c1'], [d, 'c1']]);
  });

  test('claims several per step; an entry deleted meanwhile is dropped from the group and counted as looked at', async () => {
    await ensureConsumerGroup(ctx.redis, ctx.keys);
    const ids = await add(...Array.from({ length: 6 }, (_, i) => small(i)));
    await readFromStream(ctx.redis, { ...ctx.keys, consumer: 'c1', count: 10 });
    await ctx.redis.xdel(ctx.keys.stream, ids[2] ?? '');
    const read = await claimIdleBounded(ctx.redis, target('c2'), { ...limits, count: 10, minIdleMs: 0 });
    expect(read.entries.map((e) => e.id)).toEqual([ids[0], ids[1], ids[3], ids[4], ids[5]]);
    expect(read.lastId).toBe(ids[5]);
    const rows = await pendingRows(ctx.redis, ctx.keys.stream, ctx.keys.group);
    expect(rows.map((r) => [r.id, r.consumer, r.deliveries])).toEqual(read.entries.map((e) => [e.id, 'c2', 2]));
  });

  test('leaves entries idle for less than minIdleMs alone', async () => {
    await ensureConsumerGroup(ctx.redis, ctx.keys);
    await add(small(1), small(2));
    await readFromStream(ctx.redis, { ...ctx.keys, consumer: 'c1', count: 10 });
    const read = await claimIdleBounded(ctx.redis, target('c2'), { ...limits, count: 10, minIdleMs: 3_600_000 });
    expect(read).toEqual({ entries: [], oversized: [], lastId: undefined });
  });
});

test('runs on a server that has never seen the scripts (EVALSHA, then EVAL on NOSCRIPT)', async () => {
  const server = await startRedisServer();
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  try {
    const spy = jest.spyOn(redis, 'callBuffer');
    await ensureConsumerGroup(redis, ctx.keys);
    await redis.xadd(ctx.keys.stream, '*', 'event', 'x');
    const t = target('c1');
    expect((await readNewBounded(redis, t, { ...limits, count: 10 })).entries).toHaveLength(1);
    expect((await readNewBounded(redis, t, { ...limits, count: 10 })).entries).toHaveLength(0);
    expect(spy.mock.calls.map((args) => String(args[0]))).toEqual(['EVALSHA', 'EVAL', 'EVALSHA']);
  } finally {
    redis.disconnect();
    await server.stop();
  }
});

test('claims 9000 small idle entries in one call when the limits allow (XCLAIM steps of at most 1000, what Lua can unpack)', async () => {
  await ensureConsumerGroup(ctx.redis, ctx.keys);
  const pipeline = ctx.redis.pipeline();
  for (let i = 0; i < 9000; i++) pipeline.xadd(ctx.keys.stream, '*', 'event', small(i));
  await pipeline.exec();
  await readFromStream(ctx.redis, { ...ctx.keys, consumer: 'c1', count: 9000 });
  const read = await claimIdleBounded(ctx.redis, target('c2'), { maxEntryBytes: 1024, maxBatchBytes: 1024 * 1024 * 1024, count: 9000, minIdleMs: 0 });
  expect(read.entries).toHaveLength(9000);
  expect(read.entries[8999]?.fields.get('event')).toEqual(small(8999));
});
