import type { BatchOrigin } from '@fuel-code/consumer';
import { startEventConsumer } from '../../src/wire';
import { oversizedEntryError } from '@fuel-code/stream';
import { captureLogs, gitCommitEvent, waitFor, type EnvelopeInput } from '@fuel-code/testing';
import { consumerRedis, countEvents, field, groupPending, publishAll, readDeadLetters, useConsumerTestEnv } from './helpers';

const env = useConsumerTestEnv('limits');
const limits = { maxEntryBytes: 2048, maxBatchBytes: 4096 };

/** Not UTF-8, not JSON: the dead letter must keep these exact bytes. */
const oversized = (n = 5000) => Buffer.alloc(n, 0xfe);
/** The event padded to `bytes` of JSON. */
function padded(event: EnvelopeInput, bytes: number): string {
  const bare = JSON.stringify({ ...event, data: { pad: '' } }).length;
  return JSON.stringify({ ...event, data: { pad: 'p'.repeat(bytes - bare) } });
}

/** These events are stored and nothing is pending (the table is shared by the file's tests). */
async function allStored(events: readonly EnvelopeInput[]): Promise<boolean> {
  const stored = await countEvents(env.db.sql, events.map((e) => e.id));
  return stored === events.length && (await groupPending(env.redis, env.keys)) === 0;
}
/** The entry's size as Redis hands it over: field name plus value. */
const entrySize = (value: Buffer | string) => 'event'.length + Buffer.byteLength(value);

async function xadd(value: Buffer | string): Promise<string> {
  return (await env.redis.xadd(env.keys.stream, '*', 'event', value)) ?? '';
}

async function expectOneOversizedLetter(streamId: string, bytes: Buffer, attempts: number, consumer: string): Promise<void> {
  const letters = await readDeadLetters(env.redis, env.keys.deadLetter);
  expect(letters).toHaveLength(1);
  const [letter] = letters;
  expect(letter?.fields.get('event')).toEqual(bytes);
  expect(field(letter, 'stream_id')).toBe(streamId);
  expect(field(letter, 'reason')).toBe('invalid');
  expect(field(letter, 'error')).toBe(oversizedEntryError(entrySize(bytes), limits.maxEntryBytes));
  expect(field(letter, 'attempts')).toBe(String(attempts));
  expect(field(letter, 'consumer')).toBe(consumer);
}

test('an oversized entry in the backlog is dead-lettered as invalid with its exact bytes; its neighbours are stored', async () => {
  await env.redis.xgroup('CREATE', env.keys.stream, env.keys.group, '0', 'MKSTREAM');
  const good = [gitCommitEvent(null), gitCommitEvent(null)];
  await publishAll(env.redis, env.keys.stream, [good[0] ?? '']);
  const bigId = await xadd(oversized());
  await publishAll(env.redis, env.keys.stream, [good[1] ?? '']);
  const consumer = env.start(limits);

  await waitFor(() => allStored(good), 15_000);
  await expectOneOversizedLetter(bigId, oversized(), 1, consumer.name);
  expect(consumer.handle.counters().deadLettered).toEqual({ invalid: 1, failed: 0 });
  expect(consumer.logs.find(`Invalid stream entry ${bigId} dead-lettered: entry is 5005 bytes, over the limit of 2048 bytes`)).toHaveLength(1);
});

test('an oversized entry that wakes the blocking read is dead-lettered with its exact bytes; the rest of the burst is stored', async () => {
  const consumer = env.start({ ...limits, blockMs: 10_000 });
  // Wait until the consumer sits in its blocking XREADGROUP, so the entry reaches it there.
  await waitFor(async () => new RegExp(`name=fc-read:${consumer.name} .*cmd=xreadgroup`).test(String(await env.redis.client('LIST'))), 10_000, {
    description: 'the consumer blocked in XREADGROUP',
  });
  const bigId = await xadd(oversized());
  const burst = [gitCommitEvent(null), gitCommitEvent(null)];
  await publishAll(env.redis, env.keys.stream, burst);
  await waitFor(() => allStored(burst), 15_000);
  await expectOneOversizedLetter(bigId, oversized(), 1, consumer.name);
});

test('oversized entries left pending by a dead consumer, or by this one, are dead-lettered when taken back', async () => {
  await env.redis.xgroup('CREATE', env.keys.stream, env.keys.group, '0', 'MKSTREAM');
  const bigId = await xadd(oversized(3000));
  const good = [gitCommitEvent(null)];
  await publishAll(env.redis, env.keys.stream, good);
  // Read by a consumer that died: pending, idle for long.
  await env.redis.xreadgroup('GROUP', env.keys.group, 'ghost', 'COUNT', 10, 'STREAMS', env.keys.stream, '>');
  const pending = (await env.redis.xpending(env.keys.stream, env.keys.group, '-', '+', 10)) as [string][];
  await env.redis.xclaim(env.keys.stream, env.keys.group, 'ghost', 0, ...pending.map((p) => p[0]), 'IDLE', 600_000, 'JUSTID');

  const rescuer = env.start({ ...limits, claimIdleMs: 60_000 });
  await waitFor(() => allStored(good), 15_000);
  // Delivered to the ghost, then claimed: two deliveries.
  await expectOneOversizedLetter(bigId, oversized(3000), 2, rescuer.name);
  await rescuer.stop();

  // The same consumer name picks up its own pending entries at boot.
  await env.redis.del(env.keys.deadLetter);
  const ownBig = await xadd(oversized(4000));
  await env.redis.xreadgroup('GROUP', env.keys.group, 'returning', 'COUNT', 10, 'STREAMS', env.keys.stream, '>');
  const returning = env.start({ ...limits, consumerName: 'returning' });
  await waitFor(async () => (await groupPending(env.redis, env.keys)) === 0, 15_000);
  await expectOneOversizedLetter(ownBig, oversized(4000), 2, returning.name);
});

test('a backlog of large but legal entries is read in batches cut by bytes, every one stored', async () => {
  const events = Array.from({ length: 24 }, () => gitCommitEvent(null));
  const values = events.map((e) => padded(e, 1500));
  await env.redis.xgroup('CREATE', env.keys.stream, env.keys.group, '0', 'MKSTREAM');
  await publishAll(env.redis, env.keys.stream, values);
  const batches: { size: number; origin: BatchOrigin }[] = [];
  const logs = captureLogs('info');
  const redis = consumerRedis('limits-batches');
  const handle = startEventConsumer({
    redis,
    sql: env.db.sql,
    logger: logs.logger,
    observer: { onBatch: (size, origin) => batches.push({ size, origin }) },
    config: {
      ...env.keys,
      deadLetterStream: env.keys.deadLetter,
      consumerName: 'batches',
      batchSize: 100,
      inFlightBatches: 2,
      blockMs: 1000,
      claimIdleMs: 60_000,
      maxAttempts: 3,
      statsIntervalMs: 60_000,
      stopTimeoutMs: 5000,
      stuckBatchMs: 60_000,
      ...limits,
    },
  });
  try {
    await waitFor(() => allStored(events), 15_000, { description: 'all 24 stored' });
    const size = entrySize(values[0] ?? '');
    // Entries are read while the bytes looked at are under maxBatchBytes: the one reaching it is the last.
    const perBatch = Math.ceil(limits.maxBatchBytes / size);
    expect(batches.map((b) => b.size)).toEqual(Array.from({ length: 24 / perBatch }, () => perBatch));
    expect(perBatch).toBeLessThan(100);
    expect(batches.every((b) => b.origin === 'new')).toBe(true);
    expect(await env.redis.xlen(env.keys.deadLetter)).toBe(0);
  } finally {
    await handle.stop();
    redis.disconnect();
  }
});
