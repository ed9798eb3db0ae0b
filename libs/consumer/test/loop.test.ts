import type { HandleEntries } from '@fuel-code/consumer';
import { waitFor } from '@fuel-code/testing';
import { gate, recordingHandler, useLoopTestEnv } from './loop-helpers';

// The consume loop alone: Redis, and a fake handler in place of the event pipeline.
const env = useLoopTestEnv('loop');

test('entries are read, handed to the handler once with their delivery count, and acknowledged after ack', async () => {
  const handler = recordingHandler();
  const loop = env.start(handler.handle);
  await loop.logs.waitForLine('Event consumer started');
  const ids = await env.publish('a', 'b', 'c');
  await waitFor(() => handler.seen.length === 3, 10_000, { description: 'three entries handled' });
  expect(handler.seen).toEqual(ids.map((id, i) => ({ id, delivery: 1, value: ['a', 'b', 'c'][i] })));
  await waitFor(async () => (await env.pending()) === 0, 5000, { description: 'pending 0' });
});

test('an entry answered retry is not acknowledged, and comes back with its next delivery count', async () => {
  const handler = recordingHandler((_, delivery) => (delivery < 3 ? 'retry' : 'ack'));
  env.start(handler.handle);
  const [id] = await env.publish('again');
  await waitFor(() => handler.seen.length === 3, 10_000, { description: 'three deliveries' });
  expect(handler.seen.map((s) => [s.id, s.delivery])).toEqual([[id, 1], [id, 2], [id, 3]]);
  await waitFor(async () => (await env.pending()) === 0, 5000, { description: 'acknowledged on the third' });
});

test('an entry the handler leaves out of its answer stays pending (never acknowledged unsaid)', async () => {
  const seen: string[] = [];
  const handle: HandleEntries = async (batch) => {
    seen.push(...batch.map((d) => d.entry.id));
    return new Map();
  };
  const loop = env.start(handle);
  const [id] = await env.publish('unsaid');
  await waitFor(() => seen.length >= 2, 10_000, { description: 'read back' });
  await loop.stop();
  expect(await env.ownerOf(id ?? '')).toBe(loop.name);
});

test('entries a dead consumer left idle are reclaimed, with their delivery count', async () => {
  await env.redis.xgroup('CREATE', env.keys.stream, env.keys.group, '0', 'MKSTREAM');
  const ids = await env.publish('x', 'y');
  expect(await env.ghostReads(2, 600_000)).toEqual(ids);
  const handler = recordingHandler();
  const loop = env.start(handler.handle);
  await waitFor(() => handler.seen.length === 2, 10_000, { description: 'both reclaimed' });
  expect(handler.seen.map((s) => s.delivery)).toEqual([2, 2]);
  expect(loop.logs.find('Reclaimed 2 idle entries from other consumers')).toHaveLength(1);
  await waitFor(async () => (await env.pending()) === 0, 5000, { description: 'pending 0' });
});

test('an entry held longer than claim-idle by a live consumer is kept fresh, so another one does not steal it', async () => {
  const held = gate();
  const holder = recordingHandler(() => held.opened.then(() => 'ack' as const));
  const holding = env.start(holder.handle, { claimIdleMs: 300 });
  const [id] = await env.publish('slow');
  await waitFor(() => holder.seen.length === 1, 5000, { description: 'the holder to start' });
  const thief = recordingHandler();
  const stealing = env.start(thief.handle, { claimIdleMs: 300 });
  await stealing.logs.waitForLine('Event consumer started');
  // Several reclaim scans by the other consumer, each long after claim-idle-ms.
  const scans = stealing.logs.find('Reclaim scan').length;
  await waitFor(() => stealing.logs.find('Reclaim scan').length >= scans + 2, 10_000, { description: 'two reclaim scans' });
  expect(thief.seen).toHaveLength(0);
  expect(await env.ownerOf(id ?? '')).toBe(holding.name);
  held.open();
  await waitFor(async () => (await env.pending()) === 0, 5000, { description: 'acknowledged by the holder' });
  expect(holder.seen).toHaveLength(1);
});

test('stop in the middle of a batch: the batch is finished and acknowledged before stop returns', async () => {
  const held = gate();
  let signalAtHandle: AbortSignal | undefined;
  const handler = recordingHandler(() => held.opened.then(() => 'ack' as const));
  const loop = env.start(async (batch, signal) => {
    signalAtHandle = signal;
    return handler.handle(batch, signal);
  });
  await env.publish('in hand');
  await waitFor(() => handler.seen.length === 1, 5000, { description: 'the batch in hand' });
  const stopped = loop.stop();
  await waitFor(() => signalAtHandle?.aborted === true, 5000, { description: 'the handler told to stop' });
  held.open();
  await stopped;
  expect(await env.pending()).toBe(0);
  expect(loop.handle.health().running).toBe(false);
  await expect(loop.handle.done).resolves.toBeUndefined();
});

test('a batch that does not finish within stopTimeoutMs is handed back (idle for everyone), and stop returns anyway', async () => {
  const never = gate();
  const handler = recordingHandler(() => never.opened.then(() => 'ack' as const));
  const loop = env.start(handler.handle, { stopTimeoutMs: 300 });
  const [id] = await env.publish('stuck');
  await waitFor(() => handler.seen.length === 1, 5000, { description: 'the batch in hand' });
  await loop.stop();
  expect(loop.logs.find('Consumer did not finish its batch in time; handing it back')).toHaveLength(1);
  expect(loop.logs.find('Handed back 1 pending entries')).toHaveLength(1);
  const rows = (await env.redis.xpending(env.keys.stream, env.keys.group, '-', '+', 10)) as [string, string, number, number][];
  expect(rows).toHaveLength(1);
  expect(rows[0]?.[0]).toBe(id);
  expect(rows[0]?.[2]).toBeGreaterThan(60_000);
  never.open();
});

test('stop: an entry awaiting its retry is read back and finished before stop returns', async () => {
  const handler = recordingHandler((_, delivery) => (delivery === 1 ? 'retry' : 'ack'));
  const loop = env.start(handler.handle, { claimIdleMs: 600_000 });
  await env.publish('retry me');
  await waitFor(() => handler.seen.length === 1, 5000, { description: 'the first delivery' });
  await loop.stop();
  expect(handler.seen.map((s) => s.delivery)).toEqual([1, 2]);
  expect(await env.pending()).toBe(0);
});

test('the group is recreated when Redis loses it (NOGROUP), and new entries are handled', async () => {
  const handler = recordingHandler();
  const loop = env.start(handler.handle, { blockMs: 200 });
  await env.publish('before');
  await waitFor(() => handler.seen.length === 1, 5000, { description: 'the first entry' });
  // What a Redis restart without persistence leaves: no stream, no group.
  await env.redis.del(env.keys.stream);
  await loop.logs.waitForLine('Consumer group is gone (NOGROUP): Redis lost its data; recreating the group', 10_000);
  await env.publish('after');
  await waitFor(() => handler.seen.some((s) => s.value === 'after'), 10_000, { description: 'the entry after the loss' });
  await waitFor(async () => (await env.pending()) === 0, 5000, { description: 'pending 0' });
  expect(loop.handle.health().running).toBe(true);
});

test('in-flight limit: no more than inFlightBatches batches are handed over at once', async () => {
  const held = gate();
  let inHandler = 0;
  let most = 0;
  const handler = recordingHandler(() => held.opened.then(() => 'ack' as const));
  env.start(
    async (batch, signal) => {
      most = Math.max(most, ++inHandler);
      try {
        return await handler.handle(batch, signal);
      } finally {
        inHandler--;
      }
    },
    { batchSize: 1, inFlightBatches: 2 },
  );
  await env.publish('1', '2', '3', '4');
  await waitFor(() => inHandler === 2, 5000, { description: 'two batches in flight' });
  expect(handler.seen).toHaveLength(2);
  held.open();
  await waitFor(async () => handler.seen.length === 4 && (await env.pending()) === 0, 10_000, { description: 'all four' });
  expect(most).toBe(2);
});
