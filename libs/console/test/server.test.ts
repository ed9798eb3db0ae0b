import pino from 'pino';
import { CONSOLE_DEFAULTS, ConsoleTokenRequiredError, startConsole, type ConsoleConfig, type RunningConsole } from '@fuel-code/console';
import { useStreamTestEnv, waitFor } from '@fuel-code/testing';

const ctx = useStreamTestEnv({ beforeAll, beforeEach, afterEach, afterAll }, { databaseLabel: 'console_server', keyLabel: 'console-server' });
const TOKEN = 'server-test-token-0123456789';
let served: RunningConsole | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

function config(o: Partial<ConsoleConfig> = {}): ConsoleConfig {
  return {
    ...CONSOLE_DEFAULTS,
    port: 0,
    token: TOKEN,
    stream: ctx.keys.stream,
    group: ctx.keys.group,
    deadLetterStream: ctx.keys.deadLetter,
    workerUrls: new Map(),
    secureCookie: false,
    ...o,
  };
}

const start = async (o: Partial<ConsoleConfig> = {}) =>
  (served = await startConsole({ redis: ctx.redis, sql: ctx.db.sql, logger: pino({ level: 'silent' }), config: config(o) }));

/** Log in over plain HTTP; the session cookie and the page's CSRF token. */
async function logIn(url: string, token: string): Promise<{ status: number; cookie?: string; setCookie?: string }> {
  const login = await fetch(`${url}/login`);
  const loginCookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(await login.text())?.[1] ?? '';
  const res = await fetch(`${url}/login`, { method: 'POST', headers: { cookie: loginCookie }, body: new URLSearchParams({ csrf, token }), redirect: 'manual' });
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('fuel_console_session='));
  return { status: res.status, ...(setCookie ? { setCookie, cookie: setCookie.split(';')[0] } : {}) };
}

test('refuses to start off loopback without a token', async () => {
  await expect(start({ host: '0.0.0.0', token: undefined })).rejects.toBeInstanceOf(ConsoleTokenRequiredError);
});

test('login: a wrong token gets no session; the right one an HttpOnly SameSite=Strict cookie; then pages, and POSTs only with the CSRF token', async () => {
  const { url } = await start();
  expect((await logIn(url, 'wrong-token-wrong-token')).status).toBe(401);
  const ok = await logIn(url, TOKEN);
  expect(ok.status).toBe(303);
  expect(ok.setCookie).toMatch(/HttpOnly; SameSite=Strict/);
  const page = await fetch(`${url}/dead-letters`, { headers: { cookie: ok.cookie ?? '' } });
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  const html = await page.text();
  expect(html).not.toContain(TOKEN);
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const noToken = await fetch(`${url}/dead-letters/replay`, { method: 'POST', headers: { cookie: ok.cookie ?? '' }, body: new URLSearchParams({ ids: '1-0' }), redirect: 'manual' });
  expect(noToken.status).toBe(403);
  const withToken = await fetch(`${url}/dead-letters/replay`, { method: 'POST', headers: { cookie: ok.cookie ?? '' }, body: new URLSearchParams({ ids: '1-0', csrf }), redirect: 'manual' });
  expect(withToken.status).toBe(303);
  const noCookie = await fetch(`${url}/`, { redirect: 'manual' });
  expect([noCookie.status, noCookie.headers.get('location')]).toEqual([303, '/login']);
});

test('assets are served from the package and node_modules, without login', async () => {
  const { url } = await start();
  for (const name of ['console.js', 'console.css', 'uPlot.iife.min.js', 'uPlot.min.css']) {
    const res = await fetch(`${url}/assets/${name}`);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100);
  }
  expect((await fetch(`${url}/assets/%2e%2e%2fpackage.json`)).status).toBe(404);
});

test('close() is idempotent and stops listening', async () => {
  const running = await start();
  await Promise.all([running.close(), running.close()]);
  await expect(fetch(`${running.url}/login`)).rejects.toThrow();
});

test('consumers: one idle past deadConsumerIdleMs is marked DEAD, one that just read LIVE', async () => {
  const { url } = await start({ deadConsumerIdleMs: 300 });
  await ctx.redis.xadd(ctx.keys.stream, '*', 'event', '{}');
  await ctx.redis.xgroup('CREATE', ctx.keys.stream, ctx.keys.group, '0');
  await ctx.redis.xreadgroup('GROUP', ctx.keys.group, 'gone-worker', 'COUNT', 1, 'STREAMS', ctx.keys.stream, '>');
  const idleOf = async (name: string) => {
    const rows = (await ctx.redis.xinfo('CONSUMERS', ctx.keys.stream, ctx.keys.group)) as unknown[][];
    const row = rows.find((r) => r[1] === name) ?? [];
    return Number(row[row.indexOf('idle') + 1]);
  };
  await waitFor(async () => (await idleOf('gone-worker')) > 300, 5000, { description: 'gone-worker idle past the threshold' });
  // A history read counts as activity (Redis 7.0), so this one is freshly seen.
  await ctx.redis.xreadgroup('GROUP', ctx.keys.group, 'live-worker', 'COUNT', 1, 'STREAMS', ctx.keys.stream, '0');
  const { cookie } = await logIn(url, TOKEN);
  const html = await (await fetch(`${url}/consumers`, { headers: { cookie: cookie ?? '' } })).text();
  const row = (name: string) => new RegExp(`<tr data-consumer="${name}">.*?</tr>`, 's').exec(html)?.[0] ?? '';
  expect(row('gone-worker')).toContain('DEAD');
  expect(row('live-worker')).toContain('LIVE');
  expect(row('live-worker')).not.toContain('DEAD');
});
