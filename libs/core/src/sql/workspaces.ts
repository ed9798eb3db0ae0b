import { ulid } from 'ulid';
import type { Db } from './types';

/**
 * The fuel-code rule (migration 003 applies it to existing rows): `github.com/acme/app` →
 * `app`; `local:<hash>` → `local-` and the hash's first 8 characters; otherwise the last
 * path segment (or the whole id when it has none, e.g. `_unassociated`).
 */
export function displayNameOf(canonicalId: string): string {
  if (canonicalId.startsWith('local:')) return `local-${canonicalId.slice('local:'.length, 'local:'.length + 8)}`;
  const parts = canonicalId.split('/').filter((p) => p.length > 0);
  return parts[parts.length - 1] ?? canonicalId;
}

/** A session.start's branch, offered as its workspace's default_branch. */
export interface DefaultBranchCandidate {
  workspaceId: string;
  branch: string;
  at: string;
  eventId: string;
}

/**
 * default_branch is the git_branch of the latest session.start (by event time, then event
 * id) that has one. A workspace row is shared by every worker, so it is written only when
 * this batch's candidate is newer than the stored one: the rows that qualify are locked in
 * id order first (the lock re-checks the condition against a concurrent update), and the
 * others are not touched at all. The lock is FOR NO KEY UPDATE, the one the UPDATE itself
 * takes: FOR UPDATE would also block the FOR KEY SHARE that another writer's workspace_devices
 * foreign-key check takes on the same row at the end of its statement, and two writers doing
 * both in crossed order deadlock.
 */
export async function updateDefaultBranches(db: Db, candidates: readonly DefaultBranchCandidate[]): Promise<void> {
  if (candidates.length === 0) return;
  await db`${defaultBranchesUpdate(db, candidates)}`;
}

/** The statement of updateDefaultBranches, as a fragment (writeSightings puts it in a WITH). */
export function defaultBranchesUpdate(db: Db, candidates: readonly DefaultBranchCandidate[]) {
  const col = <T>(pick: (c: DefaultBranchCandidate) => T) => candidates.map(pick);
  return db`
    WITH c AS (
      SELECT DISTINCT ON (r.w) r.w, r.branch, r.ts::timestamptz AS ts, r.eid
      FROM unnest(${col((c) => c.workspaceId)}::text[], ${col((c) => c.branch)}::text[], ${col((c) => c.at)}::text[], ${col((c) => c.eventId)}::text[])
        AS r(w, branch, ts, eid)
      ORDER BY r.w, r.ts::timestamptz DESC, r.eid DESC
    ),
    newer AS (
      SELECT w.id, c.branch, c.ts, c.eid FROM workspaces w JOIN c ON c.w = w.id
      WHERE w.default_branch_at IS NULL OR (c.ts, c.eid) > (w.default_branch_at, w.default_branch_event_id)
      ORDER BY w.id
      FOR NO KEY UPDATE OF w
    )
    UPDATE workspaces w
    SET default_branch = n.branch, default_branch_at = n.ts, default_branch_event_id = n.eid, updated_at = now()
    FROM newer n WHERE w.id = n.id`;
}

/**
 * Those of `ids` with no workspace row: ids from a process's cache whose row an operator
 * deleted. Nothing in the batch's transaction writes a workspace row any more (the links'
 * foreign key caught this before), so the fast path asks.
 */
export async function missingWorkspaceIds(db: Db, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db<{ id: string }[]>`
    SELECT x.id FROM unnest(${ids as string[]}::text[]) AS x(id)
    WHERE NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.id = x.id)`;
  return rows.map((r) => r.id);
}

async function selectWorkspaceIds(db: Db, canonicalIds: readonly string[], into: Map<string, string>): Promise<void> {
  const rows = await db<{ id: string; canonical_id: string }[]>`
    SELECT id, canonical_id FROM workspaces WHERE canonical_id = ANY(${canonicalIds as string[]})`;
  for (const row of rows) into.set(row.canonical_id, row.id);
}

async function insertWorkspaces(db: Db, canonicalIds: readonly string[]): Promise<void> {
  const names = [...canonicalIds].sort();
  await db`
    INSERT INTO workspaces (id, canonical_id, display_name)
    SELECT r.id, r.canonical_id, r.display_name
    FROM unnest(${names.map(() => ulid())}::text[], ${names}::text[], ${names.map(displayNameOf)}::text[]) AS r(id, canonical_id, display_name)
    ORDER BY r.canonical_id
    ON CONFLICT (canonical_id) DO NOTHING`;
}

/**
 * canonical name → server-made workspace id, creating the unknown ones. Names in `known`
 * (ids this process saw committed; a name's id never changes) cost no query. For the rest:
 * read first, since nearly every batch names only known workspaces; insert without locking;
 * read again for those just created (or created meanwhile by another worker).
 */
export async function resolveWorkspaceIds(
  db: Db,
  canonicalIds: Iterable<string>,
  known?: ReadonlyMap<string, string>,
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const wanted: string[] = [];
  for (const c of new Set(canonicalIds)) {
    const id = known?.get(c);
    if (id === undefined) wanted.push(c);
    else ids.set(c, id);
  }
  if (wanted.length === 0) return ids;
  await selectWorkspaceIds(db, wanted, ids);
  const missing = wanted.filter((c) => !ids.has(c));
  if (missing.length === 0) return ids;
  await insertWorkspaces(db, missing);
  await selectWorkspaceIds(db, missing, ids);
  const unresolved = missing.filter((c) => !ids.has(c));
  if (unresolved.length > 0) throw new Error(`workspaces could not be resolved: ${unresolved.join(', ')}`);
  return ids;
}
