import { consumerInfos } from '@fuel-code/stream';
import { gitCommitEvent, sessionStartEvent, waitFor, type SpawnedProcess } from '@fuel-code/testing';
import { countEvents, groupPending, publishAll, spawnWorker, useWorkerProcessEnv } from './worker-process';

const ctx = useWorkerProcessEnv('worker_scale_down', 'scale-down');
const TOTAL = 20_000;
// A leftover pending entry would wait this long before anyone reclaimed it: far beyond the
// test's own timeout, so a leftover fails the test instead of slowing it down.
const CLAIM_IDLE_MS = 600_000;

function start(name: string): SpawnedProcess {
  const worker = spawnWorker({
    keys: ctx.keys,
    databaseUrl: ctx.db.url,
    args: ['--consumer-name', name, '--batch-size', '50', '--claim-idle-ms', String(CLAIM_IDLE_MS), '--block-ms', '200', '--consumer-cleanup-idle-ms', '1000'],
  });
  ctx.workers.push(worker);
  return worker;
}

async function pendingOf(name: string): Promise<number> {
  const infos = await consumerInfos(ctx.redis, ctx.keys.stream, ctx.keys.group);
  return infos.find((c) => c.name === name)?.pending ?? 0;
}

test('four workers drain a backlog; two get SIGTERM mid-drain: every entry stored once, nothing left to wait out claim-idle, the stopped ones leave the group', async () => {
  const events = Array.from({ length: TOTAL }, (_, i) => (i % 100 === 0 ? sessionStartEvent(`down-s${i}`) : gitCommitEvent(`down-s${i - (i % 100)}`)));
  await publishAll(ctx.redis, ctx.keys.stream, events);
  const workers = ['w1', 'w2', 'w3', 'w4'].map((name) => ({ name, process: start(name) }));
  await Promise.all(workers.map((w) => w.process.waitForLine('Event consumer started', 30_000)));

  await waitFor(async () => (await countEvents(ctx.db.sql)) >= 2000, 60_000, { description: '2000 events stored' });
  const [w1, w2, w3, w4] = workers as [(typeof workers)[number], (typeof workers)[number], (typeof workers)[number], (typeof workers)[number]];
  const exits = await Promise.all([w1.process.kill('SIGTERM'), w2.process.kill('SIGTERM')]);
  expect(exits.map((e) => e.code)).toEqual([0, 0]);
  expect(await countEvents(ctx.db.sql)).toBeLessThan(TOTAL); // stopped mid-drain
  // They finished what they held (or handed it back); here they finish it.
  expect(await pendingOf('w1')).toBe(0);
  expect(await pendingOf('w2')).toBe(0);
  for (const w of [w1, w2]) expect(w.process.lines.filter((l) => /Handed back/.test(String(l.msg)))).toEqual([]);

  await waitFor(async () => (await countEvents(ctx.db.sql)) === TOTAL, 120_000, { description: `all ${TOTAL} events` });
  await waitFor(async () => (await groupPending(ctx.redis, ctx.keys)) === 0, 15_000, { description: 'pending 0' });
  // events.id is the primary key: every published id there means each once.
  const [stored] = await ctx.db.sql`SELECT count(*)::int AS n FROM events WHERE id = ANY(${events.map((e) => e.id)})`;
  expect(stored?.['n']).toBe(TOTAL);
  const [sessions] = await ctx.db.sql`SELECT count(*)::int AS n FROM sessions WHERE id LIKE 'down-s%'`;
  expect(sessions?.['n']).toBe(TOTAL / 100);
  expect(await ctx.redis.xlen(ctx.keys.deadLetter)).toBe(0);
  // Nothing was reclaimed as idle: a leftover could only have been taken after claim-idle.
  for (const w of [w3, w4]) expect(w.process.lines.filter((l) => /^Reclaimed \d+ idle entries/.test(String(l.msg)))).toEqual([]);

  // The stopped workers' consumers (nothing pending, idle past 1 s) are removed by the others.
  await waitFor(
    async () => (await consumerInfos(ctx.redis, ctx.keys.stream, ctx.keys.group)).map((c) => c.name).sort().join() === 'w3,w4',
    15_000,
    { description: 'only w3 and w4 left in the group' },
  );
  const removals = [...w3.process.lines, ...w4.process.lines].filter((l) => /^Removed consumer/.test(String(l.msg)));
  expect(removals.map((l) => l['removedConsumer']).sort()).toEqual(['w1', 'w2']);
  await Promise.all([w3.process.kill('SIGTERM'), w4.process.kill('SIGTERM')]);
}, 240_000);
