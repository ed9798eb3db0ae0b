import { captureLogs, makeEvent, type EnvelopeInput } from '@fuel-code/testing';
import { createHandlerRegistry, processBatch } from '@fuel-code/core';
import { handleGitEvents } from '../src/handlers';
import { gitCommit } from './arrangements';
import { parsed, useTestDatabase } from './helpers';

/*
 * The git rows' typed columns and `data`, per type, as the fuel-code server maps them: the
 * rows are cut from the events rows in SQL (sql/git-columns.ts), so every branch of the
 * mapping is pinned here, on the fast path and on the isolated one.
 */

const ctx = useTestDatabase('git_columns');

const at = '2026-11-28T10:00:00.000Z';
const git = (type: string, data: Record<string, unknown>): EnvelopeInput => makeEvent(type, { timestamp: at, device_id: 'gc-dev', data });

function fixtures(): Record<string, EnvelopeInput> {
  return {
    commit: gitCommit({ timestamp: at, device_id: 'gc-dev', dataOverrides: { message: 'fix: ünïcode "quoted"\n', is_worktree: true, worktree_name: 'wt-1' } }),
    commitBare: gitCommit({ timestamp: at, device_id: 'gc-dev', dataOverrides: { author_email: undefined, file_list: undefined, worktree_name: '' } }),
    push: git('git.push', { branch: 'main', remote: 'origin', commit_count: 2, commits: ['a', 'b'], is_worktree: 'yes', worktree_name: 7 }),
    pushBare: git('git.push', { branch: 'dev', remote: 'up', commit_count: 0 }),
    checkout: git('git.checkout', { from_ref: 'r1', to_ref: 'r2', from_branch: 'main', to_branch: 'feat', extra: 1 }),
    detached: git('git.checkout', { from_ref: 'r2', to_ref: 'abc123', from_branch: 'feat', to_branch: null }),
    merge: git('git.merge', { merge_commit: 'm1', message: 'Merge feat', merged_branch: 'feat', into_branch: 'main', files_changed: 4, had_conflicts: true }),
  };
}

const expected = {
  commit: { type: 'commit', branch: 'main', commit_sha: 'a1b2c3d4e5f6', message: 'fix: ünïcode "quoted"\n', files_changed: 3, insertions: 10, deletions: 2,
    data: { author_name: 'Dev', author_email: 'dev@example.com', file_list: [{ path: 'a.ts', status: 'M' }] }, worktree_name: 'wt-1', is_worktree: true },
  commitBare: { type: 'commit', branch: 'main', commit_sha: 'a1b2c3d4e5f6', message: 'fix: a thing', files_changed: 3, insertions: 10, deletions: 2,
    data: { author_name: 'Dev', author_email: null, file_list: null }, worktree_name: null, is_worktree: false },
  push: { type: 'push', branch: 'main', commit_sha: null, message: null, files_changed: null, insertions: null, deletions: null,
    data: { remote: 'origin', commit_count: 2, commits: ['a', 'b'] }, worktree_name: null, is_worktree: false },
  pushBare: { type: 'push', branch: 'dev', commit_sha: null, message: null, files_changed: null, insertions: null, deletions: null,
    data: { remote: 'up', commit_count: 0, commits: null }, worktree_name: null, is_worktree: false },
  checkout: { type: 'checkout', branch: 'feat', commit_sha: null, message: null, files_changed: null, insertions: null, deletions: null,
    data: { from_ref: 'r1', to_ref: 'r2', from_branch: 'main', to_branch: 'feat' }, worktree_name: null, is_worktree: false },
  detached: { type: 'checkout', branch: 'abc123', commit_sha: null, message: null, files_changed: null, insertions: null, deletions: null,
    data: { from_ref: 'r2', to_ref: 'abc123', from_branch: 'feat', to_branch: null }, worktree_name: null, is_worktree: false },
  merge: { type: 'merge', branch: 'main', commit_sha: 'm1', message: 'Merge feat', files_changed: 4, insertions: null, deletions: null,
    data: { merged_branch: 'feat', had_conflicts: true }, worktree_name: null, is_worktree: false },
};

async function rowsOf(ids: Record<string, string>): Promise<Record<string, unknown>> {
  const rows = await ctx.db.sql<{ id: string; timestamp: Date }[]>`
    SELECT id, type, branch, commit_sha, message, files_changed, insertions, deletions, data, worktree_name, is_worktree, "timestamp", workspace_id, device_id
    FROM git_activity WHERE id = ANY(${Object.values(ids)})`;
  const byId = new Map(rows.map((r) => [r.id, r]));
  return Object.fromEntries(Object.entries(ids).map(([name, id]) => {
    const row = byId.get(id);
    if (!row) return [name, undefined];
    const { id: _id, timestamp, workspace_id: _w, device_id: device, ...columns } = row as typeof row & Record<string, unknown>;
    expect([timestamp.toISOString(), device]).toEqual([at, 'gc-dev']);
    return [name, columns];
  }));
}

const gitTypes = { 'git.commit': handleGitEvents, 'git.push': handleGitEvents, 'git.checkout': handleGitEvents, 'git.merge': handleGitEvents };
/** A heartbeat whose handler throws sends its batch down the isolated path. */
const registry = createHandlerRegistry({ ...gitTypes, 'system.heartbeat': () => Promise.reject(new Error('heartbeat handler exploded')) });
const heartbeat = () => makeEvent('system.heartbeat', { device_id: 'gc-dev', data: {} });

test.each([
  ['in one batch (fast path)', (all: EnvelopeInput[]) => [all]],
  ['in a batch that takes the isolated path', (all: EnvelopeInput[]) => [[...all, heartbeat()]]],
  ['one by one', (all: EnvelopeInput[]) => all.map((e) => [e])],
])('each git type maps to its columns, %s', async (_label, split) => {
  const inputs = fixtures();
  const ids = Object.fromEntries(Object.entries(inputs).map(([name, e]) => [name, e.id]));
  for (const batch of split(Object.values(inputs))) await processBatch(ctx.db.sql, batch.map(parsed), registry, captureLogs().logger);
  expect(await rowsOf(ids)).toEqual(expected);
});
