import { cleanupIntervalMs, startGroupCleanup, type GroupCleanup } from '@fuel-code/consumer';
import { consumerInfos, ensureConsumerGroup, readFromStream, type RemovedConsumer } from '@fuel-code/stream';
import { captureLogs, useStreamTestEnv, waitFor } from '@fuel-code/testing';
import { publishAll, runConsumer, type RunningConsumer } from './helpers';

const running: RunningConsumer[] = [];
const cleanups: GroupCleanup[] = [];
const env = useStreamTestEnv(
  { beforeAll, beforeEach, afterEach, afterAll },
  { databaseLabel: 'group_cleanup', cleanUp: () => Promise.all([...running.splice(0).map((c) => c.stop()), ...cleanups.splice(0).map((c) => c.stop())]) },
);

const THRESHOLD_MS = 300;

async function consumers(): Promise<Map<string, { pending: number; idleMs: number }>> {
  const infos = await consumerInfos(env.redis, env.keys.stream, env.keys.group);
  return new Map(infos.map((c) => [c.name, { pending: c.pending, idleMs: c.idleMs }]));
}

describe('startGroupCleanup', () => {
  test('removes dead consumers with nothing pending; keeps a dead one with pending entries, a live idle one and itself', async () => {
    const { redis, keys } = env;
    await publishAll(redis, keys.stream, ['{"not":"read by the live consumer"}']);
    await ensureConsumerGroup(redis, keys);
    // Dead, holding an entry: it must stay until reclaim empties it.
    expect(await readFromStream(redis, { ...keys, consumer: 'dead-holding', count: 1 })).toHaveLength(1);
    for (const name of ['dead-1', 'dead-2', 'cleaner-self']) await redis.xgroup('CREATECONSUMER', keys.stream, keys.group, name);
    // Live but idle: keeps reading (BLOCK 50 ms) and gets nothing.
    const live = runConsumer(env.db.sql, keys, { blockMs: 50 });
    running.push(live);
    await waitFor(async () => (await consumers()).has(live.name), 5000, { description: 'the live consumer in the group' });

    const logs = captureLogs('info');
    const removed: RemovedConsumer[] = [];
    const cleanup = startGroupCleanup({
      redis,
      logger: logs.logger,
      ...keys,
      self: 'cleaner-self',
      idleMs: THRESHOLD_MS,
      onRemoved: (c) => removed.push(c),
    });
    cleanups.push(cleanup);

    await waitFor(() => removed.length === 2, 10_000, { description: 'both dead consumers without pending entries removed' });
    expect(removed.map((c) => c.name).sort()).toEqual(['dead-1', 'dead-2']);
    for (const c of removed) expect(c.idleMs).toBeGreaterThan(THRESHOLD_MS);

    // Another pass, now that the dead holder and this worker are surely past the threshold:
    // neither goes, nor the live one.
    const after = await consumers();
    expect(after.get('dead-holding')).toEqual({ pending: 1, idleMs: expect.any(Number) as number });
    expect(after.get('dead-holding')!.idleMs).toBeGreaterThan(THRESHOLD_MS);
    expect(after.get('cleaner-self')!.idleMs).toBeGreaterThan(THRESHOLD_MS);
    expect(await cleanup.runOnce()).toEqual([]);
    expect([...(await consumers()).keys()].sort()).toEqual(['cleaner-self', 'dead-holding', live.name].sort());
    expect(live.logs.lines.filter((l) => l.level >= 50)).toEqual([]);

    const lines = logs.lines.filter((l) => /^Removed consumer/.test(String(l.msg)));
    expect(lines.map((l) => l['removedConsumer']).sort()).toEqual(['dead-1', 'dead-2']);
    for (const l of lines) expect(l['idleMs']).toBeGreaterThan(THRESHOLD_MS);
  });

  test('0 turns it off: no pass is scheduled', async () => {
    const logs = captureLogs('info');
    const cleanup = startGroupCleanup({ redis: env.redis, logger: logs.logger, ...env.keys, self: 'x', idleMs: 0 });
    cleanups.push(cleanup);
    expect(cleanup.enabled).toBe(false);
    expect(logs.lines.map((l) => l.msg)).toContain('Consumer group cleanup off');
  });

  test('stop() is idempotent', async () => {
    const cleanup = startGroupCleanup({ redis: env.redis, logger: captureLogs('silent').logger, ...env.keys, self: 'x', idleMs: 200 });
    await Promise.all([cleanup.stop(), cleanup.stop()]);
    await cleanup.stop();
  });

  test('the interval is a quarter of the threshold, at most 15 min', () => {
    expect(cleanupIntervalMs(3_600_000)).toBe(900_000);
    expect(cleanupIntervalMs(86_400_000)).toBe(900_000);
    expect(cleanupIntervalMs(300)).toBe(75);
  });
});
