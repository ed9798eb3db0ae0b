import { gitColumns } from './git-columns';
import type { Db } from './types';

/*
 * git_activity: one row per git event, and the link of each to its session (issue 12 §2).
 * A git event belongs to the session on the same workspace and device whose
 * [started_at, ended_at] covers its time (a session with no end yet: [started_at, ∞)), the
 * most recently started if several (then the higher id), else none. docs/adr/*-git-session-link.md
 * says why the link comes out the same whatever the arrival order and the number of workers.
 *
 * A batch's transaction, once every other write is sent: lockGitKeys, then the git handler's
 * insertGitActivity (each row linked under the lock, so exactly), then
 * relinkChangedSessions (older rows whose link the batch's sessions can have changed).
 */

/**
 * The session covering the git row aliased `g` (it has workspace_id, device_id and
 * "timestamp"), as a fragment: a backward walk of sessions_workspace_device_started_idx
 * from the event's time.
 */
const coveringSession = (db: Db) => db`
  (SELECT s.id FROM sessions s
   WHERE s.workspace_id = g.workspace_id AND s.device_id = g.device_id
     AND s.started_at <= g."timestamp" AND (s.ended_at IS NULL OR s.ended_at >= g."timestamp")
   ORDER BY s.started_at DESC, s.id DESC LIMIT 1)`;

/**
 * Insert the git rows of the given git events in one statement, each linked to its covering
 * session, and give their events rows the same link where it differs from what they were
 * inserted with (insertEvents stores the link the sessions gave before the lock; it differs
 * only when a transaction on the same key committed in between, or on the isolated path).
 *
 * Each row is read from its event's `events` row, which this transaction just inserted:
 * only the ids travel, not a second copy of the payloads, and the same probe gives the link
 * to compare. The typed columns are cut from `data` by gitColumns (sql/git-columns.ts).
 * No ON CONFLICT (a speculative insertion costs more per row): a git row exists only for a
 * stored event (nothing deletes events), so none of these ids can be taken, by a committed
 * transaction or by one in flight (that one would hold the events row first).
 * Sent after lockGitKeys, so the link takes in every committed session of the row's key
 * and the batch's own. The events rows are found by index probes (a LATERAL kept apart by
 * OFFSET 0, and ANY of an array), whatever the planner thinks of a table that grows fast,
 * and their new values in one jsonb object.
 */
export async function insertGitActivity(db: Db, eventIds: readonly string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await db`
    WITH src AS MATERIALIZED (
      SELECT g.*, ${coveringSession(db)} AS link
      FROM unnest(${[...eventIds]}::text[]) AS x(id)
      CROSS JOIN LATERAL (
        SELECT e.id, e.type, e.workspace_id, e.device_id, e."timestamp", e.session_id, e.data FROM events e WHERE e.id = x.id OFFSET 0) g
    ),
    inserted AS (
      INSERT INTO git_activity (id, workspace_id, device_id, session_id, type, branch, commit_sha, message,
                                files_changed, insertions, deletions, "timestamp", data, worktree_name, is_worktree)
      SELECT g.id, g.workspace_id, g.device_id, g.link, ${gitColumns(db)}
      FROM src g
      ORDER BY g.id
    ),
    moved AS MATERIALIZED (SELECT g.id, g.link FROM src g WHERE g.link IS DISTINCT FROM g.session_id)
    UPDATE events e SET session_id = (SELECT jsonb_object_agg(m.id, m.link) FROM moved m) ->> e.id
    WHERE e.id = ANY(ARRAY(SELECT id FROM moved))`;
}

/** What a batch did that can change git links. */
export interface RelinkScope {
  /** The batch's git events, and their (workspace, device) keys. */
  git: readonly { id: string; workspaceId: string; deviceId: string }[];
  /** The sessions the batch's session events wrote. */
  sessionIds: readonly string[];
  /** Those of them the batch has a session.start for. */
  startedIds: readonly string[];
}

export const needsGitLock = (scope: RelinkScope): boolean => scope.git.length > 0 || scope.sessionIds.length > 0;

/** Advisory-lock class of the (workspace, device) keys whose git links are being settled. */
export const GIT_LINK_LOCK_CLASS = 120_001;

/**
 * Lock, in one order, every (workspace, device) key on which the batch can have changed git
 * links: its git events' keys, and its sessions' (with the key a session was just moved
 * from). Sent after every write that takes row locks, so a transaction holding a key never
 * waits for a row; held until the commit. A statement's snapshot is taken when it starts, so
 * every statement after this one sees whatever the previous holder of a key committed: of
 * two transactions on one key, the later sees the earlier's rows, and the links commute.
 */
export async function lockGitKeys(db: Db, scope: RelinkScope): Promise<void> {
  if (!needsGitLock(scope)) return;
  // OFFSET 0 keeps a LATERAL lookup an index probe per row (see relinkChangedSessions).
  await db`
    SELECT pg_advisory_xact_lock(${GIT_LINK_LOCK_CLASS}, k.key) FROM (
      SELECT DISTINCT hashtext(w || chr(31) || d) AS key FROM (
        SELECT * FROM unnest(${scope.git.map((g) => g.workspaceId)}::text[], ${scope.git.map((g) => g.deviceId)}::text[]) AS g(w, d)
        UNION ALL
        SELECT k.w, k.d FROM unnest(${[...scope.sessionIds]}::text[]) AS x(id)
          CROSS JOIN LATERAL (SELECT * FROM sessions s WHERE s.id = x.id OFFSET 0) s
          CROSS JOIN LATERAL (VALUES (s.workspace_id, s.device_id), (s.moved_from_workspace_id, s.moved_from_device_id)) AS k(w, d)
        WHERE k.w IS NOT NULL
      ) keys
      ORDER BY 1
    ) k`;
}

/**
 * Recompute the links of the older git rows the batch's sessions can have changed: those
 * linked to one of them, and those in one's new range (the batch's own rows were linked by
 * their insert, after the sessions). Only rows whose link differs are written, in
 * git_activity and in events (which holds what its git row held).
 *
 * A session with a stored start and no start in this batch (`fixed`) kept its start and its
 * key: only a start moves them. Its end can only have come earlier (the earliest end wins),
 * so its range only shrank: just its rows after its end can change, and only to another
 * session. The other rows it had and the rows it still covers keep their links.
 *
 * Every lookup is a LATERAL subquery kept apart by OFFSET 0, so it runs as an index probe
 * per row: otherwise the planner hash-joins whole tables while their statistics lag behind
 * their growth. The updates find their rows by ANY of an array for the same reason, and
 * each its new value in one jsonb object built once (a lookup, not a scan of `moved` per row).
 */
export async function relinkChangedSessions(db: Db, scope: RelinkScope): Promise<void> {
  if (scope.sessionIds.length === 0) return;
  await db`
    WITH changed AS (
      SELECT s.*, s.start_event_id IS NOT NULL AND x.id <> ALL(${[...scope.startedIds]}::text[]) AS fixed
      FROM unnest(${[...scope.sessionIds]}::text[]) AS x(id)
      CROSS JOIN LATERAL (
        SELECT s.id, s.workspace_id, s.device_id, s.started_at, s.ended_at, s.start_event_id FROM sessions s WHERE s.id = x.id OFFSET 0) s
    ),
    candidates AS (
      SELECT g.id FROM changed c CROSS JOIN LATERAL (
        SELECT g.id FROM git_activity g WHERE g.session_id = c.id AND (NOT c.fixed OR g."timestamp" > c.ended_at) OFFSET 0) g
      UNION
      SELECT g.id FROM changed c CROSS JOIN LATERAL (
        SELECT g.id FROM git_activity g
        WHERE NOT c.fixed AND g.workspace_id = c.workspace_id AND g.device_id = c.device_id
          AND g."timestamp" >= c.started_at AND (c.ended_at IS NULL OR g."timestamp" <= c.ended_at) OFFSET 0) g
      EXCEPT SELECT unnest(${scope.git.map((g) => g.id)}::text[])
    ),
    moved AS MATERIALIZED (
      SELECT l.id, l.now FROM (
        SELECT g.id, g.session_id AS was, ${coveringSession(db)} AS now
        FROM candidates c
        CROSS JOIN LATERAL (SELECT g.id, g.workspace_id, g.device_id, g."timestamp", g.session_id FROM git_activity g WHERE g.id = c.id OFFSET 0) g
      ) l
      WHERE l.was IS DISTINCT FROM l.now
    ),
    git AS (
      UPDATE git_activity g SET session_id = (SELECT jsonb_object_agg(m.id, m.now) FROM moved m) ->> g.id
      WHERE g.id = ANY(ARRAY(SELECT id FROM moved))
    )
    UPDATE events e SET session_id = (SELECT jsonb_object_agg(m.id, m.now) FROM moved m) ->> e.id
    WHERE e.id = ANY(ARRAY(SELECT id FROM moved))`;
}
