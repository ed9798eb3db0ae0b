import {
  gitCommitEvent,
  sessionEndEvent,
  sessionStartEvent,
  spawnProcess,
  waitFor,
  type EnvelopeInput,
  type SpawnedProcess,
} from '@fuel-code/testing';
import { countEvents, groupPending, publishAll, spawnWorker, useWorkerProcessEnv, WORKER_JS } from './worker-process';

const ctx = useWorkerProcessEnv('worker_process', 'worker');

beforeEach(async () => {
  // Counts below are of the whole table: start each test from an empty one.
  await ctx.db.sql`TRUNCATE events, sessions`;
});

function start(args: string[] = [], env: Record<string, string> = {}): SpawnedProcess {
  const worker = spawnWorker({ keys: ctx.keys, databaseUrl: ctx.db.url, args, env });
  ctx.workers.push(worker);
  return worker;
}

test('a bad option or env value exits 2 naming it; --help exits 0', async () => {
  const bad = spawnProcess(process.execPath, [WORKER_JS, 'run', '--max-attempts', 'many']);
  expect((await bad.exited).code).toBe(2);
  expect(bad.stderr).toMatch(/Invalid --max-attempts: expected an integer/);

  const badEnv = spawnProcess(process.execPath, [WORKER_JS], { env: { ...process.env, WORKER_HTTP_PORT: 'x' } });
  expect((await badEnv.exited).code).toBe(2);
  expect(badEnv.stderr).toMatch(/Invalid WORKER_HTTP_PORT/);

  for (const args of [['--help'], ['run', '--help'], ['migrate', '--help']]) {
    const help = spawnProcess(process.execPath, [WORKER_JS, ...args]);
    expect((await help.exited).code).toBe(0);
    expect(help.lines.map((l) => String(l.msg)).join('\n')).toMatch(/Usage: worker/);
  }
});

test('boots, migrates, consumes a session into rows, and exits 0 on SIGTERM while idle in a 5 s BLOCK', async () => {
  const worker = start(['--block-ms', '5000']);
  const started = await worker.waitForLine('Event consumer started', 20_000);
  expect(started['registeredHandlers']).toEqual(
    ['git.checkout', 'git.commit', 'git.merge', 'git.push', 'session.compact', 'session.end', 'session.start', 'skill.invoke', 'subagent.start', 'subagent.stop', 'team.create', 'team.message', 'worktree.create', 'worktree.remove'],
  );
  expect(String(started['consumer'])).toMatch(/-\d+$/);

  const events: EnvelopeInput[] = [sessionStartEvent('proc-s1'), gitCommitEvent('proc-s1'), sessionEndEvent('proc-s1')];
  await publishAll(ctx.redis, ctx.keys.stream, events);
  await waitFor(async () => (await ctx.db.sql`SELECT lifecycle FROM sessions WHERE id = 'proc-s1'`)[0]?.['lifecycle'] === 'ended', 10_000);
  expect(await countEvents(ctx.db.sql)).toBe(3);

  const t0 = Date.now();
  const exit = await worker.kill('SIGTERM');
  expect(exit.code).toBe(0);
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(worker.lines.map((l) => l.msg)).toContain('Worker stopped');
});

test('SIGTERM while busy: exits 0 within 10 s and what it processed is acknowledged', async () => {
  await publishAll(ctx.redis, ctx.keys.stream, Array.from({ length: 30_000 }, () => gitCommitEvent(null)));
  const worker = start(['--batch-size', '20']);
  await waitFor(async () => (await countEvents(ctx.db.sql)) >= 200, 20_000, { description: 'processing under way' });
  const t0 = Date.now();
  const exit = await worker.kill('SIGTERM');
  expect(exit.code).toBe(0);
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(await groupPending(ctx.redis, ctx.keys)).toBe(0);
});

test('kill -9 in the middle of a 10k backlog: another consumer finishes it, every event exactly once, pending 0', async () => {
  const events = Array.from({ length: 10_000 }, (_, i) =>
    i % 100 === 0 ? sessionStartEvent(`kill-s${i}`) : gitCommitEvent(`kill-s${i - (i % 100)}`),
  );
  await publishAll(ctx.redis, ctx.keys.stream, events);
  const first = start(['--batch-size', '10', '--consumer-name', 'doomed']);
  await waitFor(async () => (await countEvents(ctx.db.sql)) >= 1000, 30_000, { description: '1000 events processed' });
  const killed = await first.kill('SIGKILL');
  expect(killed.signal).toBe('SIGKILL');
  const done = await countEvents(ctx.db.sql);
  expect(done).toBeLessThan(10_000);

  // A new consumer name: the dead one's pending batch must be reclaimed, not just re-read.
  const second = start(['--batch-size', '50', '--consumer-name', 'rescuer', '--claim-idle-ms', '1000']);
  await waitFor(async () => (await countEvents(ctx.db.sql)) === 10_000, 120_000, { description: 'all 10k events' });
  await waitFor(async () => (await groupPending(ctx.redis, ctx.keys)) === 0, 15_000, { description: 'pending 0' });
  // events.id is the primary key, so "exactly once" means: each published id is there.
  const [stored] = await ctx.db.sql`SELECT count(*)::int AS n FROM events WHERE id = ANY(${events.map((e) => e.id)})`;
  expect(stored?.['n']).toBe(10_000);
  const [sessions] = await ctx.db.sql`SELECT count(*)::int AS n FROM sessions WHERE id LIKE 'kill-s%'`;
  expect(sessions?.['n']).toBe(100);
  expect(await ctx.redis.xlen(ctx.keys.deadLetter)).toBe(0);
  await second.kill('SIGTERM');
}, 180_000);
