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
  /**
   * The batch's git events: their rows, their (workspace, device) keys, and the session_id
   * their events rows were inserted with (the envelope's).
   */
  git: readonly { id: string; workspaceId: string; deviceId: string; storedSessionId: string | null }[];
  /** The sessions the batch's session events wrote. */
  sessionIds: readonly string[];
}

/** Advisory-lock class of the (workspace, device) keys whose git links are being settled. */
export const GIT_LINK_LOCK_CLASS = 120_001;

/**
 * The last statements of a batch's transaction: lock every (workspace, device) key the batch
 * can have changed links on, in one order, then recompute the links of the git rows of those
 * keys that can have changed: the batch's own, those linked to a session it wrote, and those
 * in the range of a session it wrote; their events rows follow. The keys are the git events',
 * and the sessions' (and the one a session was moved from). A statement's snapshot is taken
 * once the lock is granted, so of two transactions on one key the later sees the other's
 * committed rows: the link is the same in whichever order they commit. Both statements are
 * sent at once; the lock is held from here to the commit.
 *
 * Lookups go through unnest joins, so each is an index probe whatever the planner thinks of
 * a fast-growing table; only rows whose link differs are written. An events row holds what
 * its git row held (or, for the batch's own, what it was inserted with), so that is what its
 * new link is compared with.
 */
export function relinkGitSessions(db: Db, scope: RelinkScope): Promise<unknown>[] {
  if (scope.git.length === 0 && scope.sessionIds.length === 0) return [];
  const sessionIds = [...scope.sessionIds];
  const git = (pick: (g: RelinkScope['git'][number]) => string | null) => scope.git.map(pick);
  // OFFSET 0 keeps each LATERAL lookup a nested loop of index probes: the planner would
  // otherwise hash-join whole tables while their statistics lag behind their growth.
  const lock = db`
    SELECT pg_advisory_xact_lock(${GIT_LINK_LOCK_CLASS}, k.key) FROM (
      SELECT DISTINCT hashtext(w || chr(31) || d) AS key FROM (
        SELECT * FROM unnest(${git((g) => g.workspaceId)}::text[], ${git((g) => g.deviceId)}::text[]) AS g(w, d)
        UNION ALL
        SELECT k.w, k.d FROM unnest(${sessionIds}::text[]) AS x(id)
          CROSS JOIN LATERAL (SELECT * FROM sessions s WHERE s.id = x.id OFFSET 0) s
          CROSS JOIN LATERAL (VALUES (s.workspace_id, s.device_id), (s.moved_from_workspace_id, s.moved_from_device_id)) AS k(w, d)
        WHERE k.w IS NOT NULL
      ) keys
      ORDER BY 1
    ) k`;
  const relink = db`
    WITH batch AS (
      SELECT * FROM unnest(${git((g) => g.id)}::text[], ${git((g) => g.storedSessionId)}::text[]) AS b(id, stored)
    ),
    changed AS (
      SELECT s.* FROM unnest(${sessionIds}::text[]) AS x(id)
      CROSS JOIN LATERAL (SELECT s.id, s.workspace_id, s.device_id, s.started_at, s.ended_at FROM sessions s WHERE s.id = x.id OFFSET 0) s
    ),
    candidates AS (
      SELECT id FROM batch
      UNION SELECT g.id FROM changed c CROSS JOIN LATERAL (SELECT g.id FROM git_activity g WHERE g.session_id = c.id OFFSET 0) g
      UNION SELECT g.id FROM changed c CROSS JOIN LATERAL (
              SELECT g.id FROM git_activity g
              WHERE g.workspace_id = c.workspace_id AND g.device_id = c.device_id
                AND g."timestamp" >= c.started_at AND (c.ended_at IS NULL OR g."timestamp" <= c.ended_at) OFFSET 0) g
    ),
    links AS MATERIALIZED (
      SELECT g.id, g.session_id AS was, b.id IS NOT NULL AS own, b.stored, ${coveringSession(db)} AS now
      FROM candidates c
      CROSS JOIN LATERAL (SELECT g.id, g.workspace_id, g.device_id, g."timestamp", g.session_id FROM git_activity g WHERE g.id = c.id OFFSET 0) g
      LEFT JOIN batch b ON b.id = g.id
    ),
    git_moved AS MATERIALIZED (SELECT id, now FROM links WHERE was IS DISTINCT FROM now),
    events_moved AS MATERIALIZED (
      SELECT id, now FROM links WHERE CASE WHEN own THEN stored IS DISTINCT FROM now ELSE was IS DISTINCT FROM now END
    ),
    git AS (
      UPDATE git_activity g SET session_id = (SELECT m.now FROM git_moved m WHERE m.id = g.id)
      WHERE g.id = ANY(ARRAY(SELECT id FROM git_moved))
    )
    UPDATE events e SET session_id = (SELECT m.now FROM events_moved m WHERE m.id = e.id)
    WHERE e.id = ANY(ARRAY(SELECT id FROM events_moved))`;
  return [lock, relink];
}
