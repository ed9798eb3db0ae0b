import type Redis from 'ioredis';
import {
  captureLogs,
  createTestRedis,
  deleteKeys,
  makeEvent,
  startTcpProxy,
  testRedisUrl,
  uniqueStreamKeys,
  waitFor,
  withHostPort,
  type TcpProxy,
  type TestStreamKeys,
} from '@fuel-code/testing';
import { health, ingest, startApp, streamEntries, type TestApp } from './helpers';

let proxy: TcpProxy | undefined;
let t: TestApp | undefined;
let reader: Redis | undefined;
let keys: TestStreamKeys | undefined;

afterEach(async () => {
  await t?.close();
  await proxy?.close();
  if (reader && keys) await deleteKeys(reader, keys);
  reader?.disconnect();
  t = proxy = reader = keys = undefined;
});

test('its Redis connection goes silent: 503 for a while, then 202 on a new connection, unaided; every 202 is in the stream, once', async () => {
  const target = new URL(testRedisUrl());
  proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 6379) });
  keys = uniqueStreamKeys('silent-api');
  reader = createTestRedis();
  const logs = captureLogs('debug');
  t = await startApp(withHostPort(testRedisUrl(), proxy.host, proxy.port), logs.logger, { eventsStream: keys.stream });
  const app = t;

  const accepted: string[] = [];
  const post = async (): Promise<number> => {
    const event = makeEvent('system.heartbeat');
    const res = await ingest(app.url, [event]);
    if (res.status === 202) accepted.push(event.id);
    return res.status;
  };
  expect(await post()).toBe(202);
  expect((await health(app.url)).status).toBe(200);

  // Every connection open now goes silent; new ones pass. Never restored.
  await proxy.silenceOpen();
  const silencedAt = Date.now();
  const seen = { ingest: new Set<number>(), health: new Set<number>() };
  // One request and one health check at a time, until both are answered again after the 503s.
  await waitFor(
    async () => {
      const [ingested, checked] = await Promise.all([post(), health(app.url).then((r) => r.status)]);
      seen.ingest.add(ingested);
      seen.health.add(checked);
      return seen.ingest.has(503) && seen.health.has(503) && ingested === 202 && checked === 200;
    },
    30_000,
    { description: 'the API to answer 202 and health 200 again after 503s', intervalMs: 100 },
  );
  const recoveredMs = Date.now() - silencedAt;
  // Nothing else, only 202 and 503, was answered meanwhile.
  expect([...seen.ingest].sort()).toEqual([202, 503]);
  expect([...seen.health].sort()).toEqual([200, 503]);
  console.info(`API: 202 and health 200 again ${recoveredMs} ms after its connection went silent`);

  for (let i = 0; i < 5; i++) expect(await post()).toBe(202);
  expect(logs.find('dropping the silent connection')).toHaveLength(1);
  expect(proxy.silencedCount()).toBe(1);

  // Exactly the accepted events, each once: nothing answered 503 was written behind the client's back.
  const ids = (await streamEntries(reader, keys.stream)).map((e) => (JSON.parse(e.fields['event'] ?? '') as { id: string }).id);
  expect(ids.sort()).toEqual([...accepted].sort());
});
