import { captureLogs, teamCreateEvent, teamMessageEvent, waitFor } from '@fuel-code/testing';
import { createDefaultRegistry, processBatch } from '@fuel-code/core';
import { parsed, useTestDatabase } from './helpers';

const ctx = useTestDatabase('relationship_locks');
const logs = captureLogs();

async function waitingOnLocks(): Promise<number> {
  const [row] = await ctx.db.sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
  return row?.n ?? 0;
}

test('two batches touching the same teams in opposite stream orders do not deadlock: rows are locked in key order', async () => {
  // Teams m < x < y. A third transaction holds m. Batch B (x, m, y) queues for m first, then
  // batch A (y, m, x). Locking in stream order, B would hold x and A hold y while both wait
  // for m; once m is free, B would wait for y and A for m, held by B: a deadlock. In key
  // order, each takes m first and holds nothing while it waits.
  const registry = createDefaultRegistry();
  const session = 'locks-teams';
  await processBatch(ctx.db.sql, ['m', 'x', 'y'].map((team) => parsed(teamCreateEvent(session, team))), registry, logs.logger);
  const messages = (teams: string[]) => teams.map((team) => parsed(teamMessageEvent(session, team)));

  const holder = await ctx.db.sql.reserve();
  try {
    await holder`BEGIN`;
    await holder`SELECT 1 FROM teams WHERE session_id = ${session} AND team_name = 'm' FOR UPDATE`;
    const b = processBatch(ctx.db.sql, messages(['x', 'm', 'y']), registry, logs.logger);
    await waitFor(async () => (await waitingOnLocks()) >= 1, 10_000, { description: 'batch B to wait for m' });
    const a = processBatch(ctx.db.sql, messages(['y', 'm', 'x']), registry, logs.logger);
    await waitFor(async () => (await waitingOnLocks()) >= 2, 10_000, { description: 'batch A to wait too' });
    await holder`COMMIT`;

    const outcomes = await Promise.allSettled([a, b]);
    expect(outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []))).toEqual([]);
  } finally {
    holder.release();
  }
  const rows = await ctx.db.sql`SELECT team_name, message_count FROM teams WHERE session_id = ${session} ORDER BY team_name`;
  expect(rows.map((r) => ({ ...r }))).toEqual([
    { team_name: 'm', message_count: 2 },
    { team_name: 'x', message_count: 2 },
    { team_name: 'y', message_count: 2 },
  ]);
});
