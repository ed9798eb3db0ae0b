import { boolText } from './arrays';
import type { Db } from './types';

/*
 * worktree.create and worktree.remove pair up by (session_id, worktree_name) and commute:
 * the earliest create by (time, event id) owns branch and created_at, the earliest remove
 * owns removed_at and had_changes, whichever arrives first and however the batches split.
 * A NULL name is a key like any other (the unique index is NULLS NOT DISTINCT); the join
 * below goes by name_key, which tells NULL from '' (a FULL JOIN cannot use IS NOT DISTINCT).
 *
 * One statement per batch for both kinds, one row per key, in key order.
 */

/** One worktree.create or worktree.remove of the batch. */
export interface WorktreeEventRow {
  kind: 'create' | 'remove';
  sessionId: string;
  worktreeName: string | null;
  eventId: string;
  timestamp: string;
  /** Create only. */
  branch: string | null;
  /** Remove only. */
  hadChanges: boolean | null;
}

export async function upsertSessionWorktrees(db: Db, rows: readonly WorktreeEventRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(pick: (r: WorktreeEventRow) => T) => rows.map(pick);
  await db`
    WITH r AS (
      SELECT *, COALESCE('/' || worktree_name, '') AS name_key FROM unnest(
        ${col((r) => r.kind)}::text[], ${col((r) => r.sessionId)}::text[], ${col((r) => r.worktreeName)}::text[],
        ${col((r) => r.eventId)}::text[], ${col((r) => r.timestamp)}::text[], ${col((r) => r.branch)}::text[],
        ${col((r) => boolText(r.hadChanges))}::text[]::boolean[]
      ) AS r(kind, session_id, worktree_name, event_id, ts, branch, had_changes)
    ), c AS (
      SELECT DISTINCT ON (session_id, name_key) *, ts::timestamptz AS at FROM r WHERE kind = 'create'
      ORDER BY session_id, name_key, ts::timestamptz, event_id COLLATE "C"
    ), d AS (
      SELECT DISTINCT ON (session_id, name_key) *, ts::timestamptz AS at FROM r WHERE kind = 'remove'
      ORDER BY session_id, name_key, ts::timestamptz, event_id COLLATE "C"
    )
    INSERT INTO session_worktrees (id, session_id, worktree_name, branch, created_at, create_event_id, removed_at, remove_event_id, had_changes)
    SELECT md5(length(session_id) || ':' || session_id || name_key), session_id, COALESCE(c.worktree_name, d.worktree_name),
           c.branch, c.at, c.event_id, d.at, d.event_id, d.had_changes
    FROM c FULL JOIN d USING (session_id, name_key)
    ORDER BY session_id, name_key
    ON CONFLICT (session_id, worktree_name) DO UPDATE SET
      branch = CASE WHEN event_is_earlier(EXCLUDED.created_at, EXCLUDED.create_event_id, session_worktrees.created_at, session_worktrees.create_event_id)
        THEN EXCLUDED.branch ELSE session_worktrees.branch END,
      created_at = CASE WHEN event_is_earlier(EXCLUDED.created_at, EXCLUDED.create_event_id, session_worktrees.created_at, session_worktrees.create_event_id)
        THEN EXCLUDED.created_at ELSE session_worktrees.created_at END,
      create_event_id = CASE WHEN event_is_earlier(EXCLUDED.created_at, EXCLUDED.create_event_id, session_worktrees.created_at, session_worktrees.create_event_id)
        THEN EXCLUDED.create_event_id ELSE session_worktrees.create_event_id END,
      had_changes = CASE WHEN event_is_earlier(EXCLUDED.removed_at, EXCLUDED.remove_event_id, session_worktrees.removed_at, session_worktrees.remove_event_id)
        THEN EXCLUDED.had_changes ELSE session_worktrees.had_changes END,
      removed_at = CASE WHEN event_is_earlier(EXCLUDED.removed_at, EXCLUDED.remove_event_id, session_worktrees.removed_at, session_worktrees.remove_event_id)
        THEN EXCLUDED.removed_at ELSE session_worktrees.removed_at END,
      remove_event_id = CASE WHEN event_is_earlier(EXCLUDED.removed_at, EXCLUDED.remove_event_id, session_worktrees.removed_at, session_worktrees.remove_event_id)
        THEN EXCLUDED.remove_event_id ELSE session_worktrees.remove_event_id END,
      updated_at = now()`;
}
