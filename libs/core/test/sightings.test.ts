import { captureLogs, gitCommitEvent, sessionStartEvent, waitFor } from '@fuel-code/testing';
import { createDefaultRegistry, processBatch, SightingsWriter, TransientError, type FuelEvent } from '@fuel-code/core';
import type { Sql } from 'postgres';
import { sightingsOf } from '../src/store-batch';
import { parsed, useTestDatabase } from './helpers';

/*
 * Devices, workspace links and default branches are written after the batch's transaction,
 * in a short one of their own (docs/adr/006-sightings-apart.md). These tests make that
 * second transaction fail for real, and hold it up while other batches queue behind it.
 */

const ctx = useTestDatabase('sightings');
const logs = captureLogs();

function batchOn(prefix: string): FuelEvent[] {
  const on = { device_id: `${prefix}-dev`, workspace_id: `github.com/${prefix}/app` };
  return [
    sessionStartEvent(`${prefix}-s`, {
      ...on,
      timestamp: '2026-11-27T10:00:00Z',
      data: {
        cc_session_id: `${prefix}-s`, cwd: `/home/${prefix}`, git_branch: 'trunk', git_remote: null, cc_version: '1', model: null,
        source: 'startup', transcript_path: '/t', _device_name: `${prefix} laptop`,
      },
    }),
    gitCommitEvent(null, { ...on, timestamp: '2026-11-27T10:05:00Z' }),
  ].map(parsed);
}

async function sharedRows(prefix: string) {
  const [device] = await ctx.db.sql`SELECT name, first_seen_at, last_seen_at FROM devices WHERE id = ${`${prefix}-dev`}`;
  const [link] = await ctx.db.sql`
    SELECT l.local_path, l.last_active_at, w.default_branch FROM workspace_devices l JOIN workspaces w ON w.id = l.workspace_id
    WHERE l.device_id = ${`${prefix}-dev`}`;
  return { device, link };
}

/** Hold an ACCESS EXCLUSIVE lock on `devices` until the returned function is called. */
async function lockDevices(): Promise<() => Promise<void>> {
  const blocker = await ctx.db.sql.reserve();
  await blocker`BEGIN`;
  await blocker`LOCK TABLE devices IN ACCESS EXCLUSIVE MODE`;
  return async () => {
    await blocker`ROLLBACK`;
    blocker.release();
  };
}

const waitingOnDevices = async () => {
  const rows = await ctx.db.sql<{ pid: number }[]>`
    SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO devices%'`;
  return rows[0]?.pid;
};

test('the batch commits without touching the shared rows, and sightings lost after it are written when it comes again', async () => {
  const events = batchOn('lost');
  const release = await lockDevices();
  const first = processBatch(ctx.db.sql, events, createDefaultRegistry(), logs.logger);
  // The batch's own transaction needs no device row: it commits while devices is locked.
  await waitFor(async () => (await ctx.db.sql`SELECT count(*)::int AS n FROM events WHERE id = ANY(${events.map((e) => e.id)})`)[0]?.['n'] === 2, 10_000, {
    description: 'the batch to commit',
  });
  const pid = await waitFor(waitingOnDevices, 10_000, { description: 'the sightings to wait on the lock' });
  await ctx.db.sql`SELECT pg_cancel_backend(${pid})`;
  await expect(first).rejects.toBeInstanceOf(TransientError);
  await release();
  expect(await sharedRows('lost')).toEqual({ device: undefined, link: undefined });

  // Delivered again: every event is a duplicate, and the sightings come from them all the same.
  const again = await processBatch(ctx.db.sql, events, createDefaultRegistry(), logs.logger);
  expect(again.map((r) => r.status)).toEqual(['duplicate', 'duplicate']);
  expect(await sharedRows('lost')).toEqual({
    device: { name: 'lost laptop', first_seen_at: new Date('2026-11-27T10:00:00Z'), last_seen_at: new Date('2026-11-27T10:05:00Z') },
    link: { local_path: '/home/lost', last_active_at: new Date('2026-11-27T10:05:00Z'), default_branch: 'trunk' },
  });
});

test('sightings submitted while a write runs go out together in the next one, and each submit waits for its own', async () => {
  // Each write is one statement (its own transaction) starting `WITH d AS`: count those.
  let transactions = 0;
  const counting = new Proxy(ctx.db.sql, {
    apply: (target, thisArg, args: unknown[]) => {
      const strings = args[0] as readonly string[];
      if (strings[0]?.trim().startsWith('WITH d AS')) transactions++;
      return Reflect.apply(target, thisArg, args) as unknown;
    },
  }) as Sql;
  const writer = new SightingsWriter();
  const items = (prefix: string) => batchOn(prefix).map((event) => ({ event, workspaceId: `ws-${prefix}` }));
  await ctx.db.sql`INSERT INTO workspaces (id, canonical_id, display_name) VALUES ('ws-c1', 'c1', 'c1'), ('ws-c2', 'c2', 'c2'), ('ws-c3', 'c3', 'c3')`;

  const release = await lockDevices();
  const first = writer.submit(counting, sightingsOf(items('c1')));
  await waitFor(waitingOnDevices, 10_000, { description: 'the first write to wait on the lock' });
  const second = writer.submit(counting, sightingsOf(items('c2')));
  const third = writer.submit(counting, sightingsOf(items('c3')));
  let settled = false;
  void second.then(() => (settled = true));
  await release();
  await first;
  await Promise.all([second, third]);
  expect(settled).toBe(true);
  expect(transactions).toBe(2);
  const names = await ctx.db.sql`SELECT id, name FROM devices WHERE id IN ('c1-dev', 'c2-dev', 'c3-dev') ORDER BY id`;
  expect(names.map((r) => r['name'])).toEqual(['c1 laptop', 'c2 laptop', 'c3 laptop']);
});

test('a failed write rejects every batch it held, and the next write runs', async () => {
  const writer = new SightingsWriter();
  const release = await lockDevices();
  const held = writer.submit(ctx.db.sql, sightingsOf(batchOn('f1').map((event) => ({ event, workspaceId: 'no-such-workspace' }))));
  // Each expectation is taken at once: a rejection that came before it would count as unhandled.
  const heldFails = expect(held).rejects.toThrow(/cancel/);
  const pid = await waitFor(waitingOnDevices, 10_000, { description: 'the write to wait on the lock' });
  const queued = writer.submit(ctx.db.sql, sightingsOf(batchOn('f2').map((event) => ({ event, workspaceId: 'no-such-workspace' }))));
  const queuedFails = expect(queued).rejects.toThrow(/foreign key/);
  await ctx.db.sql`SELECT pg_cancel_backend(${pid})`;
  await heldFails;
  await release();
  // The queued one went out in a write of its own, and failed on its own: no such workspace.
  await queuedFails;
  await ctx.db.sql`INSERT INTO workspaces (id, canonical_id, display_name) VALUES ('ws-f3', 'f3', 'f3')`;
  await writer.submit(ctx.db.sql, sightingsOf(batchOn('f3').map((event) => ({ event, workspaceId: 'ws-f3' }))));
  expect((await ctx.db.sql`SELECT count(*)::int AS n FROM workspace_devices WHERE workspace_id = 'ws-f3'`)[0]?.['n']).toBe(1);
});
