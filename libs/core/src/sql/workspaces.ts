import { ulid } from 'ulid';
import type { Db } from './types';

/** `github.com/acme/app` → `app`. */
export function displayNameOf(canonicalId: string): string {
  const parts = canonicalId.split('/').filter((p) => p.length > 0);
  return parts[parts.length - 1] ?? canonicalId;
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
