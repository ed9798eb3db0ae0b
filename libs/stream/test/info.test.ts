import { acknowledge, ensureConsumerGroup, groupInfos, publishMany, readFromStream, streamStatus } from '@fuel-code/stream';
import { addDeadLetterForTest, useRedisKeys } from './helpers';

const ctx = useRedisKeys('stream-info');

test('streamStatus: length, each group with lag, pending and oldest pending id, consumers with pending and idle, dead letters', async () => {
  const { redis, keys } = ctx;
  const outcomes = await publishMany(redis, keys.stream, Array.from({ length: 10 }, (_, i) => `{"n":${i}}`));
  const ids = outcomes.map((o) => (o.ok ? o.id : ''));
  await ensureConsumerGroup(redis, keys);
  const a = await readFromStream(redis, { ...keys, consumer: 'alpha', count: 3 });
  await readFromStream(redis, { ...keys, consumer: 'beta', count: 2 });
  await acknowledge(redis, keys, [a[0]?.id ?? '']);
  await addDeadLetterForTest(redis, keys.deadLetter, { event: 'x', streamId: '1-0', reason: 'invalid', error: 'e', attempts: 1, consumer: 'alpha' });

  const status = await streamStatus(redis, { stream: keys.stream, deadLetterStream: keys.deadLetter });
  expect(status).toMatchObject({ stream: keys.stream, exists: true, length: 10, deadLetterStream: keys.deadLetter, deadLetters: 1 });
  expect(status.groups).toHaveLength(1);
  const group = status.groups[0];
  expect(group).toMatchObject({ name: keys.group, consumers: 2, pending: 4, lastDeliveredId: ids[4], entriesRead: 5, lag: 5, oldestPendingId: ids[1] });
  expect(group?.consumerList.map((c) => [c.name, c.pending])).toEqual([
    ['alpha', 2],
    ['beta', 2],
  ]);
  expect(group?.consumerList.every((c) => c.idleMs >= 0)).toBe(true);
});

test('a missing stream: exists false, no groups, zero counts', async () => {
  const { redis, keys } = ctx;
  expect(await groupInfos(redis, keys.stream)).toEqual([]);
  expect(await streamStatus(redis, { stream: keys.stream, deadLetterStream: keys.deadLetter })).toEqual({
    stream: keys.stream,
    exists: false,
    length: 0,
    groups: [],
    deadLetterStream: keys.deadLetter,
    deadLetters: 0,
  });
});
