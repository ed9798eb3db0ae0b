import type { Sql } from 'postgres';

/** Every table's rows, as comparable text: equal sets of events must give equal snapshots. */
export type TableSnapshot = Record<string, string[]>;

/** Tables that record how, not what: the migrator's own. */
const SKIPPED_TABLES = new Set(['schema_migrations']);

/**
 * A snapshot of every table of the public schema, for checking that the final tables are a
 * function of the set of events. Left out, because they are not the events' doing: columns
 * the server fills from its clock or a sequence (a default of now(), nextval or a random
 * generator), and event_handler_failures' time. Server-made workspace ids are replaced by
 * the workspace's canonical name wherever they appear. Rows are sorted.
 */
export async function tableSnapshot(sql: Sql): Promise<TableSnapshot> {
  const tables = await comparableColumns(sql);
  const workspaces = await sql<{ id: string; canonical_id: string }[]>`SELECT id, canonical_id FROM workspaces`;
  const names = new Map(workspaces.map((w) => [w.id, w.canonical_id]));
  const snapshot: TableSnapshot = {};
  for (const [table, cols] of tables) {
    const rows = await sql.unsafe<{ row: Record<string, unknown> }[]>(
      `SELECT to_jsonb(t) AS row FROM (SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM "${table}") t`,
    );
    snapshot[table] = rows
      .map(({ row }) => JSON.stringify(row, (_key, value: unknown) => (typeof value === 'string' ? (names.get(value) ?? value) : value)))
      .sort();
  }
  return snapshot;
}

/**
 * One md5 per table over the same columns as tableSnapshot, computed in PostgreSQL (cheap
 * for large tables): a `workspace_id` column is replaced by the workspace's canonical name.
 */
export async function tableDigests(sql: Sql): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const [table, cols] of await comparableColumns(sql)) {
    const select = cols
      .map((c) => (c === 'workspace_id' ? `(SELECT w.canonical_id FROM workspaces w WHERE w.id = x.workspace_id) AS workspace_id` : `x."${c}"`))
      .join(', ');
    const [row] = await sql.unsafe<{ digest: string }[]>(
      `SELECT md5(coalesce(string_agg(r, E'\n' ORDER BY r), '')) AS digest
       FROM (SELECT to_jsonb(t)::text AS r FROM (SELECT ${select} FROM "${table}" x) t) rows`,
    );
    digests[table] = row?.digest ?? '';
  }
  return digests;
}

/** Table → the columns that are the events' doing (see tableSnapshot), sorted by table. */
async function comparableColumns(sql: Sql): Promise<[string, string[]][]> {
  const columns = await sql<{ table_name: string; column_name: string; column_default: string | null }[]>`
    SELECT c.table_name, c.column_name, c.column_default
    FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
    ORDER BY c.table_name, c.ordinal_position`;
  const byTable = new Map<string, string[]>();
  for (const c of columns) {
    if (SKIPPED_TABLES.has(c.table_name)) continue;
    const serverMade = /now\(\)|nextval|random|uuid|clock_timestamp/i.test(c.column_default ?? '');
    if (serverMade || (c.table_name === 'workspaces' && c.column_name === 'id')) continue;
    byTable.set(c.table_name, [...(byTable.get(c.table_name) ?? []), c.column_name]);
  }
  return [...byTable].sort(([a], [b]) => a.localeCompare(b));
}
