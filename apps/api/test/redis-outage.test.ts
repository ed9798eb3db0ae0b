import { captureLogs, createTestRedis, makeEvent, uniqueStreamKeys, waitFor } from '@fuel-code/testing';
import type Redis from 'ioredis';
import { freePort, health, ingest, startApp, startPrivateRedis, streamEntries, type PrivateRedis, type TestApp } from './helpers';

// A redis-server of the test's own, so it can be killed, paused and brought back.
let server: PrivateRedis | undefined;
let t: TestApp | undefined;
let reader: Redis | undefined;

afterEach(async () => {
  await t?.close();
  reader?.disconnect();
  await server?.stop();
  t = undefined;
  reader = undefined;
  server = undefined;
});

interface Unavailable {
  error: string;
  retry_after_seconds: number;
}

test('Redis down: 503 with retry_after_seconds and health 503; back up: 202 and 200 again', async () => {
  const port = await freePort();
  server = await startPrivateRedis(port);
  const logs = captureLogs();
  const { stream } = uniqueStreamKeys('outage');
  t = await startApp(server.url, logs.logger, { eventsStream: stream, retryAfterSeconds: 7 });

  expect((await ingest(t.url, [makeEvent('system.heartbeat')])).status).toBe(202);
  expect((await health(t.url)).status).toBe(200);

  await server.child.stop('SIGKILL');

  const lost = makeEvent('system.heartbeat');
  const down = await ingest(t.url, [lost]);
  expect(down.status).toBe(503);
  expect(down.json<Unavailable>()).toEqual({ error: expect.stringContaining('retry'), retry_after_seconds: 7 });
  expect(down.headers.get('retry-after')).toBe('7');

  const sick = await health(t.url);
  expect(sick.status).toBe(503);
  expect(sick.json()).toEqual({ status: 'unavailable', error: 'redis is not answering' });

  // An invalid event does not hide the outage: the valid one beside it was not written.
  const mixed = await ingest(t.url, [makeEvent('system.heartbeat'), { id: 'bad' }]);
  expect(mixed.status).toBe(503);

  // The process survived the connection errors and logged them without the URL.
  await logs.waitForLine('Redis connection error');
  expect(logs.text()).not.toContain(server.url);

  server = await startPrivateRedis(port);
  await waitFor(async () => (await health(t!.url)).status === 200, 15_000, { description: 'health to recover' });
  const back = makeEvent('system.heartbeat');
  const res = await ingest(t.url, [back]);
  expect(res.status).toBe(202);
  expect(res.json()).toMatchObject({ ingested: 1, results: [{ index: 0, status: 'accepted' }] });

  // The restarted server keeps no data: exactly what was accepted since is there.
  reader = createTestRedis(server.url);
  const entries = await streamEntries(reader, stream);
  expect(entries.map((e) => (JSON.parse(e.fields['event'] ?? '') as { id: string }).id)).toEqual([back.id]);
});

test('Redis hung (paused): requests answer 503 within the command timeout instead of hanging', async () => {
  const port = await freePort();
  server = await startPrivateRedis(port);
  const { stream } = uniqueStreamKeys('paused');
  t = await startApp(server.url, captureLogs().logger, { eventsStream: stream, healthTimeoutMs: 500 });

  server.child.process.kill('SIGSTOP');
  try {
    const event = makeEvent('system.heartbeat');
    const started = Date.now();
    const res = await ingest(t.url, [event]);
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(5_000);

    const healthStarted = Date.now();
    expect((await health(t.url)).status).toBe(503);
    expect(Date.now() - healthStarted).toBeLessThan(2_000);

    server.child.process.kill('SIGCONT');
    await waitFor(async () => (await health(t!.url)).status === 200, 15_000, { description: 'health to recover' });

    // Why a 503 says "retry", not "rejected": the XADD that timed out was still in the
    // socket and lands once Redis resumes. The retry duplicates it; the worker dedups by id.
    reader = createTestRedis(server.url);
    await waitFor(async () => (await reader!.xlen(stream)) === 1, 10_000, { description: 'the late XADD to land' });
    const [entry] = await streamEntries(reader, stream);
    expect(JSON.parse(entry?.fields['event'] ?? '')).toEqual(event);
  } finally {
    server.child.process.kill('SIGCONT');
  }
});

test('Redis full under noeviction: XADD is refused (OOM), the API answers 503 and keeps nothing half-written; room again: 202', async () => {
  // As docker-compose.yml runs it, with a limit small enough to reach in a test.
  const port = await freePort();
  server = await startPrivateRedis(port, ['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction']);
  reader = createTestRedis(server.url);
  const { stream } = uniqueStreamKeys('oom');
  t = await startApp(server.url, captureLogs().logger, { eventsStream: stream, retryAfterSeconds: 3 });
  expect((await ingest(t.url, [makeEvent('system.heartbeat')])).status).toBe(202);

  // Fill Redis from the side until it refuses even a tiny write. A big write is refused while
  // its own argument (in the query buffer) is what tips memory over, so halve the size on each OOM.
  let size = 256 * 1024;
  const fillers: string[] = [];
  await waitFor(
    async () => {
      const key = `${stream}:filler:${fillers.length}`;
      try {
        await reader!.set(key, 'x'.repeat(size));
        fillers.push(key);
      } catch (err) {
        if (!(err instanceof Error && err.message.startsWith('OOM'))) throw err;
        if (size <= 16) return true;
        size = Math.floor(size / 2);
      }
      return false;
    },
    30_000,
    { description: 'Redis to refuse even a 16-byte write with OOM', intervalMs: 0 },
  );

  const refused = await ingest(t.url, [makeEvent('system.heartbeat'), makeEvent('system.heartbeat')]);
  expect(refused.status).toBe(503);
  expect(refused.json<Unavailable>()).toEqual({ error: expect.stringContaining('retry'), retry_after_seconds: 3 });
  expect(refused.headers.get('retry-after')).toBe('3');
  expect(await reader.xlen(stream)).toBe(1);
  // Nothing was evicted to make room: the stream and every filler are still there.
  expect(await reader.exists(...fillers)).toBe(fillers.length);

  await reader.del(...fillers);
  const event = makeEvent('system.heartbeat');
  expect((await ingest(t.url, [event])).status).toBe(202);
  const entries = await streamEntries(reader, stream);
  expect(entries).toHaveLength(2);
  expect(entries[1]?.fields['event']).toBe(JSON.stringify(event));
});
