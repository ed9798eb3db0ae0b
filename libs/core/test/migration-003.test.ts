import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { DEFAULT_MIGRATIONS_DIR, migrate } from '@fuel-code/db';
import { createEmptyDatabase, type TestDatabase } from '@fuel-code/testing';

/*
 * Migration 003 keeps what a database of 001-002 holds and backfills the new columns from
 * the stored events: the earliest start/end, duration 0 fixed, device names from the hints
 * still in old data, default_branch, display_name, git_activity rows and their links.
 */

let db: TestDatabase;
let oldDir: string;
const silent = pino({ level: 'silent' });

beforeAll(async () => {
  db = await createEmptyDatabase('mig003');
  oldDir = await mkdtemp(path.join(tmpdir(), 'fc-mig-'));
  for (const file of ['001_initial_schema.sql', '002_workspace_device_path_time.sql']) {
    await cp(path.join(DEFAULT_MIGRATIONS_DIR, file), path.join(oldDir, file));
  }
  await migrate({ sql: db.sql, logger: silent, migrationsDir: oldDir });
});

afterAll(async () => {
  await db.drop();
  await rm(oldDir, { recursive: true, force: true });
});

test('rows of the old schema are kept and backfilled by the new rules', async () => {
  const sql = db.sql;
  const ev = (id: string, type: string, ts: string, session: string | null, data: object, device = 'dev-1') =>
    sql`INSERT INTO events (id, type, "timestamp", device_id, workspace_id, session_id, data)
        VALUES (${id}, ${type}, ${ts}, ${device}, 'W1', ${session}, ${sql.json(data as never)})`;
  await sql`INSERT INTO workspaces (id, canonical_id, display_name) VALUES ('W1', 'local:abcdef0123456789', 'abcdef0123456789')`;
  await sql`INSERT INTO devices (id, name, first_seen_at, last_seen_at) VALUES ('dev-1', 'dev-1', '2026-11-27T09:00Z', '2026-11-27T12:00Z')`;
  // The old rule kept the last start: model 'late', started 10:05.
  await sql`INSERT INTO sessions (id, workspace_id, device_id, lifecycle, started_at, ended_at, end_reason, duration_ms, git_branch, model, source)
            VALUES ('S1', 'W1', 'dev-1', 'ended', '2026-11-27T10:05Z', '2026-11-27T10:30Z', 'exit', 0, 'late-branch', 'late', 'resume')`;
  await ev('01A', 'session.start', '2026-11-27T10:00Z', 'S1', { cc_session_id: 'S1', git_branch: 'early-branch', model: 'early', source: 'startup', _device_name: 'old-laptop' });
  await ev('01B', 'session.start', '2026-11-27T10:05Z', 'S1', { cc_session_id: 'S1', git_branch: 'late-branch', model: 'late', source: 'resume', _device_name: 'new-laptop', _device_type: 'remote' });
  await ev('01C', 'session.end', '2026-11-27T10:30Z', 'S1', { cc_session_id: 'S1', duration_ms: 0, end_reason: 'exit' });
  await ev('01D', 'git.commit', '2026-11-27T10:10Z', null, { hash: 'abc', message: 'inside', branch: 'main', files_changed: 2, insertions: 'x', deletions: 1, author_name: 'A' });
  await ev('01E', 'git.push', '2026-11-27T11:00Z', 'S1', { branch: 'main', remote: 'origin', commit_count: 1, is_worktree: true, worktree_name: 'wt' });

  await migrate({ sql, logger: silent });

  expect(await sql`SELECT lifecycle, started_at, duration_ms, duration_ms_sent, git_branch, model, source, start_event_id, end_event_id FROM sessions`).toEqual([
    { lifecycle: 'ended', started_at: new Date('2026-11-27T10:00Z'), duration_ms: 1_800_000, duration_ms_sent: 0, git_branch: 'early-branch',
      model: 'early', source: 'startup', start_event_id: '01A', end_event_id: '01C' },
  ]);
  expect(await sql`SELECT name, type FROM devices`).toEqual([{ name: 'new-laptop', type: 'remote' }]);
  expect(await sql`SELECT display_name, default_branch FROM workspaces`).toEqual([{ display_name: 'local-abcdef01', default_branch: 'late-branch' }]);
  expect(await sql`SELECT id, type, session_id, branch, commit_sha, files_changed, insertions, deletions, worktree_name, is_worktree FROM git_activity ORDER BY id`).toEqual([
    { id: '01D', type: 'commit', session_id: 'S1', branch: 'main', commit_sha: 'abc', files_changed: 2, insertions: null, deletions: 1, worktree_name: null, is_worktree: false },
    { id: '01E', type: 'push', session_id: null, branch: 'main', commit_sha: null, files_changed: null, insertions: null, deletions: null, worktree_name: 'wt', is_worktree: true },
  ]);
  expect(await sql`SELECT id, session_id FROM events WHERE type LIKE 'git.%' ORDER BY id`).toEqual([
    { id: '01D', session_id: 'S1' },
    { id: '01E', session_id: null },
  ]);
});
