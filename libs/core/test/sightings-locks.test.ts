import { captureLogs, sessionStartEvent } from '@fuel-code/testing';
import { createDefaultRegistry, processBatch } from '@fuel-code/core';
import { writeSightings, type Sightings } from '../src/store-batch';
import { parsed, useTestDatabase } from './helpers';

/*
 * Two sightings statements in flight at once, one moving a workspace's default branch and the
 * other linking a device to that workspace, once deadlocked under four capped workers: the
 * branch update locked the row FOR UPDATE, which blocks the FOR KEY SHARE the link's foreign-key
 * check takes at the end of its statement, and two writers doing both in crossed order waited
 * on each other. Here the branch update is held open in a transaction while the link is written
 * from another connection: the link must not wait for it.
 */

const ctx = useTestDatabase('sightings_locks');
const logs = captureLogs();
const canonical = 'github.com/locks/app';
/** The workspace row's id (workspaces are keyed apart from their canonical name). */
let workspace = '';

beforeAll(async () => {
  const start = sessionStartEvent('locks-s', {
    device_id: 'locks-dev-1',
    workspace_id: canonical,
    timestamp: '2026-11-27T10:00:00Z',
    data: {
      cc_session_id: 'locks-s', cwd: '/home/locks', git_branch: 'trunk', git_remote: null, cc_version: '1', model: null,
      source: 'startup', transcript_path: '/t',
    },
  });
  await processBatch(ctx.db.sql, [parsed(start)], createDefaultRegistry(), logs.logger);
  const [row] = await ctx.db.sql<{ id: string }[]>`SELECT id FROM workspaces`;
  workspace = row?.id ?? '';
});

const at = '2026-11-27T11:00:00.000Z';
const ms = Date.parse(at);
const newerBranch = (): Sightings => ({
  devices: [],
  links: [],
  branches: [{ workspaceId: workspace, branch: 'release', at, eventId: '01KZZZZZZZZZZZZZZZZZZZZZZZ', ms }],
});
const newLink = (): Sightings => ({
  devices: [{ deviceId: 'locks-dev-2', eventId: '01KZZZZZZZZZZZZZZZZZZZZZZY', seenAt: at, name: null, type: null, ms }],
  links: [{ workspaceId: workspace, deviceId: 'locks-dev-2', localPath: '/home/other', activeAt: at, ms }],
  branches: [],
});

test('a default-branch update in flight does not block another writer linking a device to the same workspace', async () => {
  const holder = await ctx.db.sql.reserve();
  try {
    await holder`BEGIN`;
    await writeSightings(holder, newerBranch());
    // Without the fix this waits for the holder's commit: the lock timeout turns the wait into a failure.
    await ctx.db.sql.begin(async (tx) => {
      await tx`SET LOCAL lock_timeout = '3s'`;
      await writeSightings(tx, newLink());
    });
    await holder`COMMIT`;
  } finally {
    holder.release();
  }
  const [row] = await ctx.db.sql<{ default_branch: string }[]>`SELECT default_branch FROM workspaces WHERE id = ${workspace}`;
  const links = await ctx.db.sql<{ device_id: string }[]>`
    SELECT device_id FROM workspace_devices WHERE workspace_id = ${workspace} ORDER BY device_id`;
  expect(row?.default_branch).toBe('release');
  expect(links.map((l) => l.device_id)).toEqual(['locks-dev-1', 'locks-dev-2']);
});
