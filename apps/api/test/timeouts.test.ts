import type Redis from 'ioredis';
import { captureLogs, createTestRedis, deleteKeys, makeEvent, testRedisUrl, uniqueStreamKeys, waitFor, type TestStreamKeys } from '@fuel-code/testing';
import type { ServerConfig } from '../src/server';
import { API_KEY, health, openConnection, startApp, type RawConnection, type TestApp } from './helpers';

let keys: TestStreamKeys;
let t: TestApp | undefined;
let reader: Redis;
const connections: RawConnection[] = [];

beforeAll(() => {
  reader = createTestRedis();
});

afterAll(() => reader.disconnect());

beforeEach(() => {
  keys = uniqueStreamKeys('api-timeouts');
});

afterEach(async () => {
  for (const c of connections.splice(0)) c.socket.destroy();
  await t?.close();
  t = undefined;
  await deleteKeys(reader, keys);
});

async function start(overrides: Partial<ServerConfig>): Promise<TestApp> {
  t = await startApp(testRedisUrl(), captureLogs().logger, { eventsStream: keys.stream, ...overrides });
  return t;
}

async function connection(url: string): Promise<RawConnection> {
  const c = await openConnection(url);
  connections.push(c);
  return c;
}

/**
 * Resolves when the server has closed the connection, rejects after `deadlineMs`. The deadlines
 * below are far above the configured timeouts and far below Node's and fastify's defaults
 * (a 72 s keep-alive, 5 min per request, no idle limit), so only the configuration can pass them.
 */
async function closedByServerWithin(c: RawConnection, deadlineMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the server did not close the connection within ${deadlineMs} ms; received: ${c.received()}`)), deadlineMs);
  });
  try {
    await Promise.race([c.closed, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const GET_HEALTH = 'GET /api/health HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n';

test('an idle kept-alive connection is closed after KEEP_ALIVE_TIMEOUT_MS', async () => {
  const { url } = await start({ keepAliveTimeoutMs: 300 });
  const c = await connection(url);
  c.socket.write(GET_HEALTH);
  await waitFor(() => c.received().includes('\r\n\r\n{"status":"ok"}'), 10_000, { description: 'the health answer' });
  expect(c.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  expect(c.received().toLowerCase()).toContain('connection: keep-alive');
  expect(c.isClosed()).toBe(false);

  await closedByServerWithin(c, 15_000);
  // One answer only, nothing after it: the close was the idle timeout, not an error reply.
  expect(c.received().match(/HTTP\/1\.1 /g)).toHaveLength(1);
});

test('a request whose body does not arrive within REQUEST_TIMEOUT_MS is answered 408 and closed, and nothing is published', async () => {
  const { url } = await start({ requestTimeoutMs: 500 });
  const body = JSON.stringify({ events: [makeEvent('system.heartbeat')] });
  const c = await connection(url);
  const head = [
    'POST /api/events/ingest HTTP/1.1',
    'Host: test',
    `Authorization: Bearer ${API_KEY}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  // The headers and a few bytes of the body, then nothing: a client stalled mid-upload.
  c.socket.write(`${head.join('\r\n')}\r\n\r\n${body.slice(0, 10)}`);

  await closedByServerWithin(c, 20_000);
  expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  expect(await reader.xlen(keys.stream)).toBe(0);
  // The server is fine for everyone else.
  expect((await health(url)).status).toBe(200);
});

test('a connection that sends nothing at all is closed after CONNECTION_TIMEOUT_MS', async () => {
  const { url } = await start({ connectionTimeoutMs: 300 });
  const c = await connection(url);
  await closedByServerWithin(c, 8_000); // under the 10 s headers timeout, which would close it too
  expect(c.received()).toBe('');
});

test('past MAX_CONNECTIONS a new connection is dropped on arrival; once one closes, connections are accepted again', async () => {
  const { url, app } = await start({ maxConnections: 2 });
  let dropped = 0;
  app.server.on('drop', () => dropped++);
  const first = await connection(url);
  const second = await connection(url);
  // Both are being served (so the server has counted them) before the third arrives.
  for (const c of [first, second]) {
    c.socket.write(GET_HEALTH);
    await waitFor(() => c.received().includes('{"status":"ok"}'), 10_000, { description: 'a health answer' });
  }

  const third = await connection(url);
  await closedByServerWithin(third, 10_000);
  expect(third.received()).toBe('');
  expect(dropped).toBe(1);
  // The connections already open still work.
  first.socket.write(GET_HEALTH);
  await waitFor(() => (first.received().match(/HTTP\/1\.1 200/g) ?? []).length === 2, 10_000, { description: 'a second answer on the first connection' });

  first.socket.destroy();
  await first.closed;
  await waitFor(async () => (await health(url).catch(() => undefined))?.status === 200, 10_000, { description: 'a new connection to be served' });
});
