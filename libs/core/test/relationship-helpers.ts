import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import { createDefaultRegistry, processBatch, type FuelEvent, type ProcessResult } from '@fuel-code/core';
import { createTestDatabase } from '@fuel-code/testing';

/** Every column the relationship rules decide (not created_at/updated_at: those are now()). */
export async function relationshipTables(sql: Sql) {
  const plain = (rows: readonly Record<string, unknown>[]) => rows.map((r) => ({ ...r }));
  return {
    subagents: plain(await sql`
      SELECT id, session_id, agent_id, agent_type, agent_name, model, team_name, isolation, run_in_background,
             status, started_at, start_event_id, ended_at, stop_event_id, transcript_path
      FROM subagents ORDER BY session_id, agent_id`),
    teams: plain(await sql`
      SELECT id, session_id, team_name, description, created_at, create_event_id, message_count
      FROM teams ORDER BY session_id, team_name`),
    skills: plain(await sql`
      SELECT id, session_id, skill_name, invoked_at, invoked_by, args FROM session_skills ORDER BY id`),
    worktrees: plain(await sql`
      SELECT id, session_id, worktree_name, branch, created_at, create_event_id, removed_at, remove_event_id, had_changes
      FROM session_worktrees ORDER BY session_id, worktree_name NULLS FIRST`),
  };
}

export type RelationshipTables = Awaited<ReturnType<typeof relationshipTables>>;

/**
 * Process `batches` in a database of their own, one after another, or spread over
 * `workers` loops running at once (batch i goes to loop i mod workers), then `afterwards`
 * once they are all done, and return the relationship tables they leave.
 */
export async function tablesAfter(
  batches: readonly (readonly FuelEvent[])[],
  logger: Logger,
  workers = 1,
  afterwards: readonly FuelEvent[] = [],
): Promise<{ tables: RelationshipTables; results: ProcessResult[] }> {
  const db = await createTestDatabase('rel');
  try {
    const registry = createDefaultRegistry();
    const results: ProcessResult[] = [];
    const loops = Array.from({ length: workers }, async (_, w) => {
      for (let i = w; i < batches.length; i += workers) {
        const batch = batches[i];
        if (batch && batch.length > 0) results.push(...(await processBatch(db.sql, batch, registry, logger)));
      }
    });
    await Promise.all(loops);
    if (afterwards.length > 0) results.push(...(await processBatch(db.sql, afterwards, registry, logger)));
    // A handler that threw would leave the same empty tables in every arrangement.
    expect(results.flatMap((r) => r.handlerResults).filter((h) => h.status !== 'ok')).toEqual([]);
    return { tables: await relationshipTables(db.sql), results };
  } finally {
    await db.drop();
  }
}

/**
 * The tables `events` leave in one batch in their order, in one batch reversed, one event per
 * batch in order and reversed, and in two batches (second half first). Asserts they are all
 * the same and returns them, for the caller to check what they hold.
 */
export async function tablesInEveryArrangement(events: readonly FuelEvent[], logger: Logger): Promise<RelationshipTables> {
  const reversed = [...events].reverse();
  const half = Math.ceil(events.length / 2);
  const arrangements: FuelEvent[][][] = [
    [[...events]],
    [reversed],
    events.map((e) => [e]),
    reversed.map((e) => [e]),
    [events.slice(half), events.slice(0, half)],
  ];
  const [first, ...others] = await Promise.all(arrangements.map(async (batches) => (await tablesAfter(batches, logger)).tables));
  if (!first) throw new Error('no arrangement ran');
  for (const other of others) expect(other).toEqual(first);
  return first;
}
