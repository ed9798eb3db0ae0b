import type { Browser, Page } from 'playwright-core';
import { freePort, sessionStartEvent, skillInvokeEvent, waitFor } from '@fuel-code/testing';
import { launchChromium, screenshot, spawnConsole } from './browser';
import { addDeadLetter } from './dead-letters';
import { publishAll, spawnWorker, useWorkerProcessEnv } from './worker-process';

/*
 * The console in a real browser (Debian's Chromium through playwright-core), against a real
 * worker process and a real console process. One test walks an operator's path: log in, see a
 * poison event dead-lettered, open it, fix its cause, replay it and find it stored in its
 * session; then purge a confirmed selection. The refusals (no cookie, no CSRF token) follow.
 */
const ctx = useWorkerProcessEnv('console_browser', 'console');
const TOKEN = 'browser-test-token-0123456789';
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** A BEFORE INSERT trigger that refuses one skill's events: a cause an operator can fix. */
async function breakSkill(skill: string): Promise<void> {
  await ctx.db.sql.unsafe(`
    CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'skill ${skill} refused by a trigger'; END $$;
    CREATE TRIGGER refuse_poison BEFORE INSERT ON events FOR EACH ROW
      WHEN (NEW.data->>'skill_name' = '${skill}') EXECUTE FUNCTION refuse_poison();`);
}

async function fixSkill(): Promise<void> {
  await ctx.db.sql.unsafe('DROP TRIGGER refuse_poison ON events; DROP FUNCTION refuse_poison();');
}

async function startPipeline(): Promise<{ base: string; sessionId: string; poisonId: string }> {
  const [workerPort, consolePort] = [await freePort(), await freePort()];
  const worker = spawnWorker({
    keys: ctx.keys,
    databaseUrl: ctx.db.url,
    args: ['--max-attempts', '2', '--consumer-name', 'browser-worker'],
    env: { WORKER_HTTP_PORT: String(workerPort) },
  });
  ctx.workers.push(worker);
  const served = spawnConsole({
    keys: ctx.keys,
    databaseUrl: ctx.db.url,
    port: consolePort,
    env: { CONSOLE_TOKEN: TOKEN, CONSOLE_WORKER_URLS: `browser-worker=http://127.0.0.1:${workerPort}` },
  });
  ctx.workers.push(served);
  await Promise.all([worker.waitForLine('Event consumer started', 30_000), served.waitForLine('Console listening', 30_000)]);
  const sessionId = `browser-session-${Date.now()}`;
  const poison = skillInvokeEvent(sessionId, 'poison-skill');
  await publishAll(ctx.redis, ctx.keys.stream, [sessionStartEvent(sessionId), poison]);
  return { base: `http://127.0.0.1:${consolePort}`, sessionId, poisonId: poison.id };
}

async function logIn(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/dead-letters`);
  expect(new URL(page.url()).pathname).toBe('/login');
  await screenshot(page, '01-login');
  await page.fill('input[name=token]', 'wrong-token-wrong-token');
  await page.click('button[type=submit]');
  await expect(page.textContent('[role=alert]')).resolves.toContain('Wrong token');
  await page.fill('input[name=token]', TOKEN);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/`);
}

test('an operator logs in, opens a poison event, replays it once fixed, sees it in its session, and purges a confirmed selection', async () => {
  await breakSkill('poison-skill');
  const { base, sessionId, poisonId } = await startPipeline();
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await logIn(page, base);
  // From here on no page may log an error (a CSP violation, a failed asset, a script error).
  const problems: string[] = [];
  page.on('console', (m) => (m.type() === 'error' ? problems.push(m.text()) : undefined));
  page.on('pageerror', (e) => problems.push(e.message));
  await page.waitForSelector('#events-chart[data-drawn=true]');
  expect(await page.textContent('#status-line')).toMatch(/OK|WARNING|CRITICAL/);
  await screenshot(page, '02-overview');

  // The poison event appears in the dead-letter list (the worker tried twice, then gave up).
  const row = await waitFor(
    async () => {
      await page.goto(`${base}/dead-letters`);
      return (await page.$$('tr[data-id]')).length === 1 ? page.locator('tr[data-id]') : undefined;
    },
    30_000,
    { description: 'the poison event in the dead-letter list' },
  );
  await expect(row.textContent()).resolves.toMatch(/skill\.invoke[\s\S]*failed[\s\S]*refused by a trigger/);
  await screenshot(page, '03-dead-letters');

  // Its detail: the original bytes, pretty-printed.
  await row.locator('a').click();
  const payload = (await page.textContent('#payload')) ?? '';
  expect(payload).toContain(`"id": "${poisonId}"`);
  expect(payload).toContain('  "data": {\n    "session_id"');
  await screenshot(page, '04-dead-letter-detail');

  // Fix the cause, replay, and the event's row appears in its session.
  await fixSkill();
  await page.click('button:has-text("Replay")');
  await expect(page.textContent('.flash')).resolves.toContain('Replayed 1,');
  await waitFor(
    async () => {
      await page.goto(`${base}/sessions/${sessionId}`);
      return (await page.$(`tr[data-event="${poisonId}"]`)) !== null;
    },
    30_000,
    { description: 'the replayed event in the session view' },
  );
  expect(await page.textContent(`tr[data-event="${poisonId}"]`)).toContain('skill.invoke');
  await screenshot(page, '05-session');
  await page.goto(`${base}/sessions`);
  expect(await page.textContent(`tr[data-session="${sessionId}"]`)).toContain('detected');
  await screenshot(page, '06-sessions');
  await page.goto(`${base}/consumers`);
  expect(await page.textContent('tr[data-consumer="browser-worker"]')).toMatch(/LIVE[\s\S]*OK/);
  await screenshot(page, '07-consumers');

  // Purge: the confirmation names the count; a dead letter written after it was shown survives.
  for (const n of [1, 2, 3]) {
    await addDeadLetter(ctx.redis, ctx.keys.deadLetter, { event: `{"n":${n}}`, streamId: `${n}-1`, reason: 'invalid', error: 'not an envelope', attempts: 1, consumer: 'x' });
  }
  await page.goto(`${base}/dead-letters`);
  await page.check('[data-select-all]');
  await page.click('button:has-text("Purge selected")');
  expect(await page.textContent('#confirm-text')).toContain('Purge 3 dead letters?');
  await screenshot(page, '08-purge-confirm');
  const later = await addDeadLetter(ctx.redis, ctx.keys.deadLetter, { event: '{"n":4}', streamId: '4-1', reason: 'invalid', error: 'later', attempts: 1, consumer: 'x' });
  await page.click('button:has-text("Purge 3 dead letters")');
  await expect(page.textContent('.flash')).resolves.toContain('Purged 3 dead letters of the 3 confirmed.');
  expect((await ctx.redis.xrange(ctx.keys.deadLetter, '-', '+')).map(([id]) => id)).toEqual([later]);
  expect(problems).toEqual([]);
  await page.close();
});

test('without the cookie no page or endpoint gives data; a POST without the CSRF token is refused', async () => {
  const { base } = await startPipeline();
  const dl = await addDeadLetter(ctx.redis, ctx.keys.deadLetter, { event: '{"secret":"s3cr3t"}', streamId: '1-1', reason: 'invalid', error: 'x', attempts: 1, consumer: 'x' });
  for (const path of ['/', '/consumers', '/dead-letters', `/dead-letters/${dl}`, '/sessions', '/sessions/x']) {
    const res = await fetch(`${base}${path}`, { redirect: 'manual' });
    expect([res.status, res.headers.get('location')]).toEqual([303, '/login']);
    expect(await res.text()).toBe('');
  }
  for (const path of ['/dead-letters/replay', '/dead-letters/confirm', '/dead-letters/execute']) {
    const res = await fetch(`${base}${path}`, { method: 'POST', body: new URLSearchParams({ ids: dl }), redirect: 'manual' });
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain('s3cr3t');
  }

  // Logged in (the browser holds the cookie), a forged POST without the token is refused.
  const context = await browser.newContext();
  const page = await context.newPage();
  await logIn(page, base);
  const forged = await page.request.post(`${base}/dead-letters/replay`, { form: { ids: dl }, maxRedirects: 0 });
  expect(forged.status()).toBe(403);
  const wrong = await page.request.post(`${base}/dead-letters/confirm`, { form: { ids: dl, action: 'purge', csrf: 'guess' }, maxRedirects: 0 });
  expect(wrong.status()).toBe(403);
  expect(await ctx.redis.xlen(ctx.keys.deadLetter)).toBe(1);
  expect(await ctx.redis.xlen(ctx.keys.stream)).toBe(2);
  const cookie = (await context.cookies()).find((c) => c.name === 'fuel_console_session');
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
  expect(await page.content()).not.toContain(TOKEN);
  await context.close();
});
