import { spawnSync } from 'node:child_process';
import { freePort, waitFor } from '@fuel-code/testing';
import { parseConsoleConfig } from '../src/console-config';
import { parseWorkerConfig } from '../src/config';
import { spawnConsole } from './browser';
import { useWorkerProcessEnv, WORKER_JS } from './worker-process';

const ctx = useWorkerProcessEnv('console_command', 'console-cmd');
const worker = parseWorkerConfig({}, {});

test('config: defaults, flag > env, a token off loopback, bad values named', () => {
  expect(parseConsoleConfig({}, {}, worker)).toMatchObject({ host: '127.0.0.1', port: 9465, token: undefined, stream: 'events:incoming', secureCookie: false });
  const c = parseConsoleConfig({ port: '9000' }, { CONSOLE_PORT: '9100', CONSOLE_HOST: '0.0.0.0', CONSOLE_TOKEN: 'x'.repeat(16), CONSOLE_WORKER_URLS: 'w1=http://w1:9464, w2=http://w2:9464', CONSOLE_SECURE_COOKIE: 'true' }, worker);
  expect(c).toMatchObject({ port: 9000, host: '0.0.0.0', token: 'x'.repeat(16), secureCookie: true });
  expect([...c.workerUrls]).toEqual([['w1', 'http://w1:9464'], ['w2', 'http://w2:9464']]);
  expect(parseConsoleConfig({ tokenFile: '/t' }, { CONSOLE_HOST: '::' }, worker, () => `${'y'.repeat(20)}\n`).token).toBe('y'.repeat(20));
  expect(() => parseConsoleConfig({}, { CONSOLE_HOST: '0.0.0.0' }, worker)).toThrow(/CONSOLE_TOKEN is required/);
  expect(() => parseConsoleConfig({}, { CONSOLE_TOKEN: 'short' }, worker)).toThrow('Invalid CONSOLE_TOKEN: expected at least 16 characters without spaces');
  expect(() => parseConsoleConfig({}, { CONSOLE_PORT: '70000' }, worker)).toThrow(/Invalid CONSOLE_PORT/);
  expect(() => parseConsoleConfig({}, { CONSOLE_WORKER_URLS: 'just-a-url' }, worker)).toThrow(/Invalid CONSOLE_WORKER_URLS/);
  expect(() => parseConsoleConfig({ tokenFile: '/nope' }, {}, worker, () => { throw new Error('ENOENT'); })).toThrow(/Invalid --token-file/);
});

test('`console` on a non-loopback host without a token refuses to start: exit 2 and a clear message', () => {
  const res = spawnSync(process.execPath, [WORKER_JS, 'console', '--host', '0.0.0.0'], { env: { PATH: process.env['PATH'] ?? '' }, encoding: 'utf8', timeout: 30_000 });
  expect(res.status).toBe(2);
  expect(res.stderr).toContain('CONSOLE_TOKEN is required when the console listens beyond loopback');
  const env = { PATH: process.env['PATH'] ?? '', CONSOLE_HOST: '10.1.2.3', CONSOLE_TOKEN: '' };
  expect(spawnSync(process.execPath, [WORKER_JS, 'console'], { env, encoding: 'utf8', timeout: 30_000 }).status).toBe(2);
});

test('the console reads and never consumes: the group, its consumers and pending stay as they were; SIGTERM stops it', async () => {
  for (let i = 0; i < 20; i++) await ctx.redis.xadd(ctx.keys.stream, '*', 'event', `{"n":${i}}`);
  await ctx.redis.xgroup('CREATE', ctx.keys.stream, ctx.keys.group, '0');
  await ctx.redis.xreadgroup('GROUP', ctx.keys.group, 'w1', 'COUNT', 5, 'STREAMS', ctx.keys.stream, '>');
  const before = await ctx.redis.xinfo('GROUPS', ctx.keys.stream);
  const port = await freePort();
  const served = spawnConsole({ keys: ctx.keys, databaseUrl: ctx.db.url, port });
  ctx.workers.push(served);
  await served.waitForLine('Console listening', 30_000);
  // Pages need a login; the sampler reads on its own from the start. Wait for a few samples' worth of reads.
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/login`)).status === 200, 10_000, { description: 'the console answers' });
  const clients = await ctx.redis.client('LIST');
  expect(String(clients)).toContain('name=fuel-code-console');
  expect(await ctx.redis.xinfo('GROUPS', ctx.keys.stream)).toEqual(before);
  expect(((await ctx.redis.xinfo('CONSUMERS', ctx.keys.stream, ctx.keys.group)) as unknown[]).length).toBe(1);
  const exit = await served.kill('SIGTERM');
  expect(exit.code).toBe(0);
  expect(served.lines.some((l) => l['msg'] === 'Console stopped')).toBe(true);
});
