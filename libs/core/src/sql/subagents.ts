import { boolText } from './arrays';
import type { Db } from './types';

/*
 * subagent.start and subagent.stop commute: the earliest start by (time, event id) owns the
 * start columns, the earliest stop the stop columns, whichever arrives first, and in one
 * batch or many. Postgres picks each key's earliest event of a kind (DISTINCT ON) and
 * compares it with the row's (event_is_earlier): JavaScript dates would round away the
 * microseconds Postgres keeps, and the two must order events the same way.
 *
 * One statement per batch for both kinds, one row per (session, agent), in key order: two
 * batches in flight then lock subagents in one order.
 */

/** One subagent.start or subagent.stop of the batch. */
export interface SubagentEventRow {
  kind: 'start' | 'stop';
  sessionId: string;
  agentId: string;
  eventId: string;
  timestamp: string;
  agentType: string;
  /** Start only. */
  agentName: string | null;
  model: string | null;
  teamName: string | null;
  isolation: string | null;
  runInBackground: boolean | null;
  /** Stop only: its agent_transcript_path. */
  transcriptPath: string | null;
}

export async function upsertSubagents(db: Db, rows: readonly SubagentEventRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(pick: (r: SubagentEventRow) => T) => rows.map(pick);
  await db`
    WITH r AS (
      SELECT * FROM unnest(
        ${col((r) => r.kind)}::text[], ${col((r) => r.sessionId)}::text[], ${col((r) => r.agentId)}::text[],
        ${col((r) => r.eventId)}::text[], ${col((r) => r.timestamp)}::text[], ${col((r) => r.agentType)}::text[],
        ${col((r) => r.agentName)}::text[], ${col((r) => r.model)}::text[], ${col((r) => r.teamName)}::text[],
        ${col((r) => r.isolation)}::text[], ${col((r) => boolText(r.runInBackground))}::text[]::boolean[], ${col((r) => r.transcriptPath)}::text[]
      ) AS r(kind, session_id, agent_id, event_id, ts, agent_type, agent_name, model, team_name, isolation, run_in_background, transcript_path)
    ), s AS (
      SELECT DISTINCT ON (session_id, agent_id) *, ts::timestamptz AS at FROM r WHERE kind = 'start'
      ORDER BY session_id, agent_id, ts::timestamptz, event_id COLLATE "C"
    ), e AS (
      SELECT DISTINCT ON (session_id, agent_id) *, ts::timestamptz AS at FROM r WHERE kind = 'stop'
      ORDER BY session_id, agent_id, ts::timestamptz, event_id COLLATE "C"
    )
    INSERT INTO subagents (id, session_id, agent_id, agent_type, agent_name, model, team_name, isolation, run_in_background,
                           status, started_at, start_event_id, ended_at, stop_event_id, transcript_path)
    SELECT md5(length(session_id) || ':' || session_id || agent_id), session_id, agent_id,
           COALESCE(s.agent_type, e.agent_type), s.agent_name, s.model, s.team_name, s.isolation, COALESCE(s.run_in_background, false),
           CASE WHEN e.event_id IS NULL THEN 'running' ELSE 'completed' END,
           s.at, s.event_id, e.at, e.event_id, e.transcript_path
    FROM s FULL JOIN e USING (session_id, agent_id)
    ORDER BY session_id, agent_id
    ON CONFLICT (session_id, agent_id) DO UPDATE SET
      agent_type = CASE
        WHEN event_is_earlier(EXCLUDED.started_at, EXCLUDED.start_event_id, subagents.started_at, subagents.start_event_id) THEN EXCLUDED.agent_type
        -- No start known on either side: EXCLUDED's type is its stop's.
        WHEN subagents.start_event_id IS NULL
         AND event_is_earlier(EXCLUDED.ended_at, EXCLUDED.stop_event_id, subagents.ended_at, subagents.stop_event_id) THEN EXCLUDED.agent_type
        ELSE subagents.agent_type END,
      agent_name = CASE WHEN event_is_earlier(EXCLUDED.started_at, EXCLUDED.start_event_id, subagents.started_at, subagents.start_event_id)
        THEN EXCLUDED.agent_name ELSE subagents.agent_name END,
      model = CASE WHEN event_is_earlier(EXCLUDED.started_at, EXCLUDED.start_event_id, subagents.started_at, subagents.start_event_id)
        THEN EXCLUDED.model ELSE subagents.model END,
      team_name = CASE WHEN event_is_earlier(EXCLUDED.started_at, EXCLUDED.start_event_id, subagents.started_at, subagents.start_event_id)
        THEN EXCLUDED.team_name ELSE subagents.team_name END,
      isolation = CASE WHEN event_is_earlier(EXCLUDED.started_at, EXCLUDED.start_event_id, subagents.started_at, subagents.start_event_id)
        THEN EXCLUDED.isolation ELSE subagents.isolation END,
      run_in_background = CASE WHEN event_is_earlier(EXCLUDED.started_at, EXCLUDED.start_event_id, subagents.started_at, subagents.start_event_id)
        THEN EXCLUDED.run_in_background ELSE subagents.run_in_background END,
      started_at = CASE WHEN event_is_earlier(EXCLUDED.started_at, EXCLUDED.start_event_id, subagents.started_at, subagents.start_event_id)
        THEN EXCLUDED.started_at ELSE subagents.started_at END,
      start_event_id = CASE WHEN event_is_earlier(EXCLUDED.started_at, EXCLUDED.start_event_id, subagents.started_at, subagents.start_event_id)
        THEN EXCLUDED.start_event_id ELSE subagents.start_event_id END,
      ended_at = CASE WHEN event_is_earlier(EXCLUDED.ended_at, EXCLUDED.stop_event_id, subagents.ended_at, subagents.stop_event_id)
        THEN EXCLUDED.ended_at ELSE subagents.ended_at END,
      stop_event_id = CASE WHEN event_is_earlier(EXCLUDED.ended_at, EXCLUDED.stop_event_id, subagents.ended_at, subagents.stop_event_id)
        THEN EXCLUDED.stop_event_id ELSE subagents.stop_event_id END,
      transcript_path = CASE WHEN event_is_earlier(EXCLUDED.ended_at, EXCLUDED.stop_event_id, subagents.ended_at, subagents.stop_event_id)
        THEN EXCLUDED.transcript_path ELSE subagents.transcript_path END,
      -- 'failed' comes from no event; a stop completes the row, nothing reopens it.
      status = CASE WHEN subagents.status = 'running' AND EXCLUDED.stop_event_id IS NOT NULL THEN 'completed' ELSE subagents.status END,
      updated_at = now()`;
}
