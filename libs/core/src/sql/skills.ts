import type { Db } from './types';

/** One skill.invoke: its row's id is the event's. */
export interface SkillRow {
  eventId: string;
  sessionId: string;
  skillName: string;
  timestamp: string;
  invokedBy: string | null;
  args: string | null;
}

/**
 * One row per invocation, in one statement per batch, in id order. Handlers only get new
 * events, so a conflict can only be the same event written again: it changes nothing.
 */
export async function insertSessionSkills(db: Db, rows: readonly SkillRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(pick: (r: SkillRow) => T) => rows.map(pick);
  await db`
    INSERT INTO session_skills (id, session_id, skill_name, invoked_at, invoked_by, args)
    SELECT r.id, r.session_id, r.skill_name, r.ts::timestamptz, r.invoked_by, r.args
    FROM unnest(
      ${col((r) => r.eventId)}::text[], ${col((r) => r.sessionId)}::text[], ${col((r) => r.skillName)}::text[],
      ${col((r) => r.timestamp)}::text[], ${col((r) => r.invokedBy)}::text[], ${col((r) => r.args)}::text[]
    ) AS r(id, session_id, skill_name, ts, invoked_by, args)
    ORDER BY r.id
    ON CONFLICT (id) DO NOTHING`;
}
