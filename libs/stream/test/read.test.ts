import { createTestRedis, waitFor } from '@fuel-code/testing';
import { ensureConsumerGroup, eventField, publish, readFromStream, readOwnPending } from '@fuel-code/stream';
import { pendingRows, useRedisKeys } from './helpers';

const ctx = useRedisKeys('stream-read');

describe('readFromStream', () => {
  test('returns raw Buffer fields byte for byte, whatever the entry holds, without throwing', async () => {
    const { redis, keys } = ctx;
    await ensureConsumerGroup(redis, keys);
    const invalidUtf8 = Buffer.from([0xff, 0xfe, 0x00]);
    const json = '{"id":"x","data":{"s":"ünïcödé ✓"}}';
    const ids = [
      await publish(redis, keys.stream, invalidUtf8),
      await redis.xadd(keys.stream, '*', 'payload', 'no event here'),
      await publish(redis, keys.stream, json),
      await redis.xadd(keys.stream, '*', 'event', ''),
      await redis.xadd(keys.stream, '*', 'event', 'first', 'event', 'second', 'extra', Buffer.from([0x80])),
    ];
    const entries = await readFromStream(redis, { ...keys, consumer: 'c1', count: 10 });
    expect(entries.map((e) => e.id)).toEqual(ids);
    expect(entries.every((e) => !e.deleted)).toBe(true);
    for (const e of entries) for (const v of e.fields.values()) expect(Buffer.isBuffer(v)).toBe(true);

    const [bad, noEvent, good, empty, twice] = entries;
    expect([...(bad?.fields.keys() ?? [])]).toEqual(['event']);
    expect(bad && eventField(bad)?.equals(invalidUtf8)).toBe(true);

    expect(noEvent && eventField(noEvent)).toBeUndefined();
    expect(noEvent?.fields.get('payload')?.toString()).toBe('no event here');

    expect(good && eventField(good)?.equals(Buffer.from(json, 'utf8'))).toBe(true);
    expect(empty && eventField(empty)?.length).toBe(0);

    // Redis keeps duplicate field names; the first `event` wins.
    expect(twice && eventField(twice)?.toString()).toBe('first');
    expect(twice?.fields.get('extra')?.equals(Buffer.from([0x80]))).toBe(true);
  });

  test('delivers each entry once to the group, COUNT at a time, and leaves them pending', async () => {
    const { redis, keys } = ctx;
    await ensureConsumerGroup(redis, keys);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await publish(redis, keys.stream, `{"n":${i}}`));
    const first = await readFromStream(redis, { ...keys, consumer: 'c1', count: 3 });
    const second = await readFromStream(redis, { ...keys, consumer: 'c2', count: 3 });
    const third = await readFromStream(redis, { ...keys, consumer: 'c1', count: 3 });
    expect(first.map((e) => e.id)).toEqual(ids.slice(0, 3));
    expect(second.map((e) => e.id)).toEqual(ids.slice(3));
    expect(third).toEqual([]);
    const rows = await pendingRows(redis, keys.stream, keys.group);
    expect(rows.map((r) => [r.id, r.consumer, r.deliveries])).toEqual(ids.map((id, i) => [id, i < 3 ? 'c1' : 'c2', 1]));
  });

  test('a blocking read returns an entry published while it waits', async () => {
    const { redis, keys } = ctx;
    await ensureConsumerGroup(redis, keys);
    const blocking = createTestRedis();
    try {
      const clientId = String(await blocking.client('ID'));
      const started = Date.now();
      const reading = readFromStream(blocking, { ...keys, consumer: 'c1', count: 10, blockMs: 10_000 });
      // Publish once the read is parked on the server (flag b: blocked).
      await waitFor(async () => /flags=\S*b/.test(String(await redis.client('LIST', 'ID', clientId))), 5000, {
        description: 'the read to block',
      });
      const id = await publish(redis, keys.stream, '{"late":true}');
      const entries = await reading;
      expect(entries.map((e) => e.id)).toEqual([id]);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      blocking.disconnect();
    }
  });

  test('a blocking read with nothing new times out with no entries', async () => {
    const { redis, keys } = ctx;
    await ensureConsumerGroup(redis, keys);
    await expect(readFromStream(redis, { ...keys, consumer: 'c1', count: 10, blockMs: 20 })).resolves.toEqual([]);
  });
});

describe('readOwnPending', () => {
  test("reads this consumer's pending entries from id 0 (and after a given id), not other consumers'", async () => {
    const { redis, keys } = ctx;
    await ensureConsumerGroup(redis, keys);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await publish(redis, keys.stream, `{"n":${i}}`));
    await readFromStream(redis, { ...keys, consumer: 'c1', count: 3 });
    await readFromStream(redis, { ...keys, consumer: 'c2', count: 3 });

    const own = await readOwnPending(redis, { ...keys, consumer: 'c1', count: 10 });
    expect(own.map((e) => e.id)).toEqual(ids.slice(0, 3));
    expect(own.map((e) => e.fields.get('event')?.toString())).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
    expect(own.every((e) => !e.deleted)).toBe(true);

    const after = await readOwnPending(redis, { ...keys, consumer: 'c1', count: 10, afterId: ids[0] });
    expect(after.map((e) => e.id)).toEqual(ids.slice(1, 3));
    const limited = await readOwnPending(redis, { ...keys, consumer: 'c1', count: 2 });
    expect(limited.map((e) => e.id)).toEqual(ids.slice(0, 2));

    expect((await readOwnPending(redis, { ...keys, consumer: 'c2', count: 10 })).map((e) => e.id)).toEqual([ids[3]]);
    expect(await readOwnPending(redis, { ...keys, consumer: 'nobody', count: 10 })).toEqual([]);
  });

  test('an entry deleted while pending comes back with deleted: true and no fields', async () => {
    const { redis, keys } = ctx;
    await ensureConsumerGroup(redis, keys);
    const ids = [await publish(redis, keys.stream, '{"n":0}'), await publish(redis, keys.stream, '{"n":1}')];
    await readFromStream(redis, { ...keys, consumer: 'c1', count: 10 });
    expect(await redis.xdel(keys.stream, ids[0] ?? '')).toBe(1);

    const own = await readOwnPending(redis, { ...keys, consumer: 'c1', count: 10 });
    expect(own).toHaveLength(2);
    expect(own[0]).toEqual({ id: ids[0], fields: new Map(), deleted: true });
    expect(own[1]?.deleted).toBe(false);
    expect(own[1]?.fields.get('event')?.toString()).toBe('{"n":1}');
  });
});
