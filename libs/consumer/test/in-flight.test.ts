import { makeEvent, waitFor } from '@fuel-code/testing';
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
  const registry = createHandlerRegistry();
  const hold = async () => {
    waiting++;
    await gate;
  };
  registry.register('git.push', hold, { batch: hold });
  return { registry, open, waiting: () => waiting };
}

test('two batches are in Postgres at once, and stop() finishes and acknowledges both', async () => {
  const gated = gatedRegistry();
  // Each batch its own workspace and device: a workspace created by an open transaction would
  // (rightly) make the other batch wait for its commit.
  const events = Array.from({ length: 20 }, (_, i) =>
    makeEvent('git.push', { workspace_id: `github.com/in-flight/${i < 10 ? 'a' : 'b'}-${Date.now()}`, device_id: `in-flight-${i < 10 ? 'a' : 'b'}` }),
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

test('a batch in hand longer than slowBatchWarnMs is logged as an error once, and its end is logged', async () => {
  const gated = gatedRegistry();
  const events = [makeEvent('git.push', { workspace_id: `github.com/in-flight/slow-${Date.now()}` })];
  await publishAll(env.redis, env.keys.stream, events);
  // The heartbeat (every claimIdleMs / 3) is what looks at the batches in hand.
  const consumer = env.start({ registry: gated.registry, claimIdleMs: 300, slowBatchWarnMs: 200 });
  await waitFor(() => gated.waiting() >= 1, 10_000);
  const slow = await consumer.logs.waitForLine(/has been in hand for/, 10_000);
  expect(slow).toMatchObject({ level: 50, count: 1 });

  gated.open();
  await consumer.logs.waitForLine(/The slow batch of 1 finished/, 10_000);
  expect(consumer.logs.find(/has been in hand for/)).toHaveLength(1);
  expect(await countEvents(env.db.sql, events.map((e) => e.id))).toBe(1);
});
