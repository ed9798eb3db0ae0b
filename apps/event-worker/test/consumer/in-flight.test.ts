import postgres from 'postgres';
import { makeEvent, startTcpProxy, waitFor, withHostPort } from '@fuel-code/testing';
import { createHandlerRegistry } from '@fuel-code/core';
import { countEvents, groupPending, publishAll, useConsumerTestEnv } from './helpers';

const env = useConsumerTestEnv('in_flight');

/** A batch handler that holds its transaction open until the test opens the gate. */
function gatedRegistry() {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let waiting = 0;
  const hold = async () => {
    waiting++;
    await gate;
  };
  const registry = createHandlerRegistry({ 'git.push': hold });
  return { registry, open, waiting: () => waiting };
}

test('two batches are in Postgres at once, and stop() finishes and acknowledges both', async () => {
  const gated = gatedRegistry();
  // Each batch its own workspace and device: a workspace created by an open transaction would
  // (rightly) make the other batch wait for its commit.
  const events = Array.from({ length: 20 }, (_, i) =>
    makeEvent('git.push', { workspace_id: `github.com/in-flight/${i < 10 ? 'a' : 'b'}-${Date.now()}`, device_id: `in-flight-${i < 10 ? 'a' : 'b'}`, data: { branch: 'main', remote: 'origin', commit_count: 1 } }),
  );
  await publishAll(env.redis, env.keys.stream, events);
  const consumer = env.start({ batchSize: 10, inFlightBatches: 2, registry: gated.registry });

  // Both batches reach their handler while neither has committed: two transactions in flight.
  await waitFor(() => gated.waiting() >= 2, 10_000);
  expect(await countEvents(env.db.sql, events.map((e) => e.id))).toBe(0);

  const stopped = consumer.stop();
  gated.open();
  await stopped;
  expect(await countEvents(env.db.sql, events.map((e) => e.id))).toBe(20);
  expect(await groupPending(env.redis, env.keys)).toBe(0);
  expect(consumer.handle.counters().processed).toBe(20);
});

test('a batch in hand longer than stuckBatchMs is logged as an error once, and its end is logged', async () => {
  const gated = gatedRegistry();
  const events = [makeEvent('git.push', { workspace_id: `github.com/in-flight/slow-${Date.now()}`, data: { branch: 'main', remote: 'origin', commit_count: 1 } })];
  await publishAll(env.redis, env.keys.stream, events);
  // The heartbeat (every claimIdleMs / 3) is what looks at the batches in hand.
  const consumer = env.start({ registry: gated.registry, claimIdleMs: 300, stuckBatchMs: 200 });
  await waitFor(() => gated.waiting() >= 1, 10_000);
  const slow = await consumer.logs.waitForLine(/has been in hand for/, 10_000);
  expect(slow).toMatchObject({ level: 50, count: 1 });

  gated.open();
  await consumer.logs.waitForLine(/The slow batch of 1 finished/, 10_000);
  expect(consumer.logs.find(/has been in hand for/)).toHaveLength(1);
  expect(await countEvents(env.db.sql, events.map((e) => e.id))).toBe(1);
});

test('a batch stuck on a silent connection is let go after stuckBatchMs: another consumer takes it over, the late finish is a duplicate', async () => {
  const target = new URL(env.db.url);
  const proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 5432) });
  const silent = postgres(withHostPort(env.db.url, proxy.host, proxy.port), { max: 1, onnotice: () => undefined });
  try {
    // The batch's connection is open before the silence: its queries go out and never come back,
    // and nothing errors (TCP would only give up after many minutes).
    await silent`SELECT 1`;
    await proxy.blackhole();
    const events = [makeEvent('git.push', { workspace_id: `github.com/in-flight/silent-${Date.now()}` })];
    const ids = events.map((e) => e.id);
    await publishAll(env.redis, env.keys.stream, events);
    const stuck = env.start({ sql: silent, claimIdleMs: 300, stuckBatchMs: 200 });
    const line = await stuck.logs.waitForLine(/has been in hand for/, 10_000);
    expect(line.msg).toMatch(/no longer kept fresh/);

    // Only now a second consumer: the entry is the stuck one's, and no one keeps it fresh.
    const rescuer = env.start({ claimIdleMs: 300 });
    // Counted once its batch is done, sightings included: they are written after the events commit.
    await waitFor(() => rescuer.handle.counters().processed === 1, 15_000, { description: 'the rescuer to store the event' });
    expect(await countEvents(env.db.sql, ids)).toBe(1);
    expect(stuck.handle.counters()).toMatchObject({ processed: 0, duplicates: 0 });

    // The silence ends: the stuck batch runs after all, finds the event stored, and acks it.
    await proxy.restore();
    await waitFor(() => stuck.handle.counters().duplicates === 1, 15_000, { description: 'the late finish to be a duplicate' });
    await waitFor(async () => (await groupPending(env.redis, env.keys)) === 0, 10_000);
    expect(await countEvents(env.db.sql, ids)).toBe(1);
  } finally {
    await proxy.restore();
    await silent.end({ timeout: 1 });
    await proxy.close();
  }
});
