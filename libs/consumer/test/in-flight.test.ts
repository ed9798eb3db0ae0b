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
