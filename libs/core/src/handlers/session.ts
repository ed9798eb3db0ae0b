import type { EventHandler, HandlerItem } from '../registry';
import { upsertSessions, type SessionEventRow } from '../sql/sessions';
import { updateDefaultBranches, type DefaultBranchCandidate } from '../sql/workspaces';

export type SessionEventType = 'session.start' | 'session.end' | 'session.compact';
type SessionItem = HandlerItem<SessionEventType>;

/** One row per event; the statement folds them per session, so order does not matter. */
export function sessionEventRows(items: readonly SessionItem[]): SessionEventRow[] {
  return items.map(({ event, workspaceId }): SessionEventRow => {
    const row: SessionEventRow = {
      sessionId: event.data.cc_session_id,
      kind: 'start',
      eventId: event.id,
      at: event.timestamp,
      workspaceId,
      deviceId: event.device_id,
      gitBranch: null,
      model: null,
      source: null,
      endReason: null,
      durationMs: null,
      compactSequence: null,
    };
    if (event.type === 'session.start') {
      return { ...row, gitBranch: event.data.git_branch, model: event.data.model, source: event.data.source };
    }
    if (event.type === 'session.end') return { ...row, kind: 'end', endReason: event.data.end_reason, durationMs: event.data.duration_ms };
    return { ...row, kind: 'compact', compactSequence: event.data.compact_sequence };
  });
}

/**
 * The starts that name a branch: candidates for their workspace's default_branch. Only each
 * workspace's latest millisecond is sent (the statement picks among ties), since the rest
 * can never win.
 */
export function defaultBranchCandidates(items: readonly SessionItem[]): DefaultBranchCandidate[] {
  const latest = new Map<string, number>();
  const candidates: (DefaultBranchCandidate & { ms: number })[] = [];
  for (const { event, workspaceId } of items) {
    if (event.type !== 'session.start') continue;
    const branch = event.data.git_branch;
    if (branch === null || branch === '') continue;
    const ms = Date.parse(event.timestamp);
    candidates.push({ workspaceId, branch, at: event.timestamp, eventId: event.id, ms });
    if (ms > (latest.get(workspaceId) ?? -Infinity)) latest.set(workspaceId, ms);
  }
  // A time Date.parse cannot read (NaN) is always sent: Postgres orders it.
  return candidates
    .filter((c) => Number.isNaN(c.ms) || c.ms === latest.get(c.workspaceId))
    .map(({ workspaceId, branch, at, eventId }) => ({ workspaceId, branch, at, eventId }));
}

/**
 * Registered for the three session types: a batch's session events are upserted by one
 * statement, which locks its sessions in id order. The starts' branches go to their
 * workspaces in a second statement, which writes only a workspace whose branch is older.
 */
export const handleSessionEvents: EventHandler<SessionEventType> = async ({ sql, items }) => {
  await Promise.all([upsertSessions(sql, sessionEventRows(items)), updateDefaultBranches(sql, defaultBranchCandidates(items))]);
};
