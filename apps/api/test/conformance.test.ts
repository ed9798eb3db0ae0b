import type Redis from 'ioredis';
import {
  captureLogs,
  clientBackfillSession,
  clientEvent,
  clientSession,
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  testRedisUrl,
  uniqueStreamKeys,
  waitFor,
  type ClientDevice,
  type EnvelopeInput,
  type TestDatabase,
  type TestStreamKeys,
} from '@fuel-code/testing';
import { ingest, startApp, startWorkerProcess, type Child, type TestApp } from './helpers';

/*
 * Conformance with the fuel-code client (docs/contract.md): events in the shapes its hooks
 * send, all 21 types and one it does not know yet, posted to the real API in the client's
 * batches and processed by the real worker process; then every table is checked.
 */


let db: TestDatabase | undefined;
let t: TestApp | undefined;
let worker: Child | undefined;
let reader: Redis | undefined;
let keys: TestStreamKeys;

afterEach(async () => {
  await worker?.stop('SIGKILL');
  await t?.close();
  if (reader) {
    await deleteKeys(reader, keys);
    reader.disconnect();
  }
  await db?.drop();
});

const laptop: ClientDevice = { id: '01JCONFORMANCELAPTOP00000', name: 'Laptop', type: 'local' };
const APP = 'github.com/acme/app';
const t0 = Date.parse('2026-06-01T09:00:00.000Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000);

/** The client drains its queue in batches of at most 100 and deletes what a 202 covers. */
async function postLikeTheClient(url: string, events: readonly EnvelopeInput[]): Promise<void> {
  for (let i = 0; i < events.length; i += 50) {
    const res = await ingest(url, events.slice(i, i + 50));
    expect(res.status).toBe(202);
    expect(res.json()).toMatchObject({ rejected: 0, duplicates: 0, errors: [] });
  }
}

test('what the fuel-code client sends is stored as the fuel-code schema stores it, whatever the arrival order', async () => {
  keys = uniqueStreamKeys('conformance');
  reader = createTestRedis();
  db = await createTestDatabase('api_conformance');
  t = await startApp(testRedisUrl(), captureLogs().logger, { eventsStream: keys.stream });

  // Session A in the order it happened; session B (an hour later, same workspace and device)
  // in reverse, so its end, git events and relationship events arrive before its start.
  const a = clientSession({ sessionId: 'cc-conf-a', workspaceId: APP, device: laptop, startAt: at(0) });
  const b = clientSession({ sessionId: 'cc-conf-b', workspaceId: APP, device: laptop, startAt: at(3600), branch: 'feature' });
  const old = clientBackfillSession({ sessionId: 'cc-conf-old', workspaceId: APP, device: laptop, startAt: at(-86_400), durationMs: 600_000 });
  // A hook whose input was not JSON: the payload is {_raw}, even for a session.start.
  const raw = clientEvent('session.start', { device: laptop, workspaceId: APP, sessionId: 'cc-conf-raw', at: at(7200), data: { _raw: 'not json' } });
  const all = [...a, ...[...b].reverse(), ...old, raw];
  await postLikeTheClient(t.url, all);

  worker = startWorkerProcess(db.url, keys, testRedisUrl());
  const sql = db.sql;
  const w = worker;
  const ids = all.map((e) => e.id);
  await waitFor(async () => {
    if (w.process.exitCode !== null) throw new Error(`worker exited ${w.process.exitCode}: ${w.stderr()}${w.stdout()}`);
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM events WHERE id = ANY(${ids})`;
    return row?.n === ids.length;
  }, 30_000, { description: 'every event stored' });
  expect(await reader.xlen(keys.deadLetter)).toBe(0);

  // events: every one, without the device hints; each carries its session (git events linked).
  const stored = await sql<{ id: string; type: string; session_id: string | null; hints: boolean }[]>`
    SELECT id, type, session_id, (data ? '_device_name' OR data ? '_device_type') AS hints FROM events WHERE id = ANY(${ids})`;
  expect(stored.filter((e) => e.hints)).toEqual([]);
  const sessionOf = new Map(stored.map((e) => [e.id, e.session_id]));
  for (const [session, events] of [['cc-conf-a', a], ['cc-conf-b', b]] as const) {
    for (const e of events) {
      const expected = ['system.', 'remote.'].some((p) => e.type.startsWith(p)) || e.type === 'team.disband' ? null : session;
      expect({ type: e.type, session_id: sessionOf.get(e.id) }).toEqual({ type: e.type, session_id: expected });
    }
  }
  expect(new Set(stored.map((e) => e.type)).size).toBe(22);

  // The {_raw} start is stored and recorded, and made no session.
  const failures = await sql`SELECT event_id, error_code FROM event_handler_failures WHERE event_id = ANY(${ids})`;
  expect(failures).toEqual([{ event_id: raw.id, error_code: 'PAYLOAD_INVALID' }]);
  expect(await sql`SELECT id FROM sessions WHERE id = 'cc-conf-raw'`).toHaveLength(0);

  // devices, workspaces, the link.
  expect(await sql`SELECT name, type FROM devices WHERE id = ${laptop.id}`).toEqual([{ name: 'Laptop', type: 'local' }]);
  const [workspace] = await sql<{ id: string; display_name: string; default_branch: string }[]>`
    SELECT id, display_name, default_branch FROM workspaces WHERE canonical_id = ${APP}`;
  expect(workspace).toMatchObject({ display_name: 'app', default_branch: 'feature' });
  expect(await sql`SELECT local_path FROM workspace_devices WHERE device_id = ${laptop.id}`).toEqual([{ local_path: '/home/dev/app' }]);

  // sessions: hooks send duration 0; the stored duration is ended − started, in both orders.
  const sessions = await sql`
    SELECT id, lifecycle, started_at, ended_at, duration_ms, end_reason, git_branch, model, source, compact_sequence
    FROM sessions WHERE id LIKE 'cc-conf-%' ORDER BY id`;
  expect(sessions).toEqual([
    { id: 'cc-conf-a', lifecycle: 'ended', started_at: at(0), ended_at: at(60), duration_ms: 60_000, end_reason: 'exit', git_branch: 'main', model: 'claude-sonnet', source: 'startup', compact_sequence: 1 },
    { id: 'cc-conf-b', lifecycle: 'ended', started_at: at(3600), ended_at: at(3660), duration_ms: 60_000, end_reason: 'exit', git_branch: 'feature', model: 'claude-sonnet', source: 'startup', compact_sequence: 1 },
    { id: 'cc-conf-old', lifecycle: 'ended', started_at: at(-86_400), ended_at: at(-86_400 + 600), duration_ms: 600_000, end_reason: 'exit', git_branch: null, model: null, source: 'backfill', compact_sequence: null },
  ]);

  // git_activity: one row per git event, linked like events.
  const git = await sql<{ id: string; session_id: string; type: string; commit_sha: string | null; is_worktree: boolean }[]>`
    SELECT id, session_id, type, commit_sha, is_worktree FROM git_activity WHERE workspace_id = ${workspace?.id ?? ''} ORDER BY "timestamp"`;
  expect(git.map((g) => [g.session_id, g.type])).toEqual([
    ['cc-conf-a', 'checkout'], ['cc-conf-a', 'commit'], ['cc-conf-a', 'merge'], ['cc-conf-a', 'push'],
    ['cc-conf-b', 'checkout'], ['cc-conf-b', 'commit'], ['cc-conf-b', 'merge'], ['cc-conf-b', 'push'],
  ]);
  expect(git.find((g) => g.type === 'commit')).toMatchObject({ commit_sha: 'c-cc-conf-a', is_worktree: false });

  // The relationship tables, the same for the session that arrived backwards.
  for (const s of ['cc-conf-a', 'cc-conf-b']) {
    expect(await sql`SELECT agent_type, agent_name, status, started_at IS NOT NULL AS started, ended_at IS NOT NULL AS ended, transcript_path FROM subagents WHERE session_id = ${s}`)
      .toEqual([{ agent_type: 'task', agent_name: 'researcher', status: 'completed', started: true, ended: true, transcript_path: `/home/dev/.claude/a-${s}.jsonl` }]);
    expect(await sql`SELECT team_name, description, message_count FROM teams WHERE session_id = ${s}`)
      .toEqual([{ team_name: `t-${s}`, description: 'a team', message_count: 2 }]);
    expect(await sql`SELECT skill_name, invoked_by, args FROM session_skills WHERE session_id = ${s}`)
      .toEqual([{ skill_name: 'commit', invoked_by: 'user', args: '-m wip' }]);
    expect(await sql`SELECT worktree_name, branch, created_at IS NOT NULL AS created, removed_at IS NOT NULL AS removed, had_changes FROM session_worktrees WHERE session_id = ${s}`)
      .toEqual([{ worktree_name: `w-${s}`, branch: 'feature', created: true, removed: true, had_changes: true }]);
  }

  worker.process.kill('SIGTERM');
  const exit = await Promise.race([worker.exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref())]);
  expect(exit).toEqual({ code: 0, signal: null });
});
