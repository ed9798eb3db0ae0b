import { ulid } from 'ulid';
import { rowsParam } from './batch-rows';
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
  const rows = [...canonicalIds].sort().map((c) => ({ id: ulid(), canonical_id: c, display_name: displayNameOf(c) }));
  await db`
    INSERT INTO workspaces (id, canonical_id, display_name)
    SELECT r.id, r.canonical_id, r.display_name
    FROM jsonb_to_recordset(${rowsParam(db, rows)}::jsonb) AS r(id text, canonical_id text, display_name text)
    ORDER BY r.canonical_id
    ON CONFLICT (canonical_id) DO NOTHING`;
}

/**
 * canonical name → server-made workspace id, creating the unknown ones. Read first, since
 * nearly every batch names only known workspaces; insert without locking; read again for
 * those just created (or created meanwhile by another worker, visible once it commits).
 */
export async function resolveWorkspaceIds(db: Db, canonicalIds: Iterable<string>): Promise<Map<string, string>> {
  const wanted = [...new Set(canonicalIds)];
  const ids = new Map<string, string>();
  await selectWorkspaceIds(db, wanted, ids);
  const missing = wanted.filter((c) => !ids.has(c));
  if (missing.length === 0) return ids;
  await insertWorkspaces(db, missing);
  await selectWorkspaceIds(db, missing, ids);
  const unresolved = missing.filter((c) => !ids.has(c));
  if (unresolved.length > 0) throw new Error(`workspaces could not be resolved: ${unresolved.join(', ')}`);
  return ids;
}
