import { captureLogs, sessionEndEvent, sessionStartEvent, waitFor } from '@fuel-code/testing';
import { createDefaultRegistry, processBatch } from '@fuel-code/core';
import { parsed, useTestDatabase } from './helpers';

const ctx = useTestDatabase('session_locks');
const logs = captureLogs();

/** Backends of this database waiting on a lock right now. */
async function waitingOnLocks(): Promise<number> {
  const [row] = await ctx.db.sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
  return row?.n ?? 0;
}

test('two batches with one session’s start and another’s end, crossed, do not deadlock', async () => {
  // Batch A ends S2 and starts S1; batch B ends S1 and starts S2. If a batch locked its ends
  // and then its starts (one statement per type), B could hold S1 while waiting for S2 and A
  // hold S2 while waiting for S1. The order is forced: a third transaction holds S1, B queues
  // for it first, then A.
  const registry = createDefaultRegistry();
  const [s1, s2] = ['locks-a', 'locks-b'];
  await processBatch(ctx.db.sql, [parsed(sessionStartEvent(s1)), parsed(sessionStartEvent(s2))], registry, logs.logger);

  const holder = await ctx.db.sql.reserve();
  try {
    await holder`BEGIN`;
    await holder`SELECT 1 FROM sessions WHERE id = ${s1} FOR UPDATE`;
    const b = processBatch(ctx.db.sql, [parsed(sessionEndEvent(s1)), parsed(sessionStartEvent(s2))], registry, logs.logger);
    await waitFor(async () => (await waitingOnLocks()) >= 1, 10_000, { description: 'batch B to wait for S1' });
    const a = processBatch(ctx.db.sql, [parsed(sessionEndEvent(s2)), parsed(sessionStartEvent(s1))], registry, logs.logger);
    await waitFor(async () => (await waitingOnLocks()) >= 2, 10_000, { description: 'batch A to wait too' });
    await holder`COMMIT`;

    const outcomes = await Promise.allSettled([a, b]);
    const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
    expect(failures).toEqual([]);
  } finally {
    holder.release();
  }
  const rows = await ctx.db.sql`SELECT id, lifecycle FROM sessions WHERE id IN (${s1}, ${s2}) ORDER BY id`;
  expect(rows).toEqual([
    { id: s1, lifecycle: 'ended' },
    { id: s2, lifecycle: 'ended' },
  ]);
});
