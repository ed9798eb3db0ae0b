import type Redis from 'ioredis';
import { captureLogs, createTestRedis, deleteKeys, makeEvent, testRedisUrl, uniqueStreamKeys, type LogCapture, type TestStreamKeys } from '@fuel-code/testing';
import type { ServerConfig } from '../src/server';
import { ingest, startApp, type HttpResponse, type TestApp } from './helpers';

let keys: TestStreamKeys;
let logs: LogCapture;
let t: TestApp | undefined;
let reader: Redis;

beforeAll(() => {
  reader = createTestRedis();
});

afterAll(() => reader.disconnect());

beforeEach(() => {
  keys = uniqueStreamKeys('api-backlog');
  logs = captureLogs('trace');
});

afterEach(async () => {
  await t?.close();
  t = undefined;
  await deleteKeys(reader, keys);
});

const MAX_BACKLOG = 5;

/** The API with a small high-water mark on the test's own group, reading the backlog fresh for every request. */
async function start(overrides: Partial<ServerConfig> = {}): Promise<TestApp> {
  t = await startApp(testRedisUrl(), logs.logger, {
    eventsStream: keys.stream,
    consumerGroup: keys.group,
    ingestMaxBacklog: MAX_BACKLOG,
    backlogMaxAgeMs: 0,
    backlogRetryAfterSeconds: 11,
    ...overrides,
  });
  return t;
}

async function xadd(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await reader.xadd(keys.stream, '*', 'event', JSON.stringify(makeEvent('system.heartbeat')));
}

function expectBacklogFull(res: HttpResponse): void {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('11');
  expect(res.json()).toEqual({ error: expect.stringContaining('backlog is full'), retry_after_seconds: 11 });
}

test('503 + Retry-After while lag + pending >= INGEST_MAX_BACKLOG, nothing published; 202 once the group has caught up', async () => {
  await reader.xgroup('CREATE', keys.stream, keys.group, '0', 'MKSTREAM');
  await xadd(MAX_BACKLOG); // lag 5
  const { url } = await start();

  const batch = [makeEvent('system.heartbeat'), makeEvent('system.heartbeat')];
  expectBacklogFull(await ingest(url, batch));
  expect(await reader.xlen(keys.stream)).toBe(MAX_BACKLOG);

  // Delivered but not acknowledged is still backlog: lag 0, pending 5.
  const delivered = (await reader.xreadgroup('GROUP', keys.group, 'c', 'COUNT', MAX_BACKLOG, 'STREAMS', keys.stream, '>')) as [string, [string, string[]][]][];
  const ids = delivered[0]?.[1].map(([id]) => id) ?? [];
  expect(ids).toHaveLength(MAX_BACKLOG);
  expectBacklogFull(await ingest(url, batch));
  expect(await reader.xlen(keys.stream)).toBe(MAX_BACKLOG);

  // One acknowledged: 4 left, under the mark.
  await reader.xack(keys.stream, keys.group, ids[0] ?? '');
  const accepted = await ingest(url, batch);
  expect(accepted.status).toBe(202);
  expect(await reader.xlen(keys.stream)).toBe(MAX_BACKLOG + batch.length);

  // Logged when the state changes, not per refused request.
  expect(logs.find('Backlog at the high-water mark')).toHaveLength(1);
  expect(logs.find('Backlog below the high-water mark')).toHaveLength(1);
});

test('without the consumer group the stream length is the backlog; once the group exists, its lag counts', async () => {
  await xadd(MAX_BACKLOG - 1);
  const { url } = await start();
  // 4 waiting, under the mark: accepted, and now 5.
  expect((await ingest(url, [makeEvent('system.heartbeat')])).status).toBe(202);
  expectBacklogFull(await ingest(url, [makeEvent('system.heartbeat')]));
  expect(await reader.xlen(keys.stream)).toBe(MAX_BACKLOG);

  // Another group's position does not count for ours.
  await reader.xgroup('CREATE', keys.stream, 'some-other-group', '$');
  expectBacklogFull(await ingest(url, [makeEvent('system.heartbeat')]));

  // The worker's group, created at the end of the stream: nothing left for it.
  await reader.xgroup('CREATE', keys.stream, keys.group, '$');
  expect((await ingest(url, [makeEvent('system.heartbeat')])).status).toBe(202);
  expect(await reader.xlen(keys.stream)).toBe(MAX_BACKLOG + 1);
});

test('a missing stream has no backlog, and the check runs after the key check (401 first)', async () => {
  const { url } = await start({ ingestMaxBacklog: 1 });
  expect((await ingest(url, [makeEvent('system.heartbeat')], 'wrong')).status).toBe(401);
  expect((await ingest(url, [makeEvent('system.heartbeat')])).status).toBe(202);
  // Now 1 entry with no group: at the mark.
  expectBacklogFull(await ingest(url, [makeEvent('system.heartbeat')]));
  expect((await ingest(url, [makeEvent('system.heartbeat')], 'wrong')).status).toBe(401);
  expect(await reader.xlen(keys.stream)).toBe(1);
});

test('the reading is cached for backlogMaxAgeMs: within it a change is not seen', async () => {
  await reader.xgroup('CREATE', keys.stream, keys.group, '$', 'MKSTREAM');
  const { url } = await start({ backlogMaxAgeMs: 600_000 });
  expect((await ingest(url, [makeEvent('system.heartbeat')])).status).toBe(202);
  await xadd(MAX_BACKLOG);
  // The backlog is now 6, but the cached reading (0) is younger than ten minutes.
  expect((await ingest(url, [makeEvent('system.heartbeat')])).status).toBe(202);
  expect(await reader.xlen(keys.stream)).toBe(MAX_BACKLOG + 2);
});

test('a cached full reading refuses from memory too, and logs the change once', async () => {
  await reader.xgroup('CREATE', keys.stream, keys.group, '0', 'MKSTREAM');
  await xadd(MAX_BACKLOG);
  const { url } = await start({ backlogMaxAgeMs: 600_000 });
  // The first request reads Redis; the next ones are judged from the cached reading.
  for (let i = 0; i < 3; i++) expectBacklogFull(await ingest(url, [makeEvent('system.heartbeat')]));
  expect(await reader.xlen(keys.stream)).toBe(MAX_BACKLOG);
  expect(logs.find('Backlog at the high-water mark')).toHaveLength(1);
});

test('a backlog that cannot be read lets the request go on: the publish then answers for Redis', async () => {
  // Not a stream: XINFO fails (WRONGTYPE), and so does the XADD after it.
  await reader.set(keys.stream, 'not a stream');
  const { url } = await start();
  const res = await ingest(url, [makeEvent('system.heartbeat')]);
  expect(res.status).toBe(503);
  expect(res.json()).toMatchObject({ error: expect.stringContaining('event stream cannot be written') });
  expect(logs.find('Could not read the stream backlog')).toHaveLength(1);
});
