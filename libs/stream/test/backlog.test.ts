import { acknowledge, BacklogReadTimeoutError, createBacklogGauge, ensureConsumerGroup, publishMany, readBacklog, readFromStream } from '@fuel-code/stream';
import { createTestRedis, startRedisServer, uniqueStreamKeys, waitFor } from '@fuel-code/testing';
import { useRedisKeys } from './helpers';

const ctx = useRedisKeys('stream-backlog');

async function publish(count: number): Promise<string[]> {
  const outcomes = await publishMany(ctx.redis, ctx.keys.stream, Array.from({ length: count }, (_, i) => `{"n":${i}}`));
  return outcomes.map((o) => {
    if (!o.ok) throw o.error;
    return o.id;
  });
}

describe('readBacklog', () => {
  test('a stream that does not exist has no backlog', async () => {
    const { redis, keys } = ctx;
    expect(await readBacklog(redis, keys)).toEqual({ entries: 0, source: 'no-group' });
  });

  test('without the group, every entry in the stream is backlog (XLEN)', async () => {
    const { redis, keys } = ctx;
    await publish(7);
    // Another group's progress says nothing about ours.
    await redis.xgroup('CREATE', keys.stream, 'someone-else', '$');
    expect(await readBacklog(redis, keys)).toEqual({ entries: 7, source: 'no-group' });
  });

  test('with the group: lag plus pending, shrinking as entries are read and acknowledged', async () => {
    const { redis, keys } = ctx;
    await publish(10);
    await ensureConsumerGroup(redis, keys);
    expect(await readBacklog(redis, keys)).toEqual({ entries: 10, source: 'group' });

    // Read 4 (lag 6, pending 4): still 10 to finish.
    const read = await readFromStream(redis, { ...keys, consumer: 'c', count: 4 });
    expect(read).toHaveLength(4);
    expect(await readBacklog(redis, keys)).toEqual({ entries: 10, source: 'group' });

    await acknowledge(redis, keys, read.map((e) => e.id));
    expect(await readBacklog(redis, keys)).toEqual({ entries: 6, source: 'group' });
  });

  test('when Redis cannot tell the lag (an undelivered entry was deleted), the stream length stands in', async () => {
    const { redis, keys } = ctx;
    const ids = await publish(5);
    await ensureConsumerGroup(redis, keys);
    await readFromStream(redis, { ...keys, consumer: 'c', count: 2 });
    await redis.xdel(keys.stream, ids[4] ?? '');
    const [group] = (await redis.xinfo('GROUPS', keys.stream)) as unknown[][];
    expect(group?.[group.indexOf('lag') + 1]).toBeNull(); // the premise: XINFO really says nil
    // 4 entries remain, 2 of them pending and 2 undelivered.
    expect(await readBacklog(redis, keys)).toEqual({ entries: 4, source: 'lag-unknown' });
  });

  test('a key that is not a stream is an error, not a backlog of 0', async () => {
    const { redis, keys } = ctx;
    await redis.set(keys.stream, 'not a stream');
    await expect(readBacklog(redis, keys)).rejects.toThrow(/WRONGTYPE/);
  });
});

describe('createBacklogGauge', () => {
  test('answers from memory while the value is younger than maxAgeMs', async () => {
    const { redis, keys } = ctx;
    await publish(3);
    const gauge = createBacklogGauge({ redis, ...keys, maxAgeMs: 60_000 });
    expect(gauge.fresh()).toBeUndefined();
    expect((await gauge.read()).entries).toBe(3);
    await publish(2);
    expect((await gauge.read()).entries).toBe(3);
    expect(gauge.fresh()).toEqual({ entries: 3, source: 'no-group' });
  });

  test('maxAgeMs 0 reads Redis every time; concurrent callers share one read', async () => {
    const { redis, keys } = ctx;
    await publish(3);
    const gauge = createBacklogGauge({ redis, ...keys, maxAgeMs: 0 });
    const first = gauge.read();
    expect(gauge.read()).toBe(first);
    expect((await first).entries).toBe(3);
    expect(gauge.fresh()).toBeUndefined();
    await publish(2);
    expect((await gauge.read()).entries).toBe(5);
  });

  test('a failed read is not cached: the next call reads again', async () => {
    const { redis, keys } = ctx;
    await redis.set(keys.stream, 'not a stream');
    const gauge = createBacklogGauge({ redis, ...keys, maxAgeMs: 60_000 });
    await expect(gauge.read()).rejects.toThrow(/WRONGTYPE/);
    await redis.del(keys.stream);
    await publish(1);
    expect(await gauge.read()).toEqual({ entries: 1, source: 'no-group' });
  });
});

test('readTimeoutMs: a Redis that does not answer makes read() reject with BacklogReadTimeoutError; the late answer is cached', async () => {
  const server = await startRedisServer();
  // No command timeout on this client: without the gauge's own bound, read() would wait forever.
  const redis = createTestRedis(server.url);
  const keys = uniqueStreamKeys('stream-backlog-hung');
  const pid = server.pid();
  if (pid === undefined) throw new Error('the private redis-server has no pid');
  try {
    await redis.xadd(keys.stream, '*', 'event', '{}');
    const gauge = createBacklogGauge({ redis, ...keys, maxAgeMs: 600_000, readTimeoutMs: 200 });
    process.kill(pid, 'SIGSTOP');
    const err: unknown = await gauge.read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BacklogReadTimeoutError);
    expect(err).toMatchObject({ code: 'BACKLOG_READ_TIMEOUT', timeoutMs: 200 });

    process.kill(pid, 'SIGCONT');
    // The read that timed out for its caller still completes, and later callers get its answer.
    const answer = await waitFor(() => gauge.read().catch(() => undefined), 10_000, { description: 'the backlog read to complete' });
    expect(answer).toEqual({ entries: 1, source: 'no-group' });
  } finally {
    process.kill(pid, 'SIGCONT');
    redis.disconnect();
    await server.kill();
  }
});
