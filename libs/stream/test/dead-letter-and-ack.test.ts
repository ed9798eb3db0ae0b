import { deadLetterAndAck, ensureConsumerGroup, readFromStream } from '@fuel-code/stream';
import { pendingRows, useRedisKeys } from './helpers';

const ctx = useRedisKeys('dl-ack');

async function deliveredEntry(bytes: Buffer): Promise<string> {
  const { redis, keys } = ctx;
  await ensureConsumerGroup(redis, keys);
  await redis.xadd(keys.stream, '*', 'event', bytes);
  const [entry] = await readFromStream(redis, { ...keys, consumer: 'c1', count: 1 });
  if (!entry) throw new Error('nothing delivered');
  return entry.id;
}

const letter = (streamId: string, consumer: string) => ({
  event: Buffer.from([0xff, 0x00, 0x7b]),
  streamId,
  reason: 'invalid' as const,
  error: 'not valid JSON',
  attempts: 1,
  consumer,
});

test('writes the dead letter byte for byte and acknowledges the entry, atomically', async () => {
  const { redis, keys } = ctx;
  const id = await deliveredEntry(Buffer.from([0xff, 0x00, 0x7b]));
  const dl = await deadLetterAndAck(redis, { ...keys, deadLetterStream: keys.deadLetter }, letter(id, 'c1'));
  expect(dl).toMatch(/^\d+-\d+$/);
  expect(await pendingRows(redis, keys.stream, keys.group)).toEqual([]);
  const [[, fields] = ['', []]] = (await redis.xrangeBuffer(keys.deadLetter, '-', '+')) as [Buffer, Buffer[]][];
  const map = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(String(fields[i]), fields[i + 1] ?? Buffer.alloc(0));
  expect(map.get('event')).toEqual(Buffer.from([0xff, 0x00, 0x7b]));
  expect(String(map.get('stream_id'))).toBe(id);
  expect([...map.keys()]).toEqual(['event', 'stream_id', 'reason', 'error', 'attempts', 'consumer', 'failed_at']);
});

test('a second consumer handling the same entry writes no second dead letter', async () => {
  const { redis, keys } = ctx;
  const id = await deliveredEntry(Buffer.from('nope'));
  // c2 reclaimed it while c1 was still on it; both finish.
  await redis.xclaim(keys.stream, keys.group, 'c2', 0, id);
  expect(await deadLetterAndAck(redis, { ...keys, deadLetterStream: keys.deadLetter }, letter(id, 'c2'))).toBeDefined();
  expect(await deadLetterAndAck(redis, { ...keys, deadLetterStream: keys.deadLetter }, letter(id, 'c1'))).toBeUndefined();
  expect(await redis.xlen(keys.deadLetter)).toBe(1);
});
