import type Redis from 'ioredis';
import { createTestRedis, deleteKeys, freePort, spawnProcess, testRedisUrl, uniqueStreamKeys, type SpawnedProcess, type TestStreamKeys } from '@fuel-code/testing';
import { WORKER_JS } from './worker-process';

let redis: Redis;
let keys: TestStreamKeys;
const running: SpawnedProcess[] = [];

beforeAll(() => {
  redis = createTestRedis();
});
beforeEach(() => {
  keys = uniqueStreamKeys('refused');
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill('SIGKILL')));
  await deleteKeys(redis, keys);
});
afterAll(() => {
  redis.disconnect();
});

function worker(args: string[], env: Record<string, string>): SpawnedProcess {
  const proc = spawnProcess(process.execPath, [WORKER_JS, ...args], {
    env: { PATH: process.env['PATH'] ?? '', REDIS_URL: testRedisUrl(), WORKER_HTTP_PORT: '0', LOG_LEVEL: 'info', ...env },
  });
  running.push(proc);
  return proc;
}

/** Everything the process wrote, stdout (raw JSON lines re-serialized) and stderr. */
const output = (proc: SpawnedProcess) => `${proc.lines.map((l) => JSON.stringify(l)).join('\n')}\n${proc.stderr}`;

test.each(['run', 'migrate', 'status', 'dead-letters list', 'dead-letters purge --yes', 'dead-letters replay --all'])(
  'DEAD_LETTER_STREAM equal to EVENTS_STREAM: `%s` exits 2 naming both, and touches nothing',
  async (command) => {
    const live = await redis.xadd(keys.stream, '*', 'event', '{"a live":"event"}');
    const proc = worker(command.split(' '), { EVENTS_STREAM: keys.stream, DEAD_LETTER_STREAM: keys.stream, CONSUMER_GROUP: keys.group });
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr).toContain(`Invalid DEAD_LETTER_STREAM: it must differ from EVENTS_STREAM, but both are "${keys.stream}"`);
    expect((await redis.xrange(keys.stream, '-', '+')).map(([id]) => id)).toEqual([live]);
  },
);

describe('no password reaches stdout or stderr', () => {
  let port: number;
  beforeAll(async () => {
    // Nothing listens there: every connection is refused.
    port = await freePort();
  });

  // Each word of a password is checked on its own: a leak in part is a leak.
  test.each([
    ['a normal URL', (p: number) => `postgres://app:Foxtrot@127.0.0.1:${p}/fuel`, ['Foxtrot'], 1],
    ["a password with '@'", (p: number) => `postgres://app:Alpha@Bravo@127.0.0.1:${p}/fuel`, ['Alpha', 'Bravo'], 1],
    ['a password in the query', (p: number) => `postgres://app@127.0.0.1:${p}/fuel?password=Echo`, ['Echo'], 1],
    ["a password with '/' (refused)", (p: number) => `postgres://app:Charlie/Delta@127.0.0.1:${p}/fuel`, ['Charlie', 'Delta'], 2],
  ])('migrate with an unreachable DATABASE_URL holding %s', async (_what, url, words, code) => {
    const proc = worker(['migrate'], { DATABASE_URL: url(port), EVENTS_STREAM: keys.stream, DEAD_LETTER_STREAM: keys.deadLetter });
    expect((await proc.exited).code).toBe(code);
    expect(proc.stderr).toMatch(/^error: /);
    for (const word of words) expect(output(proc)).not.toContain(word);
  });

  test('run: the startup line shows the URL masked, and waiting out the database prints no password', async () => {
    const proc = worker(['run'], {
      DATABASE_URL: `postgres://app:Golf@Hotel@127.0.0.1:${port}/fuel?sslpassword=India`,
      EVENTS_STREAM: keys.stream,
      DEAD_LETTER_STREAM: keys.deadLetter,
      CONSUMER_GROUP: keys.group,
    });
    const started = await proc.waitForLine('Starting event worker', 20_000);
    expect(started['databaseUrl']).toBe(`postgres://app:***@127.0.0.1:${port}/fuel?sslpassword=***`);
    await proc.waitForLine(/postgres unavailable during applying migrations/, 20_000);
    await proc.kill('SIGTERM');
    for (const word of ['Golf', 'Hotel', 'India']) expect(output(proc)).not.toContain(word);
  });

  test('status with an unreachable REDIS_URL holding a password', async () => {
    const proc = worker(['status'], { REDIS_URL: `redis://:Juliet@127.0.0.1:${port}/0`, EVENTS_STREAM: keys.stream, DEAD_LETTER_STREAM: keys.deadLetter });
    expect((await proc.exited).code).toBe(1);
    expect(proc.stderr).toMatch(/^error: /);
    expect(output(proc)).not.toContain('Juliet');
  });
});
