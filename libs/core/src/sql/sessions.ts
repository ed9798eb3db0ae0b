import type { Db } from './types';

/*
 * session.start and session.end commute: each writes only the columns it owns, so the row
 * after both is the same whichever came first. An end alone derives started_at from its
 * duration; a start arriving later replaces that estimate with the real start time. A start
 * never moves lifecycle backwards from 'ended'.
 */

export interface SessionStartRow {
  id: string;
  workspaceId: string;
  deviceId: string;
  startedAt: string;
  gitBranch: string | null;
  model: string | null;
  source: string;
}

export async function upsertSessionStart(db: Db, s: SessionStartRow): Promise<void> {
  await db`
    INSERT INTO sessions (id, workspace_id, device_id, lifecycle, started_at, git_branch, model, source)
    VALUES (${s.id}, ${s.workspaceId}, ${s.deviceId}, 'detected', ${s.startedAt}, ${s.gitBranch}, ${s.model}, ${s.source})
    ON CONFLICT (id) DO UPDATE SET
      started_at = EXCLUDED.started_at,
      git_branch = EXCLUDED.git_branch,
      model = EXCLUDED.model,
      source = EXCLUDED.source,
      updated_at = now()`;
}

export interface SessionEndRow {
  id: string;
  workspaceId: string;
  deviceId: string;
  endedAt: string;
  endReason: string;
  durationMs: number;
}

export async function upsertSessionEnd(db: Db, s: SessionEndRow): Promise<void> {
  await db`
    INSERT INTO sessions (id, workspace_id, device_id, lifecycle, started_at, ended_at, end_reason, duration_ms)
    VALUES (
      ${s.id}, ${s.workspaceId}, ${s.deviceId}, 'ended',
      ${s.endedAt}::timestamptz - make_interval(secs => ${s.durationMs}::double precision / 1000),
      ${s.endedAt}, ${s.endReason}, ${s.durationMs}
    )
    ON CONFLICT (id) DO UPDATE SET
      lifecycle = 'ended',
      ended_at = EXCLUDED.ended_at,
      end_reason = EXCLUDED.end_reason,
      duration_ms = EXCLUDED.duration_ms,
      updated_at = now()`;
}
