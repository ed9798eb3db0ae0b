import { createServer, connect } from 'node:net';
import type Redis from 'ioredis';
import postgres, { type Sql } from 'postgres';
import { createTestRedis, freePort, startTcpProxy, testDatabaseUrl, testRedisUrl, waitFor, withHostPort, type TcpProxy } from '@fuel-code/testing';

const pgTarget = new URL(testDatabaseUrl());
const clients: Sql[] = [];
let proxy: TcpProxy | undefined;

function client(url: string): Sql {
  const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => undefined });
  clients.push(sql);
  return sql;
}

async function startPgProxy(): Promise<{ proxy: TcpProxy; url: string }> {
  proxy = await startTcpProxy({ targetHost: pgTarget.hostname, targetPort: Number(pgTarget.port || 5432) });
  return { proxy, url: withHostPort(testDatabaseUrl(), proxy.host, proxy.port) };
}

/** The rejection of `promise` and how long it took to come. */
async function failure(promise: Promise<unknown>): Promise<{ error: NodeJS.ErrnoException; ms: number }> {
  const start = Date.now();
  try {
    await promise;
  } catch (error) {
    return { error: error as NodeJS.ErrnoException, ms: Date.now() - start };
  }
  throw new Error('expected a failure, got a result');
}

const redisClients: Redis[] = [];

afterEach(async () => {
  for (const redis of redisClients.splice(0)) redis.disconnect();
  // A query cut in flight leaves postgres.js unable to end cleanly (porsager/postgres#1130): time-box it.
  await Promise.all(clients.splice(0).map((sql) => sql.end({ timeout: 1 })));
  await proxy?.close();
  proxy = undefined;
});

test('freePort gives a port that can be listened on', async () => {
  const port = await freePort();
  expect(port).toBeGreaterThan(0);
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  await new Promise((resolve) => server.close(resolve));
});

test('withHostPort rewrites host and port and keeps the rest', () => {
  expect(withHostPort('postgres://user:p%40ss@db.example:5432/app?sslmode=disable', '127.0.0.1', 6000)).toBe(
    'postgres://user:p%40ss@127.0.0.1:6000/app?sslmode=disable',
  );
  expect(withHostPort('redis://127.0.0.1:6379', '127.0.0.1', 7001)).toBe('redis://127.0.0.1:7001');
  expect(withHostPort('redis://:secret@localhost:6379/2', '::1', 7002)).toBe('redis://:secret@[::1]:7002/2');
});

test('passes Postgres traffic, cut fails queries fast, restore heals the same port', async () => {
  const { proxy, url } = await startPgProxy();
  const port = proxy.port;
  const sql = client(url);
  expect(await sql`SELECT 1 AS one`).toEqual([{ one: 1 }]);
  expect(proxy.connectionCount()).toBe(1);

  await proxy.cut();
  expect(proxy.connectionCount()).toBe(0);
  // The open connection was reset: the next query on it fails at once, as does a new client.
  const onOld = await failure(sql`SELECT 2`);
  expect(onOld.error.code).toMatch(/ECONNRESET|CONNECTION_CLOSED/);
  expect(onOld.ms).toBeLessThan(3000);
  const onNew = await failure(client(url)`SELECT 3`);
  expect(onNew.error.code).toBe('ECONNRESET');
  expect(onNew.ms).toBeLessThan(3000);
  expect(proxy.connectionCount()).toBe(0);

  await proxy.restore();
  expect(proxy.port).toBe(port);
  expect(await client(url)`SELECT 4 AS four`).toEqual([{ four: 4 }]);
  expect(await sql`SELECT 5 AS five`).toEqual([{ five: 5 }]); // the old client reconnects too
  expect(proxy.connectionCount()).toBe(2);
});

test('cut resets a query in flight', async () => {
  const { proxy, url } = await startPgProxy();
  const sql = client(url);
  await sql`SELECT 1`;
  const slow = failure(sql`SELECT pg_sleep(5) AS cut_me`);
  const direct = client(testDatabaseUrl());
  await waitFor(
    async () => (await direct`SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%AS cut_me'`).length > 0,
    5000,
    { description: 'the slow query to be running' },
  );
  await proxy.cut();
  const { error, ms } = await slow;
  expect(error.code).toBe('ECONNRESET');
  expect(ms).toBeLessThan(3000);
});

test('a connection to an unreachable target is reset', async () => {
  proxy = await startTcpProxy({ targetHost: '127.0.0.1', targetPort: await freePort() });
  const { error, ms } = await failure(client(`postgres://postgres@127.0.0.1:${proxy.port}/postgres`)`SELECT 1`);
  expect(error.code).toMatch(/ECONNRESET|CONNECTION_CLOSED/);
  expect(ms).toBeLessThan(3000);
});

test('close is idempotent and frees the port', async () => {
  const { proxy } = await startPgProxy();
  await Promise.all([proxy.close(), proxy.close()]);
  await proxy.close();
  const socket = connect({ host: proxy.host, port: proxy.port });
  const error = await new Promise<NodeJS.ErrnoException>((resolve) => socket.once('error', resolve));
  expect(error.code).toBe('ECONNREFUSED');
  // Listening on the given port works once it is free.
  const again = await startTcpProxy({ targetHost: '127.0.0.1', targetPort: 1, listenPort: proxy.port });
  expect(again.port).toBe(proxy.port);
  await again.close();
});

test('blackhole holds every byte without an error, and restore delivers what waited', async () => {
  const { proxy, url } = await startPgProxy();
  const sql = client(url);
  await sql`SELECT 1`;
  await proxy.blackhole();
  const settled = new Set<string>();
  const onOld = sql`SELECT 7 AS seven`;
  const onNew = client(url)`SELECT 8 AS eight`;
  void onOld.finally(() => settled.add('old')).catch(() => undefined);
  void onNew.finally(() => settled.add('new')).catch(() => undefined);
  // Unproxied, each would answer in about a millisecond: 300 ms of silence is the blackhole.
  await client(testDatabaseUrl())`SELECT pg_sleep(0.3)`;
  expect([...settled]).toEqual([]);
  expect(proxy.connectionCount()).toBe(1);

  await proxy.restore();
  expect(await onOld).toEqual([{ seven: 7 }]);
  expect(await onNew).toEqual([{ eight: 8 }]);
  expect(proxy.connectionCount()).toBe(2);
});

test('silenceOpen stops the open connections without a word, while new connections pass', async () => {
  const target = new URL(testRedisUrl());
  proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 6379) });
  const url = withHostPort(testRedisUrl(), proxy.host, proxy.port);
  const redisThrough = (): Redis => {
    const redis = createTestRedis(url);
    redisClients.push(redis);
    return redis;
  };
  const old = redisThrough();
  expect(await old.echo('before')).toBe('before');
  expect(proxy.connectionCount()).toBe(1);

  await proxy.silenceOpen();
  expect(proxy.silencedCount()).toBe(1);
  const settled: string[] = [];
  const onOld = old.echo('held');
  void onOld.finally(() => settled.push('old')).catch(() => undefined);
  let closed = false;
  old.once('close', () => (closed = true));

  // A new connection opened after the silence is forwarded and answers, several times over,
  // while the old one neither answers nor errors nor closes.
  const fresh = redisThrough();
  for (let i = 0; i < 20; i++) expect(await fresh.echo(`new ${i}`)).toBe(`new ${i}`);
  expect(proxy.connectionCount()).toBe(2);
  expect(proxy.silencedCount()).toBe(1);
  expect(settled).toEqual([]);
  expect(closed).toBe(false);
  expect(old.status).toBe('ready');

  // restore() lets what waited through, on the same connection.
  await proxy.restore();
  expect(await onOld).toBe('held');
  expect(proxy.silencedCount()).toBe(0);
  expect(await old.echo('after')).toBe('after');
  await waitFor(() => settled.includes('old'), 1000);
});
