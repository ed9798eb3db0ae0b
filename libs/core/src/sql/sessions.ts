import { rowsParam } from './batch-rows';
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
  await db`
    INSERT INTO sessions (id, workspace_id, device_id, lifecycle, started_at, git_branch, model, source)
    SELECT r."id", r."workspaceId", r."deviceId", 'detected', r."startedAt"::timestamptz, r."gitBranch", r."model", r."source"
    FROM jsonb_to_recordset(${rowsParam(db, lastPerSession(starts))}::jsonb) AS r(
      "id" text, "workspaceId" text, "deviceId" text, "startedAt" text, "gitBranch" text, "model" text, "source" text)
    ORDER BY r."id"
    ON CONFLICT (id) DO UPDATE SET
      started_at = EXCLUDED.started_at,
      git_branch = EXCLUDED.git_branch,
      model = EXCLUDED.model,
      source = EXCLUDED.source,
      updated_at = now()`;
}

export async function upsertSessionEnds(db: Db, ends: readonly SessionEndRow[]): Promise<void> {
  if (ends.length === 0) return;
  await db`
    INSERT INTO sessions (id, workspace_id, device_id, lifecycle, started_at, ended_at, end_reason, duration_ms)
    SELECT r."id", r."workspaceId", r."deviceId", 'ended',
           r."endedAt"::timestamptz - make_interval(secs => r."durationMs"::double precision / 1000),
           r."endedAt"::timestamptz, r."endReason", r."durationMs"
    FROM jsonb_to_recordset(${rowsParam(db, lastPerSession(ends))}::jsonb) AS r(
      "id" text, "workspaceId" text, "deviceId" text, "endedAt" text, "endReason" text, "durationMs" integer)
    ORDER BY r."id"
    ON CONFLICT (id) DO UPDATE SET
      lifecycle = 'ended',
      ended_at = EXCLUDED.ended_at,
      end_reason = EXCLUDED.end_reason,
      duration_ms = EXCLUDED.duration_ms,
      updated_at = now()`;
}
