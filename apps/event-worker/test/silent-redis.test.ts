import {
  freePort,
  gitCommitEvent,
  startTcpProxy,
  testRedisUrl,
  waitFor,
  withHostPort,
  type TcpProxy,
} from '@fuel-code/testing';
import { groupPending, publishAll, spawnWorker, useWorkerProcessEnv } from './worker-process';

const env = useWorkerProcessEnv('silent_redis', 'silent-redis');
let proxy: TcpProxy | undefined;
let publishing: { stop: () => Promise<void> } | undefined;

afterEach(async () => {
  await publishing?.stop();
  await proxy?.close();
  publishing = proxy = undefined;
});

/** Publish a few events every `everyMs` (straight to Redis, not through the proxy) until stopped. */
function keepPublishing(published: string[], everyMs: number): { stop: () => Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const events = Array.from({ length: 5 }, () => gitCommitEvent(null));
      await publishAll(env.redis, env.keys.stream, events);
      published.push(...events.map((e) => e.id));
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

async function healthz(base: string): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } catch (err) {
    return { status: 0, body: { error: String(err) } };
  }
}

async function storedOnce(ids: readonly string[]): Promise<{ rows: number; distinct: number }> {
  const [row] = await env.db.sql<{ rows: number; distinct: number }[]>`
    SELECT count(*)::int AS rows, count(DISTINCT id)::int AS distinct FROM events WHERE id = ANY(${ids as string[]})`;
  return row ?? { rows: 0, distinct: 0 };
}

test('its Redis connections go silent while events flow: it heals unaided, stores each event once, dead-letters nothing; /healthz says so while it lasts', async () => {
  const target = new URL(testRedisUrl());
  proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 6379) });
  const httpPort = await freePort();
  const base = `http://127.0.0.1:${httpPort}`;
  // Default block time and watchdog: what runs in production.
  const worker = spawnWorker({
    keys: env.keys,
    databaseUrl: env.db.url,
    redisUrl: withHostPort(testRedisUrl(), proxy.host, proxy.port),
    env: { WORKER_HTTP_PORT: String(httpPort) },
  });
  env.workers.push(worker);
  await worker.waitForLine('Event consumer started', 20_000);

  const published: string[] = [];
  publishing = keepPublishing(published, 100);
  await waitFor(async () => published.length >= 20 && (await storedOnce(published)).rows >= 20, 15_000, { description: 'events flowing' });
  expect((await healthz(base)).status).toBe(200);

  // Both of its connections (the blocking read and the command connection) go silent.
  await proxy.silenceOpen();
  const silencedAt = Date.now();
  expect(proxy.silencedCount()).toBeGreaterThanOrEqual(2);

  // /healthz turns away from ok while the outage lasts …
  const during = await waitFor(async () => {
    const probe = await healthz(base);
    return probe.status === 503 ? probe : undefined;
  }, 30_000, { description: '/healthz to say the outage', intervalMs: 100 });
  expect(during.body['status']).toBe('redis-unanswered');

  // … and every event published before, during and after it is stored, once, within 30 s.
  await publishing.stop();
  const total = published.length;
  await waitFor(async () => (await storedOnce(published)).rows === total, 30_000 - (Date.now() - silencedAt), {
    description: `all ${total} events stored within 30 s of the silence`,
    intervalMs: 100,
  });
  const recoveredMs = Date.now() - silencedAt;
  console.info(`worker: all ${total} events stored ${recoveredMs} ms after its connections went silent`);
  await waitFor(async () => (await healthz(base)).status === 200, 10_000, { description: '/healthz ok again' });

  expect(await storedOnce(published)).toEqual({ rows: total, distinct: total });
  await waitFor(async () => (await groupPending(env.redis, env.keys)) === 0, 10_000, { description: 'pending 0' });
  expect(await env.redis.xlen(env.keys.deadLetter)).toBe(0);
  // It noticed on both connections, by itself: the silenced sockets were never restored.
  expect(worker.lines.filter((l) => String(l.msg).includes('dropping the silent connection'))).toHaveLength(1);
  expect(worker.lines.some((l) => String(l.msg).includes('Blocking read is stuck'))).toBe(true);
  expect(worker.lines.filter((l) => Number(l['level']) >= 50)).toEqual([]);
  expect(worker.child.exitCode).toBeNull();
  expect((await worker.kill('SIGTERM')).code).toBe(0);
});
