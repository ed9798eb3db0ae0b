import { compareIds, ensureConsumerGroup, publish, publishMany, readFromStream } from '@fuel-code/stream';
import { addDeadLetterForTest, useRedisKeys } from './helpers';

const ctx = useRedisKeys('stream-publish');

describe('publish', () => {
  test('writes one entry with exactly one field, `event`', async () => {
    const { redis, keys } = ctx;
    const json = JSON.stringify({ id: '01J0000000000000000000000A', type: 'git.commit' });
    const id = await publish(redis, keys.stream, json);
    const entries = await redis.xrange(keys.stream, '-', '+');
    expect(entries).toEqual([[id, ['event', json]]]);
  });

  test('keeps a Buffer value byte for byte', async () => {
    const { redis, keys } = ctx;
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    const id = await publish(redis, keys.stream, bytes);
    const entries = await redis.xrangeBuffer(keys.stream, '-', '+');
    expect(entries).toHaveLength(1);
    expect(entries[0]?.[0].toString()).toBe(id);
    expect(entries[0]?.[1]).toEqual([Buffer.from('event'), bytes]);
  });
});

describe('publishMany', () => {
  test('pipelines N entries in one round trip and reports each id in order', async () => {
    const { redis, keys } = ctx;
    const jsons = Array.from({ length: 25 }, (_, i) => JSON.stringify({ n: i }));
    const pipelineSpy = jest.spyOn(redis, 'pipeline');
    const xaddSpy = jest.spyOn(redis, 'xadd');
    try {
      const outcomes = await publishMany(redis, keys.stream, jsons);
      expect(pipelineSpy).toHaveBeenCalledTimes(1);
      expect(xaddSpy).not.toHaveBeenCalled();
      const entries = await redis.xrange(keys.stream, '-', '+');
      expect(entries).toHaveLength(25);
      expect(outcomes).toEqual(entries.map(([id]) => ({ ok: true, id })));
      expect(entries.map(([, fields]) => fields)).toEqual(jsons.map((j) => ['event', j]));
    } finally {
      pipelineSpy.mockRestore();
      xaddSpy.mockRestore();
    }
  });

  test('an empty list publishes nothing', async () => {
    const { redis, keys } = ctx;
    await expect(publishMany(redis, keys.stream, [])).resolves.toEqual([]);
    expect(await redis.exists(keys.stream)).toBe(0);
  });

  test('a failed XADD is reported on its own entry, not thrown', async () => {
    const { redis, keys } = ctx;
    await redis.set(keys.stream, 'not a stream');
    const outcomes = await publishMany(redis, keys.stream, ['{}', '{}']);
    expect(outcomes).toHaveLength(2);
    for (const outcome of outcomes) {
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.error.message).toMatch(/WRONGTYPE/);
    }
  });
});

describe('ensureConsumerGroup', () => {
  test('creates the group and the stream (MKSTREAM), then reports it exists', async () => {
    const { redis, keys } = ctx;
    expect(await redis.exists(keys.stream)).toBe(0);
    await expect(ensureConsumerGroup(redis, keys)).resolves.toBe('created');
    expect(await redis.exists(keys.stream)).toBe(1);
    expect(await redis.xlen(keys.stream)).toBe(0);
    await expect(ensureConsumerGroup(redis, keys)).resolves.toBe('exists');
    const groups = (await redis.xinfo('GROUPS', keys.stream)) as unknown[][];
    expect(groups).toHaveLength(1);
    expect(groups[0]).toEqual(expect.arrayContaining(['name', keys.group, 'last-delivered-id', '0-0']));
  });

  test('starts at id 0: entries added before the group was created are delivered', async () => {
    const { redis, keys } = ctx;
    const before = [await publish(redis, keys.stream, '{"n":1}'), await publish(redis, keys.stream, '{"n":2}')];
    await expect(ensureConsumerGroup(redis, keys)).resolves.toBe('created');
    const after = await publish(redis, keys.stream, '{"n":3}');
    const read = await readFromStream(redis, { ...keys, consumer: 'c1', count: 10 });
    expect(read.map((e) => e.id)).toEqual([...before, after]);
  });

  test('other errors are thrown', async () => {
    const { redis, keys } = ctx;
    await redis.set(keys.stream, 'not a stream');
    await expect(ensureConsumerGroup(redis, keys)).rejects.toThrow(/WRONGTYPE/);
  });
});

describe('a dead letter (deadLetterAndAck)', () => {
  test('writes every CONTRACT §2 field, the event byte for byte', async () => {
    const { redis, keys } = ctx;
    const event = Buffer.from([0xff, 0xfe, 0x00, 0x7b]);
    const failedAt = new Date('2024-05-06T07:08:09.010Z');
    const id = await addDeadLetterForTest(redis, keys.deadLetter, {
      event,
      streamId: '1700000000000-3',
      reason: 'failed',
      error: 'boom: db down',
      attempts: 3,
      consumer: 'host-123',
      failedAt,
    });
    const entries = await redis.xrangeBuffer(keys.deadLetter, '-', '+');
    expect(entries).toHaveLength(1);
    const [rawId, rawFields] = entries[0] ?? [Buffer.alloc(0), []];
    expect(rawId.toString()).toBe(id);
    const names = rawFields.filter((_, i) => i % 2 === 0).map((b) => b.toString());
    expect(names).toEqual(['event', 'stream_id', 'reason', 'error', 'attempts', 'consumer', 'failed_at']);
    const fields = new Map(names.map((name, i) => [name, rawFields[2 * i + 1] ?? Buffer.alloc(0)]));
    expect(fields.get('event')?.equals(event)).toBe(true);
    expect(fields.get('stream_id')?.toString()).toBe('1700000000000-3');
    expect(fields.get('reason')?.toString()).toBe('failed');
    expect(fields.get('error')?.toString()).toBe('boom: db down');
    expect(fields.get('attempts')?.toString()).toBe('3');
    expect(fields.get('consumer')?.toString()).toBe('host-123');
    expect(fields.get('failed_at')?.toString()).toBe('2024-05-06T07:08:09.010Z');
  });

  test('an undefined event is written empty, and failed_at defaults to now in ISO-8601', async () => {
    const { redis, keys } = ctx;
    const start = Date.now();
    await addDeadLetterForTest(redis, keys.deadLetter, {
      event: undefined,
      streamId: '1-0',
      reason: 'invalid',
      error: 'entry has no event field',
      attempts: 1,
      consumer: 'c1',
    });
    const [entry] = await redis.xrange(keys.deadLetter, '-', '+');
    const fields = new Map<string, string>();
    const flat = entry?.[1] ?? [];
    for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i] ?? '', flat[i + 1] ?? '');
    expect(fields.get('event')).toBe('');
    expect(fields.get('reason')).toBe('invalid');
    const failedAt = fields.get('failed_at') ?? '';
    expect(failedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(failedAt)).toBeGreaterThanOrEqual(start - 1);
    expect(Date.parse(failedAt)).toBeLessThanOrEqual(Date.now());
  });

  test('a string event is written as is', async () => {
    const { redis, keys } = ctx;
    await addDeadLetterForTest(redis, keys.deadLetter, { event: '{"a":"é"}', streamId: '2-0', reason: 'invalid', error: 'x', attempts: 0, consumer: 'c' });
    const [entry] = await redis.xrange(keys.deadLetter, '-', '+');
    expect(entry?.[1].slice(0, 2)).toEqual(['event', '{"a":"é"}']);
  });
});

describe('compareIds', () => {
  test('orders ms-seq ids numerically, not as text', () => {
    expect(compareIds('9-1', '10-0')).toBe(-1);
    expect(compareIds('10-0', '9-1')).toBe(1);
    expect(compareIds('5-2', '5-10')).toBe(-1);
    expect(compareIds('5-10', '5-10')).toBe(0);
    expect(compareIds('18446744073709551615-0', '18446744073709551614-99')).toBe(1);
    expect(['10-0', '9-1', '9-10', '9-2', '100-0'].sort(compareIds)).toEqual(['9-1', '9-2', '9-10', '10-0', '100-0']);
  });
});
