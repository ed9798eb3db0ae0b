import {
  acknowledge,
  compareIds,
  ensureConsumerGroup,
  nextStreamId,
  publishMany,
  readFromStream,
  readGroupPositions,
  safeTrimMinId,
  trimStream,
} from '@fuel-code/stream';
import { useRedisKeys } from './helpers';

const ctx = useRedisKeys('stream-retention');

async function publishN(n: number, from = 0): Promise<string[]> {
  const outcomes = await publishMany(ctx.redis, ctx.keys.stream, Array.from({ length: n }, (_, i) => `{"n":${from + i}}`));
  return outcomes.map((o) => (o.ok ? o.id : 'failed'));
}

async function idsInStream(): Promise<string[]> {
  return (await ctx.redis.xrange(ctx.keys.stream, '-', '+')).map(([id]) => id);
}

describe('safeTrimMinId (pure)', () => {
  test('no group: nothing may be trimmed', () => {
    expect(safeTrimMinId([])).toBeUndefined();
  });

  test('a group with nothing pending needs everything after its last-delivered-id', () => {
    expect(safeTrimMinId([{ name: 'g', lastDeliveredId: '100-5', oldestPendingId: undefined }])).toBe('100-6');
  });

  test('a group needs its oldest pending entry when that is older', () => {
    expect(safeTrimMinId([{ name: 'g', lastDeliveredId: '100-5', oldestPendingId: '90-0' }])).toBe('90-0');
  });

  test('the oldest need over all groups wins (ids compared numerically, not as text)', () => {
    const minId = safeTrimMinId([
      { name: 'fast', lastDeliveredId: '1000-0', oldestPendingId: '999-3' },
      { name: 'lagging', lastDeliveredId: '99-9', oldestPendingId: undefined },
      { name: 'stuck', lastDeliveredId: '2000-0', oldestPendingId: '150-0' },
    ]);
    expect(minId).toBe('99-10');
  });

  test('nextStreamId carries a maxed sequence into the milliseconds', () => {
    expect(nextStreamId('0-0')).toBe('0-1');
    expect(nextStreamId('5-18446744073709551615')).toBe('6-0');
    expect(compareIds(nextStreamId('1700000000000-9'), '1700000000000-9')).toBe(1);
  });
});

describe('trimStream (real Redis)', () => {
  test('two groups, one lagging and one with pending entries: only entries both are done with are removed', async () => {
    const { redis, keys } = ctx;
    const ids = await publishN(20);
    const lagging = { stream: keys.stream, group: `${keys.group}:lagging` };
    const holding = { stream: keys.stream, group: `${keys.group}:holding` };
    await ensureConsumerGroup(redis, lagging);
    await ensureConsumerGroup(redis, holding);

    // lagging: read and acknowledged the first 12, never saw the rest.
    const lagRead = await readFromStream(redis, { ...lagging, consumer: 'a', count: 12 });
    await acknowledge(redis, lagging, lagRead.map((e) => e.id));
    // holding: read all 20, acknowledged all but #5 and #15, which are still pending.
    const holdRead = await readFromStream(redis, { ...holding, consumer: 'b', count: 20 });
    expect(holdRead).toHaveLength(20);
    await acknowledge(redis, holding, holdRead.map((e) => e.id).filter((id) => id !== ids[5] && id !== ids[15]));

    const positions = await readGroupPositions(redis, keys.stream);
    expect(positions).toEqual(
      expect.arrayContaining([
        { name: lagging.group, lastDeliveredId: ids[11], oldestPendingId: undefined },
        { name: holding.group, lastDeliveredId: ids[19], oldestPendingId: ids[5] },
      ]),
    );

    const result = await trimStream(redis, keys.stream);
    expect(result).toEqual({ status: 'trimmed', minId: ids[5], removed: 5 });
    // #5 (pending in holding) and everything after it stay: the lagging group still needs 12..19.
    expect(await idsInStream()).toEqual(ids.slice(5));

    // holding acknowledges #5: the lagging group's need (#12) is now the oldest... but #15 is still pending.
    await acknowledge(redis, holding, [ids[5] as string]);
    expect(await trimStream(redis, keys.stream)).toEqual({ status: 'trimmed', minId: ids[12], removed: 7 });
    expect(await idsInStream()).toEqual(ids.slice(12));

    // lagging catches up and acknowledges everything: #15, pending in holding, is now the limit.
    const rest = await readFromStream(redis, { ...lagging, consumer: 'a', count: 100 });
    expect(rest.map((e) => e.id)).toEqual(ids.slice(12));
    await acknowledge(redis, lagging, rest.map((e) => e.id));
    expect(await trimStream(redis, keys.stream)).toEqual({ status: 'trimmed', minId: ids[15], removed: 3 });
    expect(await idsInStream()).toEqual(ids.slice(15));

    // The pending entry is still readable by its owner, whole.
    const own = (await redis.xreadgroup('GROUP', holding.group, 'b', 'COUNT', 10, 'STREAMS', keys.stream, '0')) as [string, [string, string[]][]][];
    expect(own[0]?.[1]).toEqual([[ids[15], ['event', '{"n":15}']]]);

    // Everyone done: everything goes; new entries are kept for both groups.
    await acknowledge(redis, holding, [ids[15] as string]);
    expect(await trimStream(redis, keys.stream)).toMatchObject({ status: 'trimmed', removed: 5 });
    expect(await redis.xlen(keys.stream)).toBe(0);
    const fresh = await publishN(3, 100);
    expect(await trimStream(redis, keys.stream)).toMatchObject({ status: 'trimmed', removed: 0 });
    expect(await idsInStream()).toEqual(fresh);
  });

  test('a group that has read nothing keeps the whole stream', async () => {
    const { redis, keys } = ctx;
    const ids = await publishN(5);
    await ensureConsumerGroup(redis, keys);
    const other = { stream: keys.stream, group: `${keys.group}:other` };
    await ensureConsumerGroup(redis, other);
    await acknowledge(redis, other, (await readFromStream(redis, { ...other, consumer: 'x', count: 10 })).map((e) => e.id));
    expect(await trimStream(redis, keys.stream)).toEqual({ status: 'trimmed', minId: '0-1', removed: 0 });
    expect(await idsInStream()).toEqual(ids);
  });

  test('no group, or no stream: nothing is trimmed', async () => {
    const { redis, keys } = ctx;
    expect(await trimStream(redis, keys.stream)).toEqual({ status: 'skipped', reason: 'no-stream' });
    await publishN(3);
    expect(await trimStream(redis, keys.stream)).toEqual({ status: 'skipped', reason: 'no-groups' });
    expect(await redis.xlen(keys.stream)).toBe(3);
  });

  test('a group created between reading positions and trimming makes the trim stand down', async () => {
    const { redis, keys } = ctx;
    const ids = await publishN(4);
    await ensureConsumerGroup(redis, keys);
    await acknowledge(redis, keys, (await readFromStream(redis, { ...keys, consumer: 'a', count: 10 })).map((e) => e.id));
    // A new group at id 0 appears right after the positions were read: it needs every entry.
    const original = redis.eval.bind(redis);
    const spy = jest.spyOn(redis, 'eval').mockImplementationOnce(async (...args: Parameters<typeof redis.eval>) => {
      await redis.xgroup('CREATE', keys.stream, `${keys.group}:late`, '0');
      return original(...args);
    });
    try {
      expect(await trimStream(redis, keys.stream)).toEqual({ status: 'changed', minId: nextStreamId(ids[3] as string) });
    } finally {
      spy.mockRestore();
    }
    expect(await idsInStream()).toEqual(ids);
    // The next round sees the new group and keeps what it needs.
    expect(await trimStream(redis, keys.stream)).toEqual({ status: 'trimmed', minId: '0-1', removed: 0 });
  });
});
