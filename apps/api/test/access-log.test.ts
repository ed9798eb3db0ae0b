import type Redis from 'ioredis';
import { captureLogs, createTestRedis, deleteKeys, makeEvent, testRedisUrl, uniqueStreamKeys, waitFor, type TestStreamKeys } from '@fuel-code/testing';
import { health, ingest, startApp, type TestApp } from './helpers';

let t: TestApp | undefined;
let reader: Redis | undefined;
let keys: TestStreamKeys | undefined;

afterEach(async () => {
  await t?.close();
  if (reader && keys) await deleteKeys(reader, keys);
  reader?.disconnect();
  t = reader = keys = undefined;
});

async function start(level: 'info' | 'debug', sampleEvery: number) {
  keys = uniqueStreamKeys('access-log');
  reader = createTestRedis();
  const logs = captureLogs(level);
  t = await startApp(testRedisUrl(), logs.logger, { eventsStream: keys.stream, accessLogSampleEvery: sampleEvery });
  return { app: t, logs };
}

test('at info: one successful request in N is logged (and says so), every refusal is, no "incoming request" line', async () => {
  const { app, logs } = await start('info', 5);
  for (let i = 0; i < 12; i++) expect((await ingest(app.url, [makeEvent('system.heartbeat')])).status).toBe(202);
  expect((await ingest(app.url, [makeEvent('system.heartbeat')], 'wrong-key')).status).toBe(401);
  expect((await ingest(app.url, [])).status).toBe(400);
  expect((await health(app.url)).status).toBe(200);
  await waitFor(() => logs.find('request completed').length >= 5, 5_000);
  const completed = logs.find('request completed');
  // Requests 1, 6 and 11 of the 13 successes (12 ingests, 1 health), then the 401 and the 400.
  expect(completed.map((l) => (l['res'] as { statusCode: number }).statusCode)).toEqual([202, 202, 202, 401, 400]);
  expect(completed.slice(0, 3).every((l) => l['sampledOneIn'] === 5 && typeof l['responseTime'] === 'number')).toBe(true);
  expect(logs.find('incoming request')).toHaveLength(0);
  expect(logs.find('Ingested batch')).toHaveLength(0);
});

test('at debug: every request is logged, incoming and completed', async () => {
  const { app, logs } = await start('debug', 100);
  for (let i = 0; i < 4; i++) expect((await ingest(app.url, [makeEvent('system.heartbeat')])).status).toBe(202);
  await waitFor(() => logs.find('request completed').length === 4, 5_000);
  expect(logs.find('incoming request')).toHaveLength(4);
  expect(logs.find('Ingested batch')).toHaveLength(4);
  expect(logs.find('request completed').every((l) => l['sampledOneIn'] === undefined)).toBe(true);
});
