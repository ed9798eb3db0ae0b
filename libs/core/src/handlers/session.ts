import { sendsAtOnce, type EventHandler, type HandlerItem } from '../registry';
import { upsertSessions, type SessionEventRow } from '../sql/sessions';

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
 * Registered for the three session types: a batch's session events are upserted by one
 * statement, which locks its sessions in id order. (The starts' branches go to their
 * workspaces with the devices and links, after the batch's commit: see writeSightings.)
 */
export const handleSessionEvents: EventHandler<SessionEventType> = sendsAtOnce(({ sql, items }) => upsertSessions(sql, sessionEventRows(items)));
