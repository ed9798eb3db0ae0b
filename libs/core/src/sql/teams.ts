import type { Db } from './types';

/*
 * team.create and team.message commute: the earliest create by (time, event id) owns
 * description and created_at, and each message adds one to message_count, so the row is the
 * same whatever the order. A message before any create makes the row without them; the
 * create fills them in when it comes. Exactly once holds because handlers only get new
 * events: a redelivered message is a duplicate in `events` and never reaches this.
 *
 * One statement per batch for both kinds, one row per (session, team), in key order.
 */

/**
 * A team.create of the batch, or the batch's team.message events on one team, counted
 * (`messages`): only creates need their time and id, to pick the earliest.
 */
export type TeamEventRow =
  | { kind: 'create'; sessionId: string; teamName: string; eventId: string; timestamp: string; description: string | null }
  | { kind: 'messages'; sessionId: string; teamName: string; messages: number };

export async function upsertTeams(db: Db, rows: readonly TeamEventRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(pick: (r: TeamEventRow) => T) => rows.map(pick);
  await db`
    WITH r AS (
      SELECT * FROM unnest(
        ${col((r) => r.kind)}::text[], ${col((r) => r.sessionId)}::text[], ${col((r) => r.teamName)}::text[],
        ${col((r) => (r.kind === 'create' ? r.eventId : null))}::text[], ${col((r) => (r.kind === 'create' ? r.timestamp : null))}::text[],
        ${col((r) => (r.kind === 'create' ? r.description : null))}::text[], ${col((r) => (r.kind === 'create' ? 0 : r.messages))}::int[]
      ) AS r(kind, session_id, team_name, event_id, ts, description, messages)
    ), c AS (
      SELECT DISTINCT ON (session_id, team_name) session_id, team_name, event_id, ts::timestamptz AS at, description
      FROM r WHERE kind = 'create'
      ORDER BY session_id, team_name, ts::timestamptz, event_id COLLATE "C"
    ), m AS (
      SELECT session_id, team_name, sum(messages)::integer AS n FROM r WHERE kind = 'messages' GROUP BY session_id, team_name
    )
    INSERT INTO teams (id, session_id, team_name, description, created_at, create_event_id, message_count)
    SELECT md5(length(session_id) || ':' || session_id || team_name), session_id, team_name,
           c.description, c.at, c.event_id, COALESCE(m.n, 0)
    FROM c FULL JOIN m USING (session_id, team_name)
    ORDER BY session_id, team_name
    ON CONFLICT (session_id, team_name) DO UPDATE SET
      description = CASE WHEN event_is_earlier(EXCLUDED.created_at, EXCLUDED.create_event_id, teams.created_at, teams.create_event_id)
        THEN EXCLUDED.description ELSE teams.description END,
      created_at = CASE WHEN event_is_earlier(EXCLUDED.created_at, EXCLUDED.create_event_id, teams.created_at, teams.create_event_id)
        THEN EXCLUDED.created_at ELSE teams.created_at END,
      create_event_id = CASE WHEN event_is_earlier(EXCLUDED.created_at, EXCLUDED.create_event_id, teams.created_at, teams.create_event_id)
        THEN EXCLUDED.create_event_id ELSE teams.create_event_id END,
      message_count = teams.message_count + EXCLUDED.message_count,
      updated_at = now()`;
}
