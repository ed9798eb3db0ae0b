import { captureLogs, makeEvent, sessionEndEvent, sessionStartEvent, waitFor, type EnvelopeInput } from '@fuel-code/testing';
import { createDefaultRegistry, createHandlerRegistry, processBatch } from '@fuel-code/core';
import { handleGitEvents, handleSessionEvents } from '../src/handlers';
import { everywhere, gitCommit, inEveryArrangement, type Scenario } from './arrangements';
import { parsed, useTestDatabase } from './helpers';

const ctx = useTestDatabase('git_link');
const logs = captureLogs();

const T = (hhmm: string) => `2026-11-27T${hhmm}:00.000Z`;
const on = (p: string, ws = 'app', dev = 'dev') => ({ workspace_id: `github.com/${p}/${ws}`, device_id: `${p}-${dev}` });
const commit = (p: string, label: string, at: string, where = on(p)) => gitCommit({ ...where, timestamp: T(at), dataOverrides: { message: label } });

/** Each commit's (by message) session, in git_activity and in events; the prefix taken out. */
async function links(prefix: string): Promise<Record<string, { git: string | null; event: string | null }>> {
  const rows = await ctx.db.sql<{ message: string; git: string | null; event: string | null }[]>`
    SELECT g.message, g.session_id AS git, e.session_id AS event
    FROM git_activity g JOIN events e ON e.id = g.id WHERE g.device_id LIKE ${`${prefix}-%`}`;
  const strip = (s: string | null) => (s === null ? null : s.replace(prefix, 'P'));
  return Object.fromEntries(rows.map((r) => [r.message, { git: strip(r.git), event: strip(r.event) }]));
}

const linked = (session: string | null) => ({ git: session, event: session });
const run = (scenario: Scenario) => inEveryArrangement(ctx.db.sql, logs.logger, scenario, links);

test('a commit links to the session whose [start, end] covers it, whether it arrives before the start or the end', async () => {
  const rows = await run((p) => [
    commit(p, 'before-start', '09:59'),
    commit(p, 'at-start', '10:00'),
    commit(p, 'inside', '10:15'),
    sessionStartEvent(`${p}-s`, { ...on(p), timestamp: T('10:00') }),
    commit(p, 'at-end', '10:30'),
    sessionEndEvent(`${p}-s`, { ...on(p), timestamp: T('10:30'), dataOverrides: { duration_ms: 0 } }),
    commit(p, 'after-end', '10:31'),
  ]);
  expect(rows).toEqual(
    everywhere({
      'before-start': linked(null),
      'at-start': linked('P-s'),
      inside: linked('P-s'),
      'at-end': linked('P-s'),
      'after-end': linked(null),
    }),
  );
});

test('an open session covers everything after its start', async () => {
  const rows = await run((p) => [sessionStartEvent(`${p}-s`, { ...on(p), timestamp: T('10:00') }), commit(p, 'much-later', '23:00')]);
  expect(rows).toEqual(everywhere({ 'much-later': linked('P-s') }));
});

test('overlapping sessions: the most recently started one covering the commit wins', async () => {
  const rows = await run((p) => [
    sessionStartEvent(`${p}-s1`, { ...on(p), timestamp: T('10:00') }),
    sessionEndEvent(`${p}-s1`, { ...on(p), timestamp: T('11:00') }),
    sessionStartEvent(`${p}-s2`, { ...on(p), timestamp: T('10:30') }),
    commit(p, 'only-s1', '10:20'),
    commit(p, 'both', '10:40'),
    commit(p, 's2-open', '11:30'),
  ]);
  expect(rows).toEqual(everywhere({ 'only-s1': linked('P-s1'), both: linked('P-s2'), 's2-open': linked('P-s2') }));
});

test('only the same workspace and device: a commit elsewhere is not linked', async () => {
  const rows = await run((p) => [
    sessionStartEvent(`${p}-s`, { ...on(p), timestamp: T('10:00') }),
    commit(p, 'other-device', '10:10', on(p, 'app', 'other')),
    commit(p, 'other-workspace', '10:10', on(p, 'other', 'dev')),
    commit(p, 'same', '10:10'),
  ]);
  expect(rows).toEqual(everywhere({ 'other-device': linked(null), 'other-workspace': linked(null), same: linked('P-s') }));
});

test('a session that moves to its start’s workspace takes its links along, in every order', async () => {
  // The end (on another device) alone places the session there, with started_at estimated
  // from its duration; the start moves it.
  const rows = await run((p) => [
    sessionEndEvent(`${p}-s`, { ...on(p, 'app', 'end-dev'), timestamp: T('11:00'), dataOverrides: { duration_ms: 3_600_000 } }),
    commit(p, 'on-end-device', '10:30', on(p, 'app', 'end-dev')),
    commit(p, 'on-start-device', '10:30', on(p, 'app', 'start-dev')),
    sessionStartEvent(`${p}-s`, { ...on(p, 'app', 'start-dev'), timestamp: T('10:00') }),
  ]);
  expect(rows).toEqual(everywhere({ 'on-end-device': linked(null), 'on-start-device': linked('P-s') }));
});

test('the envelope’s session_id of a git event is replaced by the link, or by null', async () => {
  const rows = await run((p) => [
    sessionStartEvent(`${p}-s`, { ...on(p), timestamp: T('10:00') }),
    { ...commit(p, 'claims-other', '10:10'), session_id: 'someone-else' },
    { ...commit(p, 'claims-outside', '09:00'), session_id: `${p}-s` },
  ]);
  expect(rows).toEqual(everywhere({ 'claims-other': linked('P-s'), 'claims-outside': linked(null) }));
});

test('the isolated path links too', async () => {
  const registry = createHandlerRegistry({
    'session.start': handleSessionEvents,
    'session.end': handleSessionEvents,
    'git.commit': handleGitEvents,
    'system.heartbeat': () => Promise.reject(new Error('heartbeat handler exploded')),
  });
  const p = 'isolated';
  const events = [
    commit(p, 'inside', '10:10'),
    makeEvent('system.heartbeat', { ...on(p), data: {} }),
    sessionStartEvent(`${p}-s`, { ...on(p), timestamp: T('10:00') }),
  ].map(parsed);
  const capture = captureLogs();
  const results = await processBatch(ctx.db.sql, events, registry, capture.logger);
  expect(results.map((r) => r.handlerResults[0]?.status)).toEqual(['ok', 'failed', 'ok']);
  expect(await links(p)).toEqual({ inside: linked('P-s') });
});

/** Backends of this database waiting on a lock right now. */
async function waitingOnLocks(): Promise<number> {
  const [row] = await ctx.db.sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
  return row?.n ?? 0;
}

/**
 * Two batches in flight at once, one with the commit and one with its session: neither sees
 * the other's rows when it writes. A third transaction holds the git-link lock of their key
 * until both have written theirs and wait for it, then lets them go.
 */
async function inFlightTogether(first: EnvelopeInput[], second: EnvelopeInput[], key: { workspace: string; device: string }): Promise<void> {
  const registry = createDefaultRegistry();
  const [ws] = await ctx.db.sql<{ id: string }[]>`SELECT id FROM workspaces WHERE canonical_id = ${key.workspace}`;
  if (!ws) throw new Error('workspace not created');
  const holder = await ctx.db.sql.reserve();
  try {
    await holder`BEGIN`;
    await holder`SELECT pg_advisory_xact_lock(120001, hashtext(${ws.id} || chr(31) || ${key.device}))`;
    const a = processBatch(ctx.db.sql, first.map(parsed), registry, logs.logger);
    await waitFor(async () => (await waitingOnLocks()) >= 1, 10_000, { description: 'the first batch to wait for the key' });
    const b = processBatch(ctx.db.sql, second.map(parsed), registry, logs.logger);
    await waitFor(async () => (await waitingOnLocks()) >= 2, 10_000, { description: 'the second batch to wait too' });
    await holder`COMMIT`;
    const outcomes = await Promise.allSettled([a, b]);
    expect(outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []))).toEqual([]);
  } finally {
    holder.release();
  }
}

describe('two workers at once', () => {
  for (const order of ['commit first', 'session first'] as const) {
    test(`a commit and its session in two transactions in flight together are linked (${order})`, async () => {
      const p = `conc-${order.split(' ')[0]}`;
      const where = on(p);
      // The workspace exists beforehand, so the test can name the lock key.
      await processBatch(ctx.db.sql, [parsed(makeEvent('system.heartbeat', { ...where, data: {} }))], createDefaultRegistry(), logs.logger);
      const commits = [commit(p, 'inside', '10:10')];
      const session = [sessionStartEvent(`${p}-s`, { ...where, timestamp: T('10:00') }), sessionEndEvent(`${p}-s`, { ...where, timestamp: T('10:30') })];
      const key = { workspace: where.workspace_id, device: where.device_id };
      if (order === 'commit first') await inFlightTogether(commits, session, key);
      else await inFlightTogether(session, commits, key);
      expect(await links(p)).toEqual({ inside: linked('P-s') });
    });
  }

  test('a session end that shrinks the range, in flight with a commit it no longer covers', async () => {
    const p = 'conc-shrink';
    const where = on(p);
    await processBatch(ctx.db.sql, [parsed(sessionStartEvent(`${p}-s`, { ...where, timestamp: T('10:00') }))], createDefaultRegistry(), logs.logger);
    const key = { workspace: where.workspace_id, device: where.device_id };
    await inFlightTogether([commit(p, 'after-end', '10:45')], [sessionEndEvent(`${p}-s`, { ...where, timestamp: T('10:30') })], key);
    expect(await links(p)).toEqual({ 'after-end': linked(null) });
  });
});
