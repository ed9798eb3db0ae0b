import type { JsonObject } from '../envelope';
import type { Db } from './types';

/*
 * git_activity: one row per git event, and the link of each to its session (issue 12 §2).
 * A git event belongs to the session on the same workspace and device whose
 * [started_at, ended_at] covers its time (a session with no end yet: [started_at, ∞)), the
 * most recently started if several (then the higher id), else none. docs/adr/*-git-session-link.md
 * says why the link comes out the same whatever the arrival order and the number of workers.
 */

export type GitActivityType = 'commit' | 'push' | 'checkout' | 'merge';

export interface GitActivityRow {
  id: string;
  workspaceId: string;
  deviceId: string;
  type: GitActivityType;
  branch: string | null;
  commitSha: string | null;
  message: string | null;
  filesChanged: number | null;
  insertions: number | null;
  deletions: number | null;
  at: string;
  /** What the typed columns do not hold, as the fuel-code server keeps it. */
  data: JsonObject;
  worktreeName: string | null;
  isWorktree: boolean;
}

/**
 * The session covering the git row aliased `g` (it has workspace_id, device_id and
 * "timestamp"), as a fragment. Walks sessions_workspace_device_started_idx backwards from the
 * event's time.
 */
const coveringSession = (db: Db) => db`
  (SELECT s.id FROM sessions s
   WHERE s.workspace_id = g.workspace_id AND s.device_id = g.device_id
     AND s.started_at <= g."timestamp" AND (s.ended_at IS NULL OR s.ended_at >= g."timestamp")
   ORDER BY s.started_at DESC, s.id DESC LIMIT 1)`;

/**
 * Insert the batch's git rows in one statement. Each gets the session that covers it as far
 * as this statement can see: a first guess, right whenever its session was committed before,
 * which saves the relink a write. relinkGitSessions settles it under the key's lock.
 */
export async function insertGitActivity(db: Db, rows: readonly GitActivityRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(pick: (r: GitActivityRow) => T) => rows.map(pick);
  await db`
    INSERT INTO git_activity (id, workspace_id, device_id, session_id, type, branch, commit_sha, message,
                              files_changed, insertions, deletions, "timestamp", data, worktree_name, is_worktree)
    -- is_worktree travels as text: postgres.js sends a JS boolean array as one boolean.
    SELECT g.id, g.workspace_id, g.device_id, ${coveringSession(db)}, g.type, g.branch, g.commit_sha, g.message,
           g.files_changed, g.insertions, g.deletions, g."timestamp", d.data, g.worktree_name, g.is_worktree
    FROM (
      SELECT r.id, r.workspace_id, r.device_id, r.type, r.branch, r.commit_sha, r.message, r.files_changed, r.insertions,
             r.deletions, r.ts::timestamptz AS "timestamp", r.worktree_name, r.is_worktree, r.n
      FROM unnest(
        ${col((r) => r.id)}::text[], ${col((r) => r.workspaceId)}::text[], ${col((r) => r.deviceId)}::text[], ${col((r) => r.type)}::text[],
        ${col((r) => r.branch)}::text[], ${col((r) => r.commitSha)}::text[], ${col((r) => r.message)}::text[],
        ${col((r) => r.filesChanged)}::int[], ${col((r) => r.insertions)}::int[], ${col((r) => r.deletions)}::int[],
        ${col((r) => r.at)}::text[], ${col((r) => r.worktreeName)}::text[], ${col((r) => (r.isWorktree ? 'true' : 'false'))}::text[]::bool[]
      ) WITH ORDINALITY AS r(id, workspace_id, device_id, type, branch, commit_sha, message, files_changed, insertions,
                             deletions, ts, worktree_name, is_worktree, n)
    ) g
    JOIN jsonb_array_elements(${JSON.stringify(col((r) => r.data))}::text::jsonb) WITH ORDINALITY AS d(data, n) USING (n)
    ORDER BY g.id
    ON CONFLICT (id) DO NOTHING`;
}

/** What a batch did that can change git links. */
export interface RelinkScope {
  /** The batch's git events: their rows, and their (workspace, device) keys. */
  git: readonly { id: string; workspaceId: string; deviceId: string }[];
  /** The sessions the batch's session events wrote. */
  sessionIds: readonly string[];
}

/** Advisory-lock class of the (workspace, device) keys whose git links are being settled. */
const GIT_LINK_LOCK_CLASS = 120_001;

/**
 * The last statements of a batch's transaction: lock every (workspace, device) key the batch
 * can have changed links on, in one order, then recompute the links of the git rows of those
 * keys that can have changed: the batch's own, those linked to a session it wrote, and those
 * in the range of a session it wrote; their events rows follow. The keys are the git events',
 * and the sessions' (and the one a session was moved from). A statement's snapshot is taken
 * once the lock is granted, so of two transactions on one key the later sees the other's
 * committed rows: the link is the same in whichever order they commit. Both statements are
 * sent at once; the lock is held from here to the commit.
 */
export function relinkGitSessions(db: Db, scope: RelinkScope): Promise<unknown>[] {
  if (scope.git.length === 0 && scope.sessionIds.length === 0) return [];
  const sessionIds = [...scope.sessionIds];
  const gitIds = scope.git.map((g) => g.id);
  const lock = db`
    SELECT pg_advisory_xact_lock(${GIT_LINK_LOCK_CLASS}, k.key) FROM (
      SELECT DISTINCT hashtext(w || chr(31) || d) AS key FROM (
        SELECT * FROM unnest(${scope.git.map((g) => g.workspaceId)}::text[], ${scope.git.map((g) => g.deviceId)}::text[]) AS g(w, d)
        UNION ALL SELECT workspace_id, device_id FROM sessions WHERE id = ANY(${sessionIds}::text[])
        UNION ALL SELECT moved_from_workspace_id, moved_from_device_id FROM sessions
                  WHERE id = ANY(${sessionIds}::text[]) AND moved_from_workspace_id IS NOT NULL
      ) keys
      ORDER BY 1
    ) k`;
  const relink = db`
    WITH changed AS (SELECT workspace_id, device_id, started_at, ended_at FROM sessions WHERE id = ANY(${sessionIds}::text[])),
    candidates AS (
      SELECT id FROM git_activity WHERE id = ANY(${gitIds}::text[])
      UNION SELECT id FROM git_activity WHERE session_id = ANY(${sessionIds}::text[])
      UNION SELECT g.id FROM changed c JOIN git_activity g
              ON g.workspace_id = c.workspace_id AND g.device_id = c.device_id
             AND g."timestamp" >= c.started_at AND (c.ended_at IS NULL OR g."timestamp" <= c.ended_at)
    ),
    links AS (
      SELECT g.id, ${coveringSession(db)} AS session_id FROM candidates JOIN git_activity g USING (id)
    ),
    git AS (
      UPDATE git_activity g SET session_id = l.session_id FROM links l
      WHERE g.id = l.id AND g.session_id IS DISTINCT FROM l.session_id
    )
    UPDATE events e SET session_id = l.session_id FROM links l
    WHERE e.id = l.id AND e.session_id IS DISTINCT FROM l.session_id`;
  return [lock, relink];
}
