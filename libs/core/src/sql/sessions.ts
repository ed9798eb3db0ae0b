import type { Db } from './types';

/*
 * session.start and session.end commute: each writes only the columns it owns, so the row
 * after both is the same whichever came first, or whether they came in one batch. An end
 * alone derives started_at from its duration; a start arriving later replaces that estimate
 * with the real start time. A start never moves lifecycle back from 'ended'.
 *
 * A batch's starts and ends go in one statement, one row per session, sorted by id: two
 * batches in flight then lock sessions in one order. (With a statement per type, a batch
 * ending S2 and starting S1 and another ending S1 and starting S2 deadlocked.)
 */

export interface SessionStart {
  startedAt: string;
  gitBranch: string | null;
  model: string | null;
  source: string;
}

export interface SessionEnd {
  endedAt: string;
  endReason: string;
  durationMs: number;
}

/** What a batch says about one session: its last start and its last end, if any. */
export interface SessionRow {
  id: string;
  /** Of the session's first event in the batch; only a new row takes them. */
  workspaceId: string;
  deviceId: string;
  start: SessionStart | null;
  end: SessionEnd | null;
}

export async function upsertSessions(db: Db, rows: readonly SessionRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(pick: (r: SessionRow) => T) => rows.map(pick);
  // `source` is set exactly when the row has a start (the schema requires it), `end_reason`
  // exactly when it has an end: EXCLUDED tells the two apart by them.
  await db`
    INSERT INTO sessions (id, workspace_id, device_id, lifecycle, started_at, git_branch, model, source, ended_at, end_reason, duration_ms)
    SELECT r.id, r.workspace_id, r.device_id,
           CASE WHEN r.end_reason IS NULL THEN 'detected' ELSE 'ended' END,
           COALESCE(r.started_at::timestamptz,
                    r.ended_at::timestamptz - make_interval(secs => r.duration_ms::double precision / 1000)),
           r.git_branch, r.model, r.source, r.ended_at::timestamptz, r.end_reason, r.duration_ms
    FROM unnest(
      ${col((r) => r.id)}::text[], ${col((r) => r.workspaceId)}::text[], ${col((r) => r.deviceId)}::text[],
      ${col((r) => r.start?.startedAt ?? null)}::text[], ${col((r) => r.start?.gitBranch ?? null)}::text[],
      ${col((r) => r.start?.model ?? null)}::text[], ${col((r) => r.start?.source ?? null)}::text[],
      ${col((r) => r.end?.endedAt ?? null)}::text[], ${col((r) => r.end?.endReason ?? null)}::text[],
      ${col((r) => r.end?.durationMs ?? null)}::int[]
    ) AS r(id, workspace_id, device_id, started_at, git_branch, model, source, ended_at, end_reason, duration_ms)
    ORDER BY r.id
    ON CONFLICT (id) DO UPDATE SET
      started_at  = CASE WHEN EXCLUDED.source IS NULL THEN sessions.started_at ELSE EXCLUDED.started_at END,
      git_branch  = CASE WHEN EXCLUDED.source IS NULL THEN sessions.git_branch ELSE EXCLUDED.git_branch END,
      model       = CASE WHEN EXCLUDED.source IS NULL THEN sessions.model ELSE EXCLUDED.model END,
      source      = COALESCE(EXCLUDED.source, sessions.source),
      lifecycle   = CASE WHEN EXCLUDED.end_reason IS NULL THEN sessions.lifecycle ELSE 'ended' END,
      ended_at    = CASE WHEN EXCLUDED.end_reason IS NULL THEN sessions.ended_at ELSE EXCLUDED.ended_at END,
      end_reason  = COALESCE(EXCLUDED.end_reason, sessions.end_reason),
      duration_ms = CASE WHEN EXCLUDED.end_reason IS NULL THEN sessions.duration_ms ELSE EXCLUDED.duration_ms END,
      updated_at  = now()`;
}
