import type { Db } from './types';

/*
 * session.start and session.end commute: each writes only the columns it owns, so the row
 * after both is the same whichever came first, or whether they came in one batch. An end
 * alone derives started_at from its duration; a start arriving later replaces that estimate
 * with the real start time. A start never moves lifecycle back from 'ended'.
 *
 * One statement may touch a row only once, so callers pass one row per session id
 * (lastPerSession): a later event of the same kind in the batch wins, as it would one by one.
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

export interface SessionEndRow {
  id: string;
  workspaceId: string;
  deviceId: string;
  endedAt: string;
  endReason: string;
  durationMs: number;
}

export function lastPerSession<T extends { id: string }>(rows: readonly T[]): T[] {
  return [...new Map(rows.map((r) => [r.id, r])).values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export async function upsertSessionStarts(db: Db, starts: readonly SessionStartRow[]): Promise<void> {
  if (starts.length === 0) return;
  const rows = lastPerSession(starts);
  const col = <T>(pick: (r: SessionStartRow) => T) => rows.map(pick);
  await db`
    INSERT INTO sessions (id, workspace_id, device_id, lifecycle, started_at, git_branch, model, source)
    SELECT r.id, r.workspace_id, r.device_id, 'detected', r.started_at::timestamptz, r.git_branch, r.model, r.source
    FROM unnest(
      ${col((r) => r.id)}::text[], ${col((r) => r.workspaceId)}::text[], ${col((r) => r.deviceId)}::text[],
      ${col((r) => r.startedAt)}::text[], ${col((r) => r.gitBranch)}::text[], ${col((r) => r.model)}::text[], ${col((r) => r.source)}::text[]
    ) AS r(id, workspace_id, device_id, started_at, git_branch, model, source)
    ORDER BY r.id
    ON CONFLICT (id) DO UPDATE SET
      started_at = EXCLUDED.started_at,
      git_branch = EXCLUDED.git_branch,
      model = EXCLUDED.model,
      source = EXCLUDED.source,
      updated_at = now()`;
}

export async function upsertSessionEnds(db: Db, ends: readonly SessionEndRow[]): Promise<void> {
  if (ends.length === 0) return;
  const rows = lastPerSession(ends);
  const col = <T>(pick: (r: SessionEndRow) => T) => rows.map(pick);
  await db`
    INSERT INTO sessions (id, workspace_id, device_id, lifecycle, started_at, ended_at, end_reason, duration_ms)
    SELECT r.id, r.workspace_id, r.device_id, 'ended',
           r.ended_at::timestamptz - make_interval(secs => r.duration_ms::double precision / 1000),
           r.ended_at::timestamptz, r.end_reason, r.duration_ms
    FROM unnest(
      ${col((r) => r.id)}::text[], ${col((r) => r.workspaceId)}::text[], ${col((r) => r.deviceId)}::text[],
      ${col((r) => r.endedAt)}::text[], ${col((r) => r.endReason)}::text[], ${col((r) => r.durationMs)}::int[]
    ) AS r(id, workspace_id, device_id, ended_at, end_reason, duration_ms)
    ORDER BY r.id
    ON CONFLICT (id) DO UPDATE SET
      lifecycle = 'ended',
      ended_at = EXCLUDED.ended_at,
      end_reason = EXCLUDED.end_reason,
      duration_ms = EXCLUDED.duration_ms,
      updated_at = now()`;
}
