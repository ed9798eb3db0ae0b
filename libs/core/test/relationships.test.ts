import {
  captureLogs,
  sessionStartEvent,
  skillInvokeEvent,
  subagentStartEvent,
  subagentStopEvent,
  teamCreateEvent,
  teamMessageEvent,
  worktreeCreateEvent,
  worktreeRemoveEvent,
} from '@fuel-code/testing';
import { createDefaultRegistry, processBatch } from '@fuel-code/core';
import { parsed, useTestDatabase } from './helpers';
import { relationshipTables, tablesInEveryArrangement } from './relationship-helpers';

const useDb = useTestDatabase('relationships');
const logs = captureLogs();
const at = (iso: string) => new Date(iso);

describe('subagents', () => {
  test('a start and its stop give one row, in either order, in one batch or two', async () => {
    const start = parsed(subagentStartEvent('s1', 'a1', {
      timestamp: '2026-11-29T10:00:00Z',
      dataOverrides: { agent_type: 'Explore', agent_name: 'scout', model: 'haiku', team_name: 'red', isolation: 'worktree', run_in_background: true },
    }));
    const stop = parsed(subagentStopEvent('s1', 'a1', { timestamp: '2026-11-29T10:05:00Z', dataOverrides: { agent_type: 'other' } }));
    const tables = await tablesInEveryArrangement([start, stop], logs.logger);
    expect(tables.subagents).toEqual([
      expect.objectContaining({
        session_id: 's1', agent_id: 'a1', agent_type: 'Explore', agent_name: 'scout', model: 'haiku', team_name: 'red',
        isolation: 'worktree', run_in_background: true, status: 'completed',
        started_at: at('2026-11-29T10:00:00Z'), start_event_id: start.id,
        ended_at: at('2026-11-29T10:05:00Z'), stop_event_id: stop.id,
        transcript_path: '/home/dev/.claude/projects/app/s1/subagents/agent-a1.jsonl',
      }),
    ]);
  });

  test('a stop alone is a completed row with the stop’s type; its start, arriving later, fills the start fields', async () => {
    const db = useDb.db;
    const registry = createDefaultRegistry();
    const stop = parsed(subagentStopEvent('s-late', 'a1', { timestamp: '2026-11-29T10:05:00Z', dataOverrides: { agent_type: 'from-stop' } }));
    await processBatch(db.sql, [stop], registry, logs.logger);
    const [alone] = (await relationshipTables(db.sql)).subagents.filter((r) => r['session_id'] === 's-late');
    expect(alone).toMatchObject({ agent_type: 'from-stop', status: 'completed', started_at: null, start_event_id: null, ended_at: at('2026-11-29T10:05:00Z') });

    const start = parsed(subagentStartEvent('s-late', 'a1', { timestamp: '2026-11-29T10:00:00Z', dataOverrides: { agent_type: 'from-start' } }));
    await processBatch(db.sql, [start], registry, logs.logger);
    const [paired] = (await relationshipTables(db.sql)).subagents.filter((r) => r['session_id'] === 's-late');
    expect(paired).toMatchObject({ agent_type: 'from-start', status: 'completed', started_at: at('2026-11-29T10:00:00Z'), start_event_id: start.id, stop_event_id: stop.id });
  });

  test('a start alone is running; the earliest start and the earliest stop win, ties by event id, to the microsecond', async () => {
    const events = [
      subagentStartEvent('s2', 'a1', { timestamp: '2026-11-29T10:00:00.000002Z', dataOverrides: { agent_name: 'second' } }),
      subagentStartEvent('s2', 'a1', { timestamp: '2026-11-29T10:00:00.000001Z', dataOverrides: { agent_name: 'first' } }),
      subagentStartEvent('s2', 'a1', { timestamp: '2026-11-29T10:00:00.000001Z', dataOverrides: { agent_name: 'tie, later id' } }),
      subagentStopEvent('s2', 'a1', { timestamp: '2026-11-29T11:00:00+01:00', dataOverrides: { agent_transcript_path: 'first-stop' } }),
      subagentStopEvent('s2', 'a1', { timestamp: '2026-11-29T10:30:00Z', dataOverrides: { agent_transcript_path: 'later-stop' } }),
      subagentStartEvent('s2', 'a2', { timestamp: '2026-11-29T10:00:00Z' }),
    ].map(parsed);
    const tables = await tablesInEveryArrangement(events, logs.logger);
    expect(tables.subagents).toEqual([
      expect.objectContaining({ agent_id: 'a1', agent_name: 'first', start_event_id: events[1]?.id, status: 'completed', transcript_path: 'first-stop', ended_at: at('2026-11-29T10:00:00Z') }),
      expect.objectContaining({ agent_id: 'a2', status: 'running', run_in_background: false, ended_at: null, stop_event_id: null, transcript_path: null }),
    ]);
  });
});

describe('teams', () => {
  test('messages before their create still count, and the create fills in its fields, in any order and split', async () => {
    const events = [
      teamMessageEvent('s3', 'red', { timestamp: '2026-11-29T09:59:00Z' }),
      teamCreateEvent('s3', 'red', { timestamp: '2026-11-29T10:00:00Z', dataOverrides: { description: 'the red team' } }),
      teamMessageEvent('s3', 'red', { timestamp: '2026-11-29T10:01:00Z' }),
      teamMessageEvent('s3', 'red', { timestamp: '2026-11-29T10:01:00Z' }),
      teamCreateEvent('s3', 'red', { timestamp: '2026-11-29T10:02:00Z', dataOverrides: { description: 'a later create' } }),
      teamMessageEvent('s3', 'blue', { timestamp: '2026-11-29T10:03:00Z' }),
      teamCreateEvent('s4', 'red', { timestamp: '2026-11-29T10:00:00Z' }),
    ].map(parsed);
    const tables = await tablesInEveryArrangement(events, logs.logger);
    expect(tables.teams).toEqual([
      expect.objectContaining({ session_id: 's3', team_name: 'blue', message_count: 1, description: null, created_at: null, create_event_id: null }),
      expect.objectContaining({ session_id: 's3', team_name: 'red', message_count: 3, description: 'the red team', created_at: at('2026-11-29T10:00:00Z'), create_event_id: events[1]?.id }),
      expect.objectContaining({ session_id: 's4', team_name: 'red', message_count: 0, description: '' }),
    ]);
  });

  test('a redelivered message is not counted again, in a later batch or within one', async () => {
    const db = useDb.db;
    const registry = createDefaultRegistry();
    const messages = [1, 2, 3].map(() => parsed(teamMessageEvent('s-dup', 'red')));
    await processBatch(db.sql, messages, registry, logs.logger);
    const again = await processBatch(db.sql, [...messages, ...messages], registry, logs.logger);
    expect(again.map((r) => r.status)).toEqual(Array(6).fill('duplicate'));
    const fresh = parsed(teamMessageEvent('s-dup', 'red'));
    const mixed = await processBatch(db.sql, [fresh, messages[0]!, fresh], registry, logs.logger);
    expect(mixed.map((r) => r.status)).toEqual(['processed', 'duplicate', 'duplicate']);
    const [row] = await db.sql`SELECT message_count FROM teams WHERE session_id = 's-dup' AND team_name = 'red'`;
    expect(row).toEqual({ message_count: 4 });
  });
});

describe('session_skills', () => {
  test('one row per invocation, keyed by event id; a redelivery adds none', async () => {
    const events = [
      skillInvokeEvent('s5', 'commit', { timestamp: '2026-11-29T10:00:00Z' }),
      skillInvokeEvent('s5', 'commit', { timestamp: '2026-11-29T10:00:00Z', dataOverrides: { args: '-m wip', invoked_by: 'agent-7' } }),
      skillInvokeEvent('s6', 'review-pr', { timestamp: '2026-11-29T11:00:00Z', dataOverrides: { args: undefined } }),
    ].map(parsed);
    const tables = await tablesInEveryArrangement([...events, events[0]!], logs.logger);
    expect(tables.skills).toEqual([
      { id: events[0]?.id, session_id: 's5', skill_name: 'commit', invoked_at: at('2026-11-29T10:00:00Z'), invoked_by: null, args: '' },
      { id: events[1]?.id, session_id: 's5', skill_name: 'commit', invoked_at: at('2026-11-29T10:00:00Z'), invoked_by: 'agent-7', args: '-m wip' },
      { id: events[2]?.id, session_id: 's6', skill_name: 'review-pr', invoked_at: at('2026-11-29T11:00:00Z'), invoked_by: null, args: null },
    ]);
  });
});

describe('session_worktrees', () => {
  test('a create and its remove pair up by name, in either order; the earliest of each wins', async () => {
    const events = [
      worktreeRemoveEvent('s7', 'wt-a', { timestamp: '2026-11-29T11:00:00Z', dataOverrides: { had_changes: true } }),
      worktreeCreateEvent('s7', 'wt-a', { timestamp: '2026-11-29T10:00:00Z', dataOverrides: { branch: 'feat/a' } }),
      worktreeCreateEvent('s7', 'wt-a', { timestamp: '2026-11-29T10:00:01Z', dataOverrides: { branch: 'again' } }),
      worktreeRemoveEvent('s7', 'wt-a', { timestamp: '2026-11-29T12:00:00Z', dataOverrides: { had_changes: false } }),
      worktreeCreateEvent('s7', 'wt-b', { timestamp: '2026-11-29T10:00:00Z' }),
      worktreeRemoveEvent('s8', 'wt-a', { timestamp: '2026-11-29T10:00:00Z' }),
    ].map(parsed);
    const tables = await tablesInEveryArrangement(events, logs.logger);
    expect(tables.worktrees).toEqual([
      expect.objectContaining({ session_id: 's7', worktree_name: 'wt-a', branch: 'feat/a', created_at: at('2026-11-29T10:00:00Z'), create_event_id: events[1]?.id,
        removed_at: at('2026-11-29T11:00:00Z'), remove_event_id: events[0]?.id, had_changes: true }),
      expect.objectContaining({ session_id: 's7', worktree_name: 'wt-b', branch: null, removed_at: null, had_changes: null }),
      expect.objectContaining({ session_id: 's8', worktree_name: 'wt-a', created_at: null, create_event_id: null, removed_at: at('2026-11-29T10:00:00Z'), had_changes: null }),
    ]);
  });

  test('without a name (absent or ""), a create and a remove pair up as one unnamed worktree per session', async () => {
    const events = [
      worktreeCreateEvent('s9', '', { timestamp: '2026-11-29T10:00:00Z', dataOverrides: { branch: 'tmp' } }),
      worktreeRemoveEvent('s9', '', { timestamp: '2026-11-29T10:30:00Z', dataOverrides: { worktree_name: undefined, had_changes: false } }),
      worktreeCreateEvent('s9', 'named', { timestamp: '2026-11-29T10:10:00Z' }),
      worktreeRemoveEvent('s10', '', { timestamp: '2026-11-29T10:30:00Z' }),
    ].map(parsed);
    const tables = await tablesInEveryArrangement(events, logs.logger);
    expect(tables.worktrees).toEqual([
      expect.objectContaining({ session_id: 's10', worktree_name: null, created_at: null, removed_at: at('2026-11-29T10:30:00Z') }),
      expect.objectContaining({ session_id: 's9', worktree_name: null, branch: 'tmp', created_at: at('2026-11-29T10:00:00Z'), removed_at: at('2026-11-29T10:30:00Z'), had_changes: false }),
      expect.objectContaining({ session_id: 's9', worktree_name: 'named', removed_at: null }),
    ]);
    const ids = new Set(tables.worktrees.map((r) => r['id']));
    expect(ids.size).toBe(3);
  });
});

test('relationship events before their session.start are stored under their session, with no session row needed', async () => {
  const db = useDb.db;
  const registry = createDefaultRegistry();
  const early = [
    subagentStartEvent('s-early', 'a1'), teamCreateEvent('s-early', 'red'), teamMessageEvent('s-early', 'red'),
    skillInvokeEvent('s-early', 'commit'), worktreeCreateEvent('s-early', 'w'), worktreeRemoveEvent('s-early', 'w'), subagentStopEvent('s-early', 'a1'),
  ].map(parsed);
  const results = await processBatch(db.sql, early, registry, logs.logger);
  expect(results.map((r) => [r.status, r.handlerResults.map((h) => h.status)])).toEqual(early.map(() => ['processed', ['ok']]));
  const stored = await db.sql`SELECT count(*)::int AS n FROM events WHERE session_id = 's-early'`;
  expect(stored).toEqual([{ n: 7 }]);
  const counts = await db.sql`
    SELECT (SELECT count(*)::int FROM sessions WHERE id = 's-early') AS sessions,
           (SELECT count(*)::int FROM subagents WHERE session_id = 's-early') AS subagents,
           (SELECT count(*)::int FROM teams WHERE session_id = 's-early') AS teams,
           (SELECT count(*)::int FROM session_skills WHERE session_id = 's-early') AS skills,
           (SELECT count(*)::int FROM session_worktrees WHERE session_id = 's-early') AS worktrees`;
  expect(counts).toEqual([{ sessions: 0, subagents: 1, teams: 1, skills: 1, worktrees: 1 }]);

  await processBatch(db.sql, [parsed(sessionStartEvent('s-early'))], registry, logs.logger);
  const after = await db.sql`SELECT count(*)::int AS n FROM subagents WHERE session_id = 's-early' AND status = 'completed'`;
  expect(after).toEqual([{ n: 1 }]);
});

test('every column of the fuel-code schema’s four tables (its migrations 005 and 006) is here, so its queries run', async () => {
  const fuelCodeColumns: Record<string, string[]> = {
    subagents: ['id', 'session_id', 'agent_id', 'agent_type', 'agent_name', 'model', 'spawning_tool_use_id', 'isolation', 'run_in_background',
      'status', 'started_at', 'ended_at', 'transcript_s3_key', 'metadata', 'created_at', 'is_inferred', 'teammate_id'],
    teams: ['id', 'session_id', 'team_name', 'description', 'created_at', 'metadata'],
    session_skills: ['id', 'session_id', 'skill_name', 'invoked_at', 'invoked_by', 'args', 'metadata'],
    session_worktrees: ['id', 'session_id', 'worktree_name', 'branch', 'created_at', 'removed_at', 'had_changes', 'metadata'],
  };
  const rows = await useDb.db.sql<{ table_name: string; column_name: string }[]>`
    SELECT table_name, column_name FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name IN ('subagents', 'teams', 'session_skills', 'session_worktrees')`;
  for (const [table, columns] of Object.entries(fuelCodeColumns)) {
    const have = new Set(rows.filter((r) => r.table_name === table).map((r) => r.column_name));
    expect(columns.filter((c) => !have.has(c))).toEqual([]);
  }
});

test('when one event’s row is refused, the rest of its batch still counts exactly once and the failure is recorded', async () => {
  const db = useDb.db;
  // This test's own database refuses one team name, so that event's handler fails for real.
  await db.sql`ALTER TABLE teams ADD CONSTRAINT test_refuses_team CHECK (team_name <> 'refused')`;
  try {
    const registry = createDefaultRegistry();
    const events = [
      teamMessageEvent('s-iso', 'red'), teamCreateEvent('s-iso', 'red'), teamMessageEvent('s-iso', 'refused'),
      teamMessageEvent('s-iso', 'red'), skillInvokeEvent('s-iso', 'commit'),
    ].map(parsed);
    const results = await processBatch(db.sql, events, registry, logs.logger);
    expect(results.map((r) => r.handlerResults.map((h) => h.status))).toEqual([['ok'], ['ok'], ['failed'], ['ok'], ['ok']]);
    const teams = await db.sql`SELECT team_name, message_count, description FROM teams WHERE session_id = 's-iso'`;
    expect(teams.map((r) => ({ ...r }))).toEqual([{ team_name: 'red', message_count: 2, description: '' }]);
    const failures = await db.sql`SELECT event_id, event_type FROM event_handler_failures WHERE event_id = ANY(${events.map((e) => e.id)})`;
    expect(failures.map((r) => ({ ...r }))).toEqual([{ event_id: events[2]?.id, event_type: 'team.message' }]);
    expect((await db.sql`SELECT count(*)::int AS n FROM session_skills WHERE session_id = 's-iso'`)[0]).toEqual({ n: 1 });
  } finally {
    await db.sql`ALTER TABLE teams DROP CONSTRAINT test_refuses_team`;
  }
});
