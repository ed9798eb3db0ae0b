import type Redis from 'ioredis';
import { captureLogs, startTcpProxy, testRedisUrl, waitFor, withHostPort, type LogCapture, type TcpProxy } from '@fuel-code/testing';
import { closeRedisConnection, createRedisConnection, REDIS_ROLES, unansweredSince, waitUntilReady } from '@fuel-code/stream';

const DROPPED = 'dropping the silent connection';
const BACK = 'answers on a new connection';

let proxy: TcpProxy;
const clients: Redis[] = [];

beforeEach(async () => {
  const target = new URL(testRedisUrl());
  proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 6379) });
});
afterEach(async () => {
  for (const redis of clients.splice(0)) redis.disconnect();
  await proxy.close();
});

/** A guarded client through the proxy, with a short command timeout so the test is quick. */
async function connect(o: { queueWhileDisconnected: boolean }): Promise<{ redis: Redis; logs: LogCapture }> {
  const logs = captureLogs('debug');
  const redis = createRedisConnection({
    url: withHostPort(testRedisUrl(), proxy.host, proxy.port),
    logger: logs.logger,
    connectionName: 'silence-guard-test',
    commandTimeoutMs: 300,
    queueWhileDisconnected: o.queueWhileDisconnected,
  });
  clients.push(redis);
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  expect(await redis.ping()).toBe('PONG');
  return { redis, logs };
}

async function timesOut(command: Promise<unknown>): Promise<void> {
  await expect(command).rejects.toThrow('Command timed out');
}

test('a connection gone silent is dropped after two timeouts in a row and replaced; one warning, one line when back', async () => {
  const { redis, logs } = await connect({ queueWhileDisconnected: false });
  const before = await redis.client('ID');
  await proxy.silenceOpen();

  await timesOut(redis.ping());
  expect(unansweredSince(redis)).toBeDefined();
  expect(logs.find(DROPPED)).toEqual([]);
  // Both commands of a pipeline time out: that is two in a row.
  const pipeline = redis.pipeline().ping().echo('x');
  await pipeline.exec();

  await logs.waitForLine(DROPPED, 5000);
  await waitFor(async () => (await redis.ping().catch(() => undefined)) === 'PONG', 10_000, { description: 'a new connection' });
  expect(await redis.client('ID')).not.toBe(before);
  expect(unansweredSince(redis)).toBeUndefined();
  await logs.waitForLine(BACK, 5000);
  expect(logs.find(DROPPED)).toHaveLength(1);
  expect(logs.find(BACK)).toHaveLength(1);
  // The silenced connection was never closed by the proxy: the client left it by itself.
  expect(proxy.silencedCount()).toBe(1);
});

test('queued while reconnecting: a command sent during the drop is answered on the new connection', async () => {
  const { redis, logs } = await connect({ queueWhileDisconnected: true });
  await proxy.silenceOpen();
  await timesOut(redis.ping());
  const second = redis.ping();
  await timesOut(second);
  await logs.waitForLine(DROPPED, 5000);
  // Sent at once after the drop: it waits for the new connection instead of failing.
  expect(await redis.set('silence-guard-test', '1', 'PX', 10_000)).toBe('OK');
  await logs.waitForLine(BACK, 5000);
});

test('a reply between two timeouts resets the count: the connection is kept', async () => {
  const { redis, logs } = await connect({ queueWhileDisconnected: false });
  const id = await redis.client('ID');

  await proxy.silenceOpen();
  await timesOut(redis.echo('first'));
  // The link heals: the held command goes through and its late reply is read.
  await proxy.restore();
  expect(await redis.echo('answered')).toBe('answered');
  expect(unansweredSince(redis)).toBeUndefined();

  await proxy.silenceOpen();
  await timesOut(redis.echo('second'));
  // Let a drop decision (taken on the next turn of the event loop) happen if it were coming.
  await new Promise((resolve) => setImmediate(resolve));
  await proxy.restore();
  expect(await redis.client('ID')).toBe(id);
  expect(logs.find(DROPPED)).toEqual([]);
});

test('closeRedisConnection: QUIT unanswered on a silent connection is given up after the bound, and the socket dropped', async () => {
  const { redis } = await connect({ queueWhileDisconnected: true });
  await proxy.silenceOpen();
  const t0 = Date.now();
  await closeRedisConnection(redis, 300);
  expect(Date.now() - t0).toBeLessThan(3000);
  await waitFor(() => redis.status === 'end', 5000, { description: 'the client to end' });
});

test('waitUntilReady: false within the time when Redis cannot be reached, true once it is', async () => {
  await proxy.cut();
  const logs = captureLogs('debug');
  const redis = createRedisConnection({ url: withHostPort(testRedisUrl(), proxy.host, proxy.port), logger: logs.logger, ...REDIS_ROLES.api });
  clients.push(redis);
  expect(await waitUntilReady(redis, 300)).toBe(false);
  await proxy.restore();
  expect(await waitUntilReady(redis, 10_000)).toBe(true);
  expect(await redis.ping()).toBe('PONG');
});
