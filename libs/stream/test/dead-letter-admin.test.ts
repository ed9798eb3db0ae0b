import {
  getDeadLetters,
  listDeadLetters,
  purgeDeadLetterIds,
  purgeDeadLetters,
  replayDeadLetters,
  type DeadLetterReason,
} from '@fuel-code/stream';
import { addDeadLetterForTest, useRedisKeys } from './helpers';

const ctx = useRedisKeys('stream-dl-admin');

async function addDeadLetter(event: string | Buffer | undefined, streamId: string, reason: DeadLetterReason = 'failed'): Promise<string> {
  return addDeadLetterForTest(ctx.redis, ctx.keys.deadLetter, { event, streamId, reason, error: `boom ${streamId}`, attempts: 3, consumer: 'c1' });
}

async function mainStream(): Promise<[Buffer, Buffer[]][]> {
  return ctx.redis.xrangeBuffer(ctx.keys.stream, '-', '+');
}

test('list: oldest first, every contract field, the raw event bytes, limited', async () => {
  const bytes = Buffer.from([0x7b, 0xff, 0x00, 0x7d]); // not UTF-8: kept byte for byte
  const a = await addDeadLetter(bytes, '1-1', 'invalid');
  const b = await addDeadLetter('{"id":"x"}', '2-2');
  await addDeadLetter('{"id":"y"}', '3-3');
  const listed = await listDeadLetters(ctx.redis, ctx.keys.deadLetter, 2);
  expect(listed.map((r) => r.id)).toEqual([a, b]);
  expect(listed[0]).toMatchObject({ streamId: '1-1', reason: 'invalid', error: 'boom 1-1', attempts: 3, consumer: 'c1' });
  expect(listed[0]?.event.equals(bytes)).toBe(true);
  expect(Date.parse(listed[0]?.failedAt ?? '')).not.toBeNaN();
  expect(await listDeadLetters(ctx.redis, `${ctx.keys.deadLetter}:none`, 10)).toEqual([]);
});

test('replay by id: publishes the original bytes with the single field `event`, then deletes the dead letter', async () => {
  const bytes = Buffer.from('{"id":"01ARZ3NDEKTSV4RRFFQ69G5FAV","weird":"\u00e9"}');
  const a = await addDeadLetter(bytes, '1-1');
  const b = await addDeadLetter('{"keep":true}', '2-2');
  const outcomes = await replayDeadLetters(ctx.redis, { ids: [a, '9-9'] }, { stream: ctx.keys.stream, deadLetterStream: ctx.keys.deadLetter });
  expect(outcomes).toEqual([
    { id: a, streamId: '1-1', status: 'replayed', newId: expect.stringMatching(/^\d+-\d+$/) as string },
    { id: '9-9', status: 'not-found' },
  ]);
  const entries = await mainStream();
  expect(entries).toHaveLength(1);
  expect(entries[0]?.[1].map(String)[0]).toBe('event');
  expect(entries[0]?.[1]).toHaveLength(2);
  expect(entries[0]?.[1][1]?.equals(bytes)).toBe(true);
  expect([...(await getDeadLetters(ctx.redis, ctx.keys.deadLetter, [a, b])).entries()].map(([id, r]) => [id, r?.streamId])).toEqual([
    [a, undefined],
    [b, '2-2'],
  ]);
});

test('replay --dry-run changes nothing', async () => {
  const a = await addDeadLetter('{"a":1}', '1-1');
  const b = await addDeadLetter(undefined, '2-2', 'invalid');
  const outcomes = await replayDeadLetters(ctx.redis, { all: true }, { stream: ctx.keys.stream, deadLetterStream: ctx.keys.deadLetter, dryRun: true });
  expect(outcomes).toEqual([
    { id: a, streamId: '1-1', status: 'would-replay' },
    { id: b, streamId: '2-2', status: 'skipped', reason: 'no event payload' },
  ]);
  expect(await ctx.redis.exists(ctx.keys.stream)).toBe(0);
  expect(await ctx.redis.xlen(ctx.keys.deadLetter)).toBe(2);
});

test('replay --all: every dead letter present at the start (paged), none written meanwhile; payload-less ones stay', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 250; i++) ids.push(await addDeadLetter(`{"n":${i}}`, `${i}-1`));
  const empty = await addDeadLetter(undefined, '999-0', 'invalid');
  const outcomes = await replayDeadLetters(ctx.redis, { all: true }, { stream: ctx.keys.stream, deadLetterStream: ctx.keys.deadLetter });
  expect(outcomes.filter((o) => o.status === 'replayed').map((o) => o.id)).toEqual(ids);
  expect(outcomes.at(-1)).toEqual({ id: empty, streamId: '999-0', status: 'skipped', reason: 'no event payload' });
  const published = (await mainStream()).map(([, fields]) => String(fields[1]));
  expect(published).toEqual(ids.map((_, i) => `{"n":${i}}`));
  expect((await ctx.redis.xrange(ctx.keys.deadLetter, '-', '+')).map(([id]) => id)).toEqual([empty]);
});

test('replay stops at the first failed publish and deletes nothing it did not publish', async () => {
  const a = await addDeadLetter('{"a":1}', '1-1');
  const b = await addDeadLetter('{"b":2}', '2-2');
  await ctx.redis.set(ctx.keys.stream, 'not a stream'); // XADD fails with WRONGTYPE
  const outcomes = await replayDeadLetters(ctx.redis, { all: true }, { stream: ctx.keys.stream, deadLetterStream: ctx.keys.deadLetter });
  expect(outcomes).toEqual([{ id: a, streamId: '1-1', status: 'failed', error: expect.stringMatching(/WRONGTYPE/) as string }]);
  expect((await ctx.redis.xrange(ctx.keys.deadLetter, '-', '+')).map(([id]) => id)).toEqual([a, b]);
});

test('purge deletes what is there and returns the count', async () => {
  await addDeadLetter('{"a":1}', '1-1');
  await addDeadLetter('{"b":2}', '2-2');
  expect(await purgeDeadLetters(ctx.redis, ctx.keys.deadLetter)).toBe(2);
  expect(await ctx.redis.xlen(ctx.keys.deadLetter)).toBe(0);
  expect(await purgeDeadLetters(ctx.redis, ctx.keys.deadLetter)).toBe(0);
  expect(await purgeDeadLetters(ctx.redis, `${ctx.keys.deadLetter}:missing`)).toBe(0);
});

test('purge by ids deletes exactly those: one written after the selection survives, a missing id counts nothing', async () => {
  const a = await addDeadLetter('{"a":1}', '1-1');
  const b = await addDeadLetter('{"b":2}', '2-2');
  const shown = [a, b, '1-0'];
  const later = await addDeadLetter('{"c":3}', '3-3');
  expect(await purgeDeadLetterIds(ctx.redis, ctx.keys.deadLetter, shown)).toBe(2);
  expect((await ctx.redis.xrange(ctx.keys.deadLetter, '-', '+')).map(([id]) => id)).toEqual([later]);
  expect(await purgeDeadLetterIds(ctx.redis, ctx.keys.deadLetter, [])).toBe(0);
});

test('getDeadLetters: many ids across round trips come back in the order given, missing ones undefined', async () => {
  const pipeline = ctx.redis.pipeline();
  for (let i = 0; i < 1200; i++) pipeline.xadd(ctx.keys.deadLetter, '*', 'event', `{"n":${i}}`, 'stream_id', `${i}-0`, 'reason', 'failed');
  const ids = ((await pipeline.exec()) ?? []).map(([, id]) => String(id));
  const asked = [...ids].reverse().concat(['1-0']);
  const found = await getDeadLetters(ctx.redis, ctx.keys.deadLetter, asked);
  expect([...found.keys()]).toEqual(asked);
  expect(found.get(ids[0] ?? '')?.event.toString()).toBe('{"n":0}');
  expect(found.get(ids[1199] ?? '')?.streamId).toBe('1199-0');
  expect(found.get('1-0')).toBeUndefined();
});
