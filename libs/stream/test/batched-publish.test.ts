import Redis from 'ioredis';
import { createBatchedPublisher, MAX_ENTRIES_PER_CALL } from '@fuel-code/stream';
import { testRedisUrl } from '@fuel-code/testing';
import { useRedisKeys } from './helpers';

const ctx = useRedisKeys('stream-batched');

/** The `event` fields of the stream, in stream order. */
async function storedEvents(redis: Redis, stream: string): Promise<string[]> {
  const entries = await redis.xrange(stream, '-', '+');
  return entries.map(([, fields]) => fields[1] ?? '');
}

describe('createBatchedPublisher', () => {
  test("callers in one event-loop turn share one EVAL; every entry is written once, each caller's in its order", async () => {
    const { redis, keys } = ctx;
    const publisher = createBatchedPublisher(redis, keys.stream);
    const callers = Array.from({ length: 30 }, (_, c) => Array.from({ length: 1 + (c % 4) }, (_, i) => JSON.stringify({ c, i })));
    const evalCalls = jest.spyOn(redis, 'eval');
    try {
      const outcomes = await Promise.all(callers.map((jsons) => publisher.publish(jsons)));
      expect(outcomes).toEqual(callers.map(() => ({ ok: true })));
      expect(evalCalls).toHaveBeenCalledTimes(1);
    } finally {
      evalCalls.mockRestore();
    }
    expect(await storedEvents(redis, keys.stream)).toEqual(callers.flat());
  });

  test('past MAX_ENTRIES_PER_CALL the turn is sent as several calls, none splitting a caller', async () => {
    const { redis, keys } = ctx;
    const publisher = createBatchedPublisher(redis, keys.stream);
    const callers = Array.from({ length: 12 }, (_, c) => Array.from({ length: 100 }, (_, i) => JSON.stringify({ c, i })));
    const evalCalls = jest.spyOn(redis, 'eval');
    try {
      const outcomes = await Promise.all(callers.map((jsons) => publisher.publish(jsons)));
      expect(outcomes.every((o) => o.ok)).toBe(true);
      // 100 per caller: a call closes once it holds MAX_ENTRIES_PER_CALL or more.
      const perCall = Math.ceil(MAX_ENTRIES_PER_CALL / 100);
      expect(evalCalls).toHaveBeenCalledTimes(Math.ceil(callers.length / perCall));
      for (const [, , , ...args] of evalCalls.mock.calls) expect(args.length % 100).toBe(0);
    } finally {
      evalCalls.mockRestore();
    }
    const stored = await storedEvents(redis, keys.stream);
    expect(stored).toEqual(callers.flat());
  });

  test('a call Redis refuses fails every caller in it, and nothing of it is written', async () => {
    const { redis, keys } = ctx;
    // Not a stream: the script's first XADD fails with WRONGTYPE.
    await redis.set(keys.stream, 'not a stream');
    const publisher = createBatchedPublisher(redis, keys.stream);
    const outcomes = await Promise.all([publisher.publish(['{"a":1}']), publisher.publish(['{"b":1}', '{"b":2}'])]);
    for (const o of outcomes) {
      expect(o.ok).toBe(false);
      if (!o.ok) expect(o.error.message).toMatch(/WRONGTYPE/);
    }
    expect(await redis.get(keys.stream)).toBe('not a stream');
  });

  test('works on a client with auto-pipelining (as the API runs it), and an empty list resolves at once', async () => {
    const { keys } = ctx;
    const piped = new Redis(testRedisUrl(), { enableAutoPipelining: true });
    try {
      const publisher = createBatchedPublisher(piped, keys.stream);
      expect(await publisher.publish([])).toEqual({ ok: true });
      const outcomes = await Promise.all([publisher.publish(['{"x":1}']), publisher.publish(['{"x":2}'])]);
      expect(outcomes).toEqual([{ ok: true }, { ok: true }]);
      expect(await storedEvents(piped, keys.stream)).toEqual(['{"x":1}', '{"x":2}']);
    } finally {
      piped.disconnect();
    }
  });
});
