import {
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  gitCommitEvent,
  startRedisServer,
  startTcpProxy,
  uniqueStreamKeys,
  waitFor,
  withHostPort,
  type PrivateRedis,
  type SpawnedProcess,
  type TcpProxy,
  type TestDatabase,
  type TestStreamKeys,
} from '@fuel-code/testing';
import { countEvents, groupPending, publishAll, spawnWorker } from './worker-process';

let db: TestDatabase;
let keys: TestStreamKeys;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  db = await createTestDatabase('outage');
});
beforeEach(async () => {
  keys = uniqueStreamKeys('outage');
  await db.sql`TRUNCATE events`;
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});
afterAll(async () => {
  await db.drop();
});

function track<T extends { kill(signal?: NodeJS.Signals): Promise<unknown> }>(worker: T): T {
  cleanups.push(() => worker.kill('SIGKILL'));
  return worker;
}

test('a Postgres outage longer than three backoff attempts: every event processed, no dead letters, still alive', async () => {
  const proxy: TcpProxy = await startTcpProxy({ targetHost: '127.0.0.1', targetPort: Number(new URL(db.url).port || 5432) });
  cleanups.push(() => proxy.close());
  const redis = createTestRedis();
  cleanups.push(async () => {
    await deleteKeys(redis, keys);
    redis.disconnect();
  });
  const databaseUrl = withHostPort(db.url, proxy.host, proxy.port);
  const worker: SpawnedProcess = track(spawnWorker({ keys, databaseUrl }));
  await worker.waitForLine('Event consumer started', 20_000);

  const before = Array.from({ length: 20 }, () => gitCommitEvent(null));
  await publishAll(redis, keys.stream, before);
  await waitFor(async () => (await countEvents(db.sql)) === 20, 10_000);

  await proxy.cut();
  const during = Array.from({ length: 50 }, () => gitCommitEvent(null));
  await publishAll(redis, keys.stream, during);
  await worker.waitForLine(/^postgres unavailable during/, 10_000);
  // Keep it down through at least four more connection attempts (three backoff rounds).
  await waitFor(() => proxy.refusedCount() >= 5, 20_000, { description: 'the worker to retry through the outage' });
  expect(await countEvents(db.sql)).toBe(20);
  await proxy.restore();

  await waitFor(async () => (await countEvents(db.sql)) === 70, 30_000, { description: 'all 70 events after the outage' });
  await worker.waitForLine(/^Recovered: /, 5000);
  await waitFor(async () => (await groupPending(redis, keys)) === 0, 5000, { description: 'pending 0' });
  expect(await redis.xlen(keys.deadLetter)).toBe(0);
  expect(worker.child.exitCode).toBeNull();
  expect(worker.lines.filter((l) => l['level'] === 50)).toEqual([]);
});

describe.each([
  ['with appendonly: data survives', true],
  ['without persistence: the group is recreated (NOGROUP)', false],
])('a restarted private redis-server, %s', (_label, appendonly) => {
  test('the worker reconnects and processes what is published after the restart', async () => {
    const server: PrivateRedis = await startRedisServer({ appendonly });
    cleanups.push(() => server.stop());
    const redis = createTestRedis(server.url);
    cleanups.push(async () => redis.disconnect());
    const worker = track(spawnWorker({ keys, databaseUrl: db.url, redisUrl: server.url, args: ['--block-ms', '1000'] }));
    await worker.waitForLine('Event consumer started', 20_000);

    const first = Array.from({ length: 10 }, () => gitCommitEvent(null));
    await publishAll(redis, keys.stream, first);
    await waitFor(async () => (await countEvents(db.sql)) === 10, 10_000);

    await server.restart();
    expect(await redis.xlen(keys.stream)).toBe(appendonly ? 10 : 0);
    const second = Array.from({ length: 10 }, () => gitCommitEvent(null));
    await publishAll(redis, keys.stream, second);
    await waitFor(async () => (await countEvents(db.sql)) === 20, 30_000, { description: 'events published after the restart' });
    if (!appendonly) expect(worker.lines.some((l) => String(l.msg).includes('NOGROUP'))).toBe(true);
    await waitFor(async () => (await groupPending(redis, keys)) === 0, 5000, { description: 'pending 0' });
    expect(worker.child.exitCode).toBeNull();
    const exit = await worker.kill('SIGTERM');
    expect(exit.code).toBe(0);
  });
});
