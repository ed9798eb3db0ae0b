import { ulid } from 'ulid';
import type { Db } from './types';

export async function selectWorkspaceId(db: Db, canonicalId: string): Promise<string | undefined> {
  const rows = await db<{ id: string }[]>`
    SELECT id FROM workspaces WHERE canonical_id = ${canonicalId}`;
  return rows[0]?.id;
}

export async function insertWorkspace(db: Db, canonicalId: string): Promise<string | undefined> {
  const rows = await db<{ id: string }[]>`
    INSERT INTO workspaces (id, canonical_id, display_name)
    VALUES (${ulid()}, ${canonicalId}, ${displayNameOf(canonicalId)})
    ON CONFLICT (canonical_id) DO NOTHING
    RETURNING id`;
  return rows[0]?.id;
}

/** `github.com/acme/app` → `app`. */
export function displayNameOf(canonicalId: string): string {
  const parts = canonicalId.split('/').filter((p) => p.length > 0);
  return parts[parts.length - 1] ?? canonicalId;
}

/**
 * The server-made id of a workspace, creating it on first sight. Read first, since nearly
 * every event names a known workspace; insert without locking; read again if another
 * transaction won the insert (its row is visible to our next statement once it commits).
 */
export async function resolveWorkspaceId(db: Db, canonicalId: string): Promise<string> {
  const known = await selectWorkspaceId(db, canonicalId);
  if (known) return known;
  const created = await insertWorkspace(db, canonicalId);
  if (created) return created;
  const raced = await selectWorkspaceId(db, canonicalId);
  if (raced) return raced;
  throw new Error(`workspace ${canonicalId} could not be resolved`);
}
