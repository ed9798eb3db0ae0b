import Redis from 'ioredis';
import type { ConsumerHandle } from '@fuel-code/consumer';
import { startEventConsumer } from '../src/wire';
import {
  captureLogs,
  createTestDatabase,
  freePort,
  gitCommitEvent,
  makeEvent,
  sessionStartEvent,
  startRedisServer,
  startTcpProxy,
  uniqueStreamKeys,
  waitFor,
  withHostPort,
  type PrivateRedis,
  type TestDatabase,
} from '@fuel-code/testing';
import { parseWorkerConfig } from '../src/config';
import { startOperations, type Operations } from '../src/operations';

/**
 * The worker's HTTP endpoints in-process, wired exactly as `run` wires them (startOperations),
 * against a private redis-server (so it can be frozen with SIGSTOP) and a PostgreSQL reached
 * through a TCP proxy (so it can be cut).
 */
let db: TestDatabase;
let redisServer: PrivateRedis;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  db = await createTestDatabase('worker_http');
  redisServer = await startRedisServer();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});
afterAll(async () => {
  await redisServer.stop();
  await db.drop();
});

interface Running {
  base: string;
  ops: Operations;
  consumer: ConsumerHandle;
  redis: Redis;
  keys: ReturnType<typeof uniqueStreamKeys>;
}

async function startWorkerParts(o: { databaseUrl?: string; blockMs?: number; healthMarginMs?: number } = {}): Promise<Running> {
  const keys = uniqueStreamKeys('http');
  const port = await freePort();
  const base = parseWorkerConfig(
    { httpPort: String(port), blockMs: String(o.blockMs ?? 200), consumerName: 'http-test' },
    {
      REDIS_URL: redisServer.url,
      DATABASE_URL: o.databaseUrl ?? db.url,
      EVENTS_STREAM: keys.stream,
      CONSUMER_GROUP: keys.group,
      DEAD_LETTER_STREAM: keys.deadLetter,
    },
  );
  const config = { ...base, healthMarginMs: o.healthMarginMs ?? 30_000 };
  const logs = captureLogs('debug');
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, retryStrategy: (t) => Math.min(t * 100, 1000) });
  redis.on('error', () => undefined);
  const running: { consumer?: ConsumerHandle } = {};
  const ops = await startOperations(config, { redis, logger: logs.logger, consumer: () => running.consumer });
  const consumer = startEventConsumer({
    redis,
    sql: db.sql,
    logger: logs.logger,
    config: { ...config.consumer, maxAttempts: 2 },
    backoff: { minTimeoutMs: 50, maxTimeoutMs: 300, reminderEveryMs: 10_000 },
    observer: ops.observer,
  });
  running.consumer = consumer;
  cleanups.push(async () => {
    await consumer.stop();
    await ops.close();
    await redis.del(keys.stream, keys.deadLetter).catch(() => undefined);
    redis.disconnect();
  });
  await logs.waitForLine('Event consumer started');
  return { base: `http://127.0.0.1:${port}`, ops, consumer, redis, keys };
}

async function get(url: string): Promise<{ status: number; type: string | null; text: string; json: () => Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), text, json: () => JSON.parse(text) as Record<string, unknown> };
}

async function publish(redis: Redis, stream: string, values: readonly string[]): Promise<void> {
  for (const value of values) await redis.xadd(stream, '*', 'event', value);
}

/** The value of one sample line of the Prometheus text, e.g. `name{type="git.commit"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The sum of every sample whose series starts with `prefix`. */
function sum(text: string, prefix: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .reduce((total, l) => total + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

test('/healthz: 200 while the loop makes progress, 503 "stuck" while its Redis is frozen (SIGSTOP), 200 again after SIGCONT', async () => {
  const w = await startWorkerParts({ blockMs: 200, healthMarginMs: 500 });
  const ok = await get(`${w.base}/healthz`);
  expect(ok.status).toBe(200);
  expect(ok.json()).toMatchObject({ status: 'ok', thresholdMs: 700 });

  const pid = redisServer.pid() as number;
  process.kill(pid, 'SIGSTOP');
  cleanups.push(async () => process.kill(pid, 'SIGCONT'));
  const stuck = await waitFor(async () => {
    const r = await get(`${w.base}/healthz`);
    return r.status === 503 ? r : undefined;
  }, 10_000, { description: '/healthz to answer 503' });
  expect(stuck.json()).toMatchObject({ status: 'stuck', thresholdMs: 700 });
  expect(Number(stuck.json()['sinceMs'])).toBeGreaterThan(700);
  // Not a Redis PING: the HTTP server itself answers at once, and so does /metrics (without stream gauges).
  const metrics = await get(`${w.base}/metrics`);
  expect(metrics.status).toBe(200);
  expect(metrics.text).not.toMatch(/^fuel_code_stream_lag\{/m);

  process.kill(pid, 'SIGCONT');
  await waitFor(async () => (await get(`${w.base}/healthz`)).status === 200, 20_000, { description: '/healthz back to 200' });
});

test('/readyz: 200 when Redis and PostgreSQL answer, 503 naming PostgreSQL while it is cut off, 200 again after', async () => {
  const proxy = await startTcpProxy({ targetHost: '127.0.0.1', targetPort: Number(new URL(db.url).port || 5432) });
  cleanups.push(() => proxy.close());
  const w = await startWorkerParts({ databaseUrl: withHostPort(db.url, proxy.host, proxy.port) });
  const ready = await get(`${w.base}/readyz`);
  expect(ready.status).toBe(200);
  expect(ready.json()).toEqual({ status: 'ready', redis: 'ok', postgres: 'ok' });

  await proxy.cut();
  const t0 = Date.now();
  const down = await get(`${w.base}/readyz`);
  expect(Date.now() - t0).toBeLessThan(3000);
  expect(down.status).toBe(503);
  expect(down.json()).toMatchObject({ status: 'not ready', redis: 'ok' });
  expect(down.json()['postgres']).not.toBe('ok');

  await proxy.restore();
  await waitFor(async () => (await get(`${w.base}/readyz`)).status === 200, 10_000, { description: '/readyz back to 200' });
});

test('/readyz: 503 naming Redis while it does not answer (bounded, not hanging)', async () => {
  const w = await startWorkerParts();
  const pid = redisServer.pid() as number;
  process.kill(pid, 'SIGSTOP');
  cleanups.push(async () => process.kill(pid, 'SIGCONT'));
  const t0 = Date.now();
  const down = await get(`${w.base}/readyz`);
  expect(Date.now() - t0).toBeLessThan(3000);
  expect(down.status).toBe(503);
  expect(down.json()).toMatchObject({ status: 'not ready', postgres: 'ok' });
  expect(down.json()['redis']).toMatch(/within 1000 ms/);
});

test('/metrics: per-type counters, dead letters by reason, durations, batch sizes, lag and pending gauges, process metrics', async () => {
  const w = await startWorkerParts();
  // A value the parser accepts but this database refuses for good (a CHECK of the test's own).
  await db.sql`DO $$ BEGIN
    ALTER TABLE events ADD CONSTRAINT events_no_poison CHECK (NOT (data ? 'poison'));
  EXCEPTION WHEN duplicate_object THEN NULL; END $$`;
  const commit = gitCommitEvent(null);
  const values = [
    JSON.stringify(sessionStartEvent('metrics-s1')),
    JSON.stringify(commit),
    JSON.stringify(gitCommitEvent(null)),
    JSON.stringify(commit), // duplicate
    'not json', // invalid
    JSON.stringify(makeEvent('session.start', { data: {} })), // stored, but fails the session.start schema: unhandled
    JSON.stringify(makeEvent('git.push', { data: { note: 'nul \u0000 PostgreSQL cannot store' } })), // refused up front: invalid
    JSON.stringify(makeEvent('git.push', { data: { poison: true } })), // fails twice: dead-lettered `failed`
  ];
  await publish(w.redis, w.keys.stream, values);
  await waitFor(() => w.consumer.counters().deadLettered.failed === 1 && w.consumer.counters().processed === 4, 15_000, {
    description: 'all entries handled',
  });

  const res = await get(`${w.base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
  const m = res.text;
  expect(sample(m, 'fuel_code_events_processed_total{type="git.commit"}')).toBe(2);
  expect(sample(m, 'fuel_code_events_processed_total{type="session.start"}')).toBe(2);
  expect(sample(m, 'fuel_code_events_unhandled_total{kind="payload-invalid",type="session.start"}')).toBe(1);
  expect(sample(m, 'fuel_code_events_duplicate_total{type="git.commit"}')).toBe(1);
  expect(sample(m, 'fuel_code_events_failed_total{type="git.push"}')).toBe(2);
  expect(sum(m, 'fuel_code_events_dead_lettered_total{reason="invalid",')).toBe(2);
  expect(sample(m, 'fuel_code_events_dead_lettered_total{reason="failed",type="git.push"}')).toBe(1);
  // Attempts, not events: how the entries fell into batches varies, the poison event alone failed twice.
  expect(sample(m, 'fuel_code_processing_attempt_duration_seconds_count{outcome="ok"}')).toBeGreaterThanOrEqual(1);
  expect(sample(m, 'fuel_code_processing_attempt_duration_seconds_count{outcome="failed"}')).toBeGreaterThanOrEqual(2);
  expect(sample(m, 'fuel_code_processing_attempt_duration_seconds_sum{outcome="ok"}')).toBeGreaterThan(0);
  expect(sum(m, 'fuel_code_consumer_batch_size_sum{')).toBeGreaterThanOrEqual(values.length);
  const group = `stream="${w.keys.stream}",group="${w.keys.group}"`;
  expect(sample(m, `fuel_code_stream_lag{${group}}`)).toBe(0);
  expect(sample(m, `fuel_code_stream_pending{${group}}`)).toBe(0);
  expect(sample(m, `fuel_code_stream_length{stream="${w.keys.stream}"}`)).toBe(values.length);
  expect(sample(m, `fuel_code_dead_letters{stream="${w.keys.deadLetter}"}`)).toBe(3);
  expect(m).toMatch(/^process_cpu_user_seconds_total /m);
  expect(m).toMatch(/^nodejs_eventloop_lag_seconds /m);

  // Lag counts what is not delivered yet: stop the consumer and publish two more.
  await w.consumer.stop();
  await publish(w.redis, w.keys.stream, [JSON.stringify(gitCommitEvent(null)), JSON.stringify(gitCommitEvent(null))]);
  const after = (await get(`${w.base}/metrics`)).text;
  expect(sample(after, `fuel_code_stream_lag{${group}}`)).toBe(2);

  // Retention: everything the group acknowledged goes; the two undelivered stay.
  w.ops.startGroupMaintenance();
  await waitFor(async () => (await w.redis.xlen(w.keys.stream)) === 2, 5000, { description: 'retention trim' });
  const trimmed = (await get(`${w.base}/metrics`)).text;
  expect(sample(trimmed, `fuel_code_stream_trimmed_entries_total{stream="${w.keys.stream}"}`)).toBe(values.length);
});

test('unknown paths are 404, other methods 405; the server closes promptly', async () => {
  const w = await startWorkerParts();
  expect((await get(`${w.base}/nope`)).status).toBe(404);
  const post = await fetch(`${w.base}/healthz`, { method: 'POST', signal: AbortSignal.timeout(5000) });
  expect(post.status).toBe(405);
  expect(post.headers.get('allow')).toBe('GET, HEAD');
  await post.text();
  const t0 = Date.now();
  await w.ops.close();
  expect(Date.now() - t0).toBeLessThan(1500);
  await expect(fetch(`${w.base}/healthz`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
});
