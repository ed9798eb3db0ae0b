import type { Db } from './types';

/*
 * Every column is a function of the set of session events, whatever order they arrive in
 * (issue 12 §2): the earliest start by (event time, event id) sets the start fields, the
 * earliest end the end fields, compact_sequence is the highest seen, and the workspace and
 * device are the start's, else the earliest event's. The row keeps which event decided each
 * (start_event_id, end_event_id, placed_at/placed_by), so a later arrival compares itself
 * with it; a duplicate of the deciding event changes nothing.
 *
 * A batch's session events go in one statement, one row per session, sorted by id: two
 * batches in flight then lock sessions in one order. (With a statement per type, a batch
 * ending S2 and starting S1 and another ending S1 and starting S2 deadlocked.)
 */

export type SessionEventKind = 'start' | 'end' | 'compact';

/** One session event; the statement folds a session's events into its row. */
export interface SessionEventRow {
  sessionId: string;
  kind: SessionEventKind;
  eventId: string;
  at: string;
  workspaceId: string;
  deviceId: string;
  /** start only */
  gitBranch: string | null;
  model: string | null;
  source: string | null;
  /** end only */
  endReason: string | null;
  durationMs: number | null;
  /** compact only */
  compactSequence: number | null;
}

/** The batch's rows folded per session, then merged with the stored row by the same rules. */
export async function upsertSessions(db: Db, rows: readonly SessionEventRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(pick: (r: SessionEventRow) => T) => rows.map(pick);
  await db`
    WITH r AS (
      SELECT r.sid, r.kind, r.eid, r.ts::timestamptz AS ts, r.ws, r.dev, r.git_branch, r.model, r.source, r.end_reason, r.duration_ms, r.seq
      FROM unnest(
        ${col((r) => r.sessionId)}::text[], ${col((r) => r.kind)}::text[], ${col((r) => r.eventId)}::text[], ${col((r) => r.at)}::text[],
        ${col((r) => r.workspaceId)}::text[], ${col((r) => r.deviceId)}::text[], ${col((r) => r.gitBranch)}::text[],
        ${col((r) => r.model)}::text[], ${col((r) => r.source)}::text[], ${col((r) => r.endReason)}::text[],
        ${col((r) => r.durationMs)}::int[], ${col((r) => r.compactSequence)}::int[]
      ) AS r(sid, kind, eid, ts, ws, dev, git_branch, model, source, end_reason, duration_ms, seq)
    ),
    st AS (SELECT DISTINCT ON (sid) * FROM r WHERE kind = 'start' ORDER BY sid, ts, eid),
    en AS (SELECT DISTINCT ON (sid) * FROM r WHERE kind = 'end' ORDER BY sid, ts, eid),
    co AS (SELECT sid, max(seq) AS seq FROM r WHERE kind = 'compact' GROUP BY sid),
    pl AS (SELECT DISTINCT ON (sid) sid, ws, dev, ts, eid FROM r ORDER BY sid, kind <> 'start', ts, eid)
    INSERT INTO sessions AS s (
      id, workspace_id, device_id, placed_at, placed_by, lifecycle,
      started_at, git_branch, model, source, start_event_id,
      ended_at, end_reason, duration_ms_sent, end_event_id, duration_ms, compact_sequence)
    SELECT pl.sid, pl.ws, pl.dev, pl.ts, pl.eid,
           CASE WHEN en.eid IS NULL THEN 'detected' ELSE 'ended' END,
           COALESCE(st.ts, en.ts - make_interval(secs => en.duration_ms / 1000.0)),
           st.git_branch, st.model, st.source, st.eid,
           en.ts, en.end_reason, en.duration_ms, en.eid,
           fuel_session_duration_ms(st.eid IS NOT NULL, st.ts, en.ts, en.duration_ms), co.seq
    FROM pl LEFT JOIN st USING (sid) LEFT JOIN en USING (sid) LEFT JOIN co USING (sid)
    ORDER BY pl.sid
    ON CONFLICT (id) DO UPDATE SET
      (workspace_id, device_id, placed_at, placed_by, moved_from_workspace_id, moved_from_device_id) = (
        SELECT CASE WHEN p.wins THEN EXCLUDED.workspace_id ELSE s.workspace_id END,
               CASE WHEN p.wins THEN EXCLUDED.device_id ELSE s.device_id END,
               CASE WHEN p.wins THEN EXCLUDED.placed_at ELSE s.placed_at END,
               CASE WHEN p.wins THEN EXCLUDED.placed_by ELSE s.placed_by END,
               CASE WHEN p.moves THEN s.workspace_id END,
               CASE WHEN p.moves THEN s.device_id END
        FROM (SELECT w.wins, w.wins AND (EXCLUDED.workspace_id, EXCLUDED.device_id) IS DISTINCT FROM (s.workspace_id, s.device_id) AS moves
              FROM (SELECT s.placed_at IS NULL
                        OR (EXCLUDED.start_event_id IS NULL, EXCLUDED.placed_at, EXCLUDED.placed_by)
                           < (s.start_event_id IS NULL, s.placed_at, s.placed_by) AS wins) w) p),
      (started_at, git_branch, model, source, start_event_id,
       ended_at, end_reason, duration_ms_sent, end_event_id, duration_ms, lifecycle, compact_sequence, updated_at) = (
        SELECT COALESCE(m.started_at, m.ended_at - make_interval(secs => m.duration_ms_sent / 1000.0)),
               m.git_branch, m.model, m.source, m.start_event_id,
               m.ended_at, m.end_reason, m.duration_ms_sent, m.end_event_id,
               fuel_session_duration_ms(m.start_event_id IS NOT NULL, m.started_at, m.ended_at, m.duration_ms_sent),
               CASE WHEN m.end_event_id IS NOT NULL AND s.lifecycle = 'detected' THEN 'ended' ELSE s.lifecycle END,
               GREATEST(s.compact_sequence, EXCLUDED.compact_sequence),
               now()
        FROM (SELECT
                CASE WHEN sw THEN EXCLUDED.started_at WHEN s.start_event_id IS NOT NULL THEN s.started_at END AS started_at,
                CASE WHEN sw THEN EXCLUDED.git_branch ELSE s.git_branch END AS git_branch,
                CASE WHEN sw THEN EXCLUDED.model ELSE s.model END AS model,
                CASE WHEN sw THEN EXCLUDED.source ELSE s.source END AS source,
                CASE WHEN sw THEN EXCLUDED.start_event_id ELSE s.start_event_id END AS start_event_id,
                CASE WHEN ew THEN EXCLUDED.ended_at ELSE s.ended_at END AS ended_at,
                CASE WHEN ew THEN EXCLUDED.end_reason ELSE s.end_reason END AS end_reason,
                CASE WHEN ew THEN EXCLUDED.duration_ms_sent ELSE s.duration_ms_sent END AS duration_ms_sent,
                CASE WHEN ew THEN EXCLUDED.end_event_id ELSE s.end_event_id END AS end_event_id
              FROM (SELECT
                      EXCLUDED.start_event_id IS NOT NULL AND (s.start_event_id IS NULL
                        OR (EXCLUDED.started_at, EXCLUDED.start_event_id) < (s.started_at, s.start_event_id)) AS sw,
                      EXCLUDED.end_event_id IS NOT NULL AND (s.end_event_id IS NULL
                        OR (EXCLUDED.ended_at, EXCLUDED.end_event_id) < (s.ended_at, s.end_event_id)) AS ew) f) m)`;
}
