import { captureLogs, sessionEndEvent, sessionStartEvent } from '@fuel-code/testing';
import { everywhere, inEveryArrangement, sessionCompactEvent, type Scenario } from './arrangements';
import { useTestDatabase } from './helpers';

const ctx = useTestDatabase('session_rules');
const logs = captureLogs();

const T = (hhmm: string) => `2026-11-27T${hhmm}:00.000Z`;

async function session(prefix: string) {
  const [row] = await ctx.db.sql`
    SELECT s.lifecycle, s.started_at, s.ended_at, s.end_reason, s.duration_ms, s.duration_ms_sent, s.git_branch, s.model,
           s.source, s.compact_sequence, w.canonical_id AS workspace, s.device_id
    FROM sessions s JOIN workspaces w ON w.id = s.workspace_id WHERE s.id = ${`${prefix}-s`}`;
  if (!row) return undefined;
  // The per-run prefix is not part of what is compared.
  return { ...row, workspace: String(row['workspace']).replace(prefix, 'P'), device_id: String(row['device_id']).replace(prefix, 'P') };
}

const run = (scenario: Scenario) => inEveryArrangement(ctx.db.sql, logs.logger, scenario, session);

const on = (p: string, ws = 'app', dev = 'dev') => ({ workspace_id: `github.com/${p}/${ws}`, device_id: `${p}-${dev}` });

test('the earliest session.start sets the start fields, whatever arrives first', async () => {
  const rows = await run((p) => [
    sessionStartEvent(`${p}-s`, { ...on(p), timestamp: T('10:05'), dataOverrides: { model: 'later', git_branch: 'b-later', source: 'resume' } }),
    sessionStartEvent(`${p}-s`, { ...on(p), timestamp: T('10:00'), dataOverrides: { model: 'earliest', git_branch: 'b-first', source: 'startup' } }),
    sessionStartEvent(`${p}-s`, { ...on(p), timestamp: T('10:10'), dataOverrides: { model: 'latest', git_branch: null, source: 'clear' } }),
  ]);
  expect(rows).toEqual(
    everywhere(expect.objectContaining({ lifecycle: 'detected', started_at: new Date(T('10:00')), model: 'earliest', git_branch: 'b-first', source: 'startup' })),
  );
});

test('two starts at the same instant: the one with the lower event id wins', async () => {
  // Made in this order, so the first has the lower id; the arrangements deliver it last too.
  const rows = await run((p) => [
    sessionStartEvent(`${p}-s`, { ...on(p), timestamp: T('10:00'), dataOverrides: { model: 'lower-id' } }),
    sessionStartEvent(`${p}-s`, { ...on(p), timestamp: T('10:00'), dataOverrides: { model: 'higher-id' } }),
  ]);
  expect(rows).toEqual(everywhere(expect.objectContaining({ model: 'lower-id' })));
});

test('the earliest session.end sets the end fields; later ends are ignored', async () => {
  const rows = await run((p) => [
    sessionStartEvent(`${p}-s`, { ...on(p), timestamp: T('10:00') }),
    sessionEndEvent(`${p}-s`, { ...on(p), timestamp: T('11:30'), dataOverrides: { end_reason: 'crash', duration_ms: 5_400_000 } }),
    sessionEndEvent(`${p}-s`, { ...on(p), timestamp: T('11:00'), dataOverrides: { end_reason: 'exit', duration_ms: 3_600_000 } }),
  ]);
  expect(rows).toEqual(
    everywhere(expect.objectContaining({ lifecycle: 'ended', ended_at: new Date(T('11:00')), end_reason: 'exit', duration_ms: 3_600_000 })),
  );
});

test('an end with duration_ms 0 gets ended_at - started_at, also when the start arrives after it', async () => {
  const rows = await run((p) => [
    sessionEndEvent(`${p}-s`, { ...on(p), timestamp: T('10:30'), dataOverrides: { duration_ms: 0 } }),
    sessionStartEvent(`${p}-s`, { ...on(p), timestamp: T('10:00') }),
  ]);
  expect(rows).toEqual(
    everywhere(expect.objectContaining({ started_at: new Date(T('10:00')), ended_at: new Date(T('10:30')), duration_ms: 1_800_000, duration_ms_sent: 0 })),
  );
});

test('a duration that is not 0 is kept as sent', async () => {
  const rows = await run((p) => [
    sessionEndEvent(`${p}-s`, { ...on(p), timestamp: T('10:30'), dataOverrides: { duration_ms: 1234 } }),
    sessionStartEvent(`${p}-s`, { ...on(p), timestamp: T('10:00') }),
  ]);
  expect(rows).toEqual(everywhere(expect.objectContaining({ started_at: new Date(T('10:00')), duration_ms: 1234 })));
});

test('only an end: started_at = ended_at - duration_ms, and a later start replaces the estimate', async () => {
  const endOnly = await run((p) => [sessionEndEvent(`${p}-s`, { ...on(p), timestamp: T('10:30'), dataOverrides: { duration_ms: 600_000 } })]);
  expect(endOnly).toEqual(
    everywhere(expect.objectContaining({ lifecycle: 'ended', started_at: new Date(T('10:20')), duration_ms: 600_000, source: null })),
  );
  const zero = await run((p) => [sessionEndEvent(`${p}-s`, { ...on(p), timestamp: T('10:30'), dataOverrides: { duration_ms: 0 } })]);
  expect(zero).toEqual(everywhere(expect.objectContaining({ started_at: new Date(T('10:30')), duration_ms: 0 })));
});

test('session.compact records the highest compact_sequence, before or after the start', async () => {
  const rows = await run((p) => [
    sessionCompactEvent(`${p}-s`, 1, { ...on(p), timestamp: T('10:10') }),
    sessionCompactEvent(`${p}-s`, 3, { ...on(p), timestamp: T('10:20') }),
    sessionStartEvent(`${p}-s`, { ...on(p), timestamp: T('10:00') }),
    sessionCompactEvent(`${p}-s`, 2, { ...on(p), timestamp: T('10:30') }),
  ]);
  expect(rows).toEqual(everywhere(expect.objectContaining({ compact_sequence: 3, lifecycle: 'detected', started_at: new Date(T('10:00')) })));
});

test('a compact alone creates the row, with no start time', async () => {
  const rows = await run((p) => [sessionCompactEvent(`${p}-s`, 4, { ...on(p), timestamp: T('10:10') })]);
  expect(rows).toEqual(everywhere(expect.objectContaining({ compact_sequence: 4, lifecycle: 'detected', started_at: null, ended_at: null })));
});

test("workspace and device are the start's, else the earliest event's", async () => {
  const withStart = await run((p) => [
    sessionCompactEvent(`${p}-s`, 1, { ...on(p, 'compact-ws', 'compact-dev'), timestamp: T('09:00') }),
    sessionEndEvent(`${p}-s`, { ...on(p, 'end-ws', 'end-dev'), timestamp: T('11:00') }),
    sessionStartEvent(`${p}-s`, { ...on(p, 'start-ws', 'start-dev'), timestamp: T('10:00') }),
  ]);
  expect(withStart).toEqual(everywhere(expect.objectContaining({ workspace: 'github.com/P/start-ws', device_id: 'P-start-dev' })));
  const withoutStart = await run((p) => [
    sessionEndEvent(`${p}-s`, { ...on(p, 'end-ws', 'end-dev'), timestamp: T('11:00') }),
    sessionCompactEvent(`${p}-s`, 1, { ...on(p, 'compact-ws', 'compact-dev'), timestamp: T('09:00') }),
  ]);
  expect(withoutStart).toEqual(everywhere(expect.objectContaining({ workspace: 'github.com/P/compact-ws', device_id: 'P-compact-dev' })));
});

test('a complete session comes out identical in every arrangement', async () => {
  const rows = await run((p) => [
    sessionStartEvent(`${p}-s`, { ...on(p), timestamp: T('10:00'), dataOverrides: { git_branch: 'feat', model: 'opus', source: 'startup' } }),
    sessionCompactEvent(`${p}-s`, 1, { ...on(p), timestamp: T('10:15') }),
    sessionStartEvent(`${p}-s`, { ...on(p), timestamp: T('10:20'), dataOverrides: { source: 'resume' } }),
    sessionEndEvent(`${p}-s`, { ...on(p), timestamp: T('10:45'), dataOverrides: { duration_ms: 0, end_reason: 'logout' } }),
    sessionEndEvent(`${p}-s`, { ...on(p), timestamp: T('10:50'), dataOverrides: { duration_ms: 0, end_reason: 'exit' } }),
  ]);
  expect(rows).toEqual(
    everywhere({
      lifecycle: 'ended', started_at: new Date(T('10:00')), ended_at: new Date(T('10:45')), end_reason: 'logout',
      duration_ms: 2_700_000, duration_ms_sent: 0, git_branch: 'feat', model: 'opus', source: 'startup', compact_sequence: 1,
      workspace: 'github.com/P/app', device_id: 'P-dev',
    }),
  );
});
