import { connect } from 'node:net';
import Redis from 'ioredis';
import { startRedisServer, type PrivateRedis } from '@fuel-code/testing';

const servers: PrivateRedis[] = [];
const clients: Redis[] = [];

async function start(appendonly: boolean): Promise<PrivateRedis> {
  const server = await startRedisServer({ appendonly });
  servers.push(server);
  return server;
}

/** A client that fails at once while the server is down instead of queueing commands. */
function connectTo(server: PrivateRedis): Redis {
  const redis = new Redis(server.url, { maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, lazyConnect: true });
  redis.on('error', () => undefined);
  clients.push(redis);
  return redis;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterEach(async () => {
  for (const redis of clients.splice(0)) if (redis.status !== 'end') redis.disconnect();
  await Promise.all(servers.splice(0).map((s) => s.kill()));
});

test('answers PING on its own port, in its own fresh dir', async () => {
  const server = await start(false);
  expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
  const redis = connectTo(server);
  await redis.connect();
  expect(await redis.ping()).toBe('PONG');
  expect(await redis.config('GET', 'dir')).toEqual(['dir', server.dir]);
  expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
  expect(await redis.config('GET', 'save')).toEqual(['save', '']);
});

test.each([
  [false, 0],
  [true, 1],
])('appendonly %s: a restart keeps %i entries', async (appendonly, expected) => {
  const server = await start(appendonly);
  const before = connectTo(server);
  await before.connect();
  await before.xadd('events', '*', 'event', '{}');
  expect(await before.xlen('events')).toBe(1);
  const pid = server.pid();

  await server.restart();
  expect(server.pid()).not.toBe(pid);
  const after = connectTo(server);
  await after.connect();
  expect(await after.xlen('events')).toBe(expected);
});

test('stop and kill end the process, are idempotent, and restart brings it back on the same port', async () => {
  const server = await start(true);
  const pid = server.pid() ?? 0;
  expect(isRunning(pid)).toBe(true);
  await server.stop();
  expect(isRunning(pid)).toBe(false);
  expect(server.pid()).toBeUndefined();
  await server.stop();
  await server.kill();
  const socket = connect({ host: '127.0.0.1', port: server.port });
  const refused = await new Promise<NodeJS.ErrnoException>((resolve) => socket.once('error', resolve));
  expect(refused.code).toBe('ECONNREFUSED');

  await server.restart();
  const crashedPid = server.pid() ?? 0;
  const up = connectTo(server);
  await up.connect();
  await up.set('k', 'v');
  await Promise.all([server.kill(), server.kill()]);
  expect(isRunning(crashedPid)).toBe(false);

  // Data written before a SIGKILL is in the AOF already (written before the reply).
  await server.restart();
  const again = connectTo(server);
  await again.connect();
  expect(await again.get('k')).toBe('v');
});
