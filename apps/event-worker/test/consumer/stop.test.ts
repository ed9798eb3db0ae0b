import { createHandlerRegistry } from '@fuel-code/core';
import { makeEvent, useStreamTestEnv, waitFor } from '@fuel-code/testing';
import { countEvents, groupPending, publishAll, runConsumer, type RunningConsumer } from './helpers';

const running: RunningConsumer[] = [];
const env = useStreamTestEnv(
  { beforeAll, beforeEach, afterEach, afterAll },
  { databaseLabel: 'consumer_stop', cleanUp: () => Promise.all(running.splice(0).map((c) => c.stop())) },
);
const HOUR = 3_600_000;
const mergeEvent = () =>
  makeEvent('git.merge', { data: { merge_commit: 'c1', message: 'merge', merged_branch: 'feature', into_branch: 'main', files_changed: 1, had_conflicts: false } });

async function pendingRows(): Promise<{ consumer: string; idleMs: number; deliveries: number }[]> {
  const rows = (await env.redis.xpending(env.keys.stream, env.keys.group, '-', '+', 100)) as [string, string, number, number][];
  return rows.map(([, consumer, idleMs, deliveries]) => ({ consumer, idleMs, deliveries }));
}

test('stop(): what cannot be finished within stopTimeoutMs is handed back, and another consumer takes it at once', async () => {
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => (release = r));
  let calls = 0;
  const stuck = createHandlerRegistry({
    'git.merge': async () => {
      if (++calls === 1) await released;
    },
  });
  const event = mergeEvent();
  await publishAll(env.redis, env.keys.stream, [event]);
  const leaving = runConsumer(env.db.sql, env.keys, { registry: stuck, claimIdleMs: HOUR, stopTimeoutMs: 300 });
  running.push(leaving);
  await waitFor(() => calls === 1, 5000, { description: 'the handler to start' });

  await leaving.handle.stop();
  expect(leaving.logs.find('Consumer did not finish its batch in time')).toHaveLength(1);
  expect(leaving.logs.find('Handed back 1 pending entries')).toHaveLength(1);
  // Idle for everyone, delivery count untouched (handing back is not a failed attempt).
  const [row] = await pendingRows();
  expect(row).toMatchObject({ consumer: leaving.name, deliveries: 1 });
  expect(row!.idleMs).toBeGreaterThan(HOUR);

  // A consumer with claim-idle 1 h takes it in its first idle scan, not an hour later.
  const rescuer = runConsumer(env.db.sql, env.keys, { registry: stuck, claimIdleMs: HOUR });
  running.push(rescuer);
  await waitFor(async () => (await pendingRows())[0]?.consumer === rescuer.name, 5000, { description: 'the rescuer to claim it' });
  release(); // the leaving consumer's transaction ends too: one copy is stored, the other is a duplicate
  await waitFor(async () => (await groupPending(env.redis, env.keys)) === 0, 10_000, { description: 'pending 0' });
  expect(await countEvents(env.db.sql, [event.id])).toBe(1);
});
