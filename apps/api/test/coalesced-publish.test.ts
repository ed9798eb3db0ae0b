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
import type { IngestResponse } from '../src/routes/ingest';
import { ingest, startApp, streamEntries, type TestApp } from './helpers';

/*
 * The API's client auto-pipelines: concurrent requests' XADDs travel in one pipeline. These
 * tests check that each request's answer is still exactly its own, when all goes well and when
 * the connection breaks or goes silent while requests are in flight.
 */

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

async function storedIds(redis: Redis, stream: string): Promise<string[]> {
  return (await streamEntries(redis, stream)).map((e) => (JSON.parse(e.fields['event'] ?? '') as { id: string }).id);
}

test('concurrent requests: each answer counts its own events, duplicates within a request are found, every accepted id is stored once', async () => {
  keys = uniqueStreamKeys('coalesce');
  reader = createTestRedis();
  t = await startApp(testRedisUrl(), captureLogs().logger, { eventsStream: keys.stream });
  const app = t;
  // 60 requests at once, each its own mix: 1–3 fresh events, one repeated, one broken.
  const batches = Array.from({ length: 60 }, (_, i) => {
    const fresh = Array.from({ length: 1 + (i % 3) }, () => makeEvent('system.heartbeat'));
    return { fresh, events: [...fresh, ...(i % 2 === 0 ? [fresh[0]] : []), ...(i % 5 === 0 ? [{ id: 'broken' }] : [])] };
  });
  const answers = await Promise.all(batches.map((b) => ingest(app.url, b.events)));
  answers.forEach((res, i) => {
    const b = batches[i]!;
    expect(res.status).toBe(202);
    expect(res.json<IngestResponse>()).toMatchObject({
      ingested: b.fresh.length,
      duplicates: i % 2 === 0 ? 1 : 0,
      duplicate_ids: i % 2 === 0 ? [b.fresh[0]!.id] : [],
      rejected: i % 5 === 0 ? 1 : 0,
    });
  });
  const expected = batches.flatMap((b) => b.fresh.map((e) => e.id));
  const stored = await storedIds(reader, keys.stream);
  expect(stored.sort()).toEqual(expected.sort());
  // Within one request, entries keep the request's order.
  for (const b of batches) {
    const positions = b.fresh.map((e) => stored.indexOf(e.id));
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
  }
});

test('two concurrent requests with the same id: both 202 (duplicates are counted within a request), both published; the worker stores it once', async () => {
  keys = uniqueStreamKeys('coalesce-same');
  reader = createTestRedis();
  t = await startApp(testRedisUrl(), captureLogs().logger, { eventsStream: keys.stream });
  const event = makeEvent('system.heartbeat');
  const [a, b] = await Promise.all([ingest(t.url, [event]), ingest(t.url, [event])]);
  for (const res of [a!, b!]) expect(res.json<IngestResponse>()).toMatchObject({ ingested: 1, duplicates: 0 });
  expect(await storedIds(reader, keys.stream)).toEqual([event.id, event.id]);
});

/**
 * `workers` clients post 2-event batches in a loop; `disturb` runs once `before` batches were
 * accepted, `heal` (if any) once `failures` were refused; the run ends once `after` more were
 * accepted. Returns every answer.
 */
async function loadThrough(
  url: string,
  o: { workers: number; before: number; failures: number; after: number; disturb: () => Promise<void>; heal?: () => Promise<void> },
): Promise<{ accepted: string[]; refused: string[]; statuses: Set<number> }> {
  const accepted: string[] = [];
  const refused: string[] = [];
  const statuses = new Set<number>();
  let phase: 'before' | 'disturbed' | 'healed' = 'before';
  let acceptedAfter = 0;
  const deadline = Date.now() + 40_000;
  const worker = async () => {
    while (acceptedAfter < o.after && Date.now() < deadline) {
      const events = [makeEvent('system.heartbeat'), makeEvent('system.heartbeat')];
      const res = await ingest(url, events);
      statuses.add(res.status);
      const ids = events.map((e) => e.id);
      if (res.status === 202) {
        accepted.push(...ids);
        if (phase !== 'before' && refused.length > 0) acceptedAfter++;
      } else refused.push(...ids);
      if (phase === 'before' && accepted.length >= 2 * o.before) {
        phase = 'disturbed';
        await o.disturb();
      } else if (phase === 'disturbed' && refused.length >= 2 * o.failures && o.heal) {
        phase = 'healed';
        await o.heal();
      }
    }
  };
  await Promise.all(Array.from({ length: o.workers }, worker));
  return { accepted, refused, statuses };
}

/**
 * Every accepted id is stored, once. A refused one may be stored too, but only one in flight
 * when the connection broke (at most one batch per worker): Redis wrote it, and its reply was
 * lost or came too late. The client's retry of it is safe, the id being the dedup key.
 */
function expectEvery202StoredOnce(stored: string[], run: { accepted: string[]; refused: string[] }, workers: number): void {
  expect(new Set(stored).size).toBe(stored.length);
  const storedSet = new Set(stored);
  expect(run.accepted.filter((id) => !storedSet.has(id))).toEqual([]);
  const refusedButStored = run.refused.filter((id) => storedSet.has(id));
  expect(refusedButStored.length).toBeLessThanOrEqual(2 * workers);
  expect(stored.length).toBe(run.accepted.length + refusedButStored.length);
}

test('Redis connection cut with requests in flight: 202 or 503 each, and every 202 is in the stream once', async () => {
  const target = new URL(testRedisUrl());
  proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 6379) });
  keys = uniqueStreamKeys('coalesce-cut');
  reader = createTestRedis();
  t = await startApp(withHostPort(testRedisUrl(), proxy.host, proxy.port), captureLogs().logger, { eventsStream: keys.stream });
  const p = proxy;
  const run = await loadThrough(t.url, { workers: 20, before: 100, failures: 20, after: 50, disturb: () => p.cut(), heal: () => p.restore() });
  expect([...run.statuses].sort()).toEqual([202, 503]);
  expectEvery202StoredOnce(await storedIds(reader, keys.stream), run, 20);
});

test('Redis connection silent with requests in flight: 503 each until the connection is replaced, then 202; every 202 is in the stream once', async () => {
  const target = new URL(testRedisUrl());
  proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 6379) });
  keys = uniqueStreamKeys('coalesce-silent');
  reader = createTestRedis();
  const logs = captureLogs('debug');
  t = await startApp(withHostPort(testRedisUrl(), proxy.host, proxy.port), logs.logger, { eventsStream: keys.stream });
  const p = proxy;
  const started = Date.now();
  // Never restored: the API must notice the silence and open a new connection by itself.
  const run = await loadThrough(t.url, { workers: 20, before: 100, failures: 20, after: 50, disturb: () => p.silenceOpen() });
  expect([...run.statuses].sort()).toEqual([202, 503]);
  expect(Date.now() - started).toBeLessThan(30_000);
  await waitFor(() => logs.find('dropping the silent connection').length === 1, 5_000);
  expectEvery202StoredOnce(await storedIds(reader, keys.stream), run, 20);
});
