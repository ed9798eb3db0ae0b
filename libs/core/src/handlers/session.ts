import type { EventHandler, HandlerItem } from '../registry';
import { upsertSessions, type SessionRow } from '../sql/sessions';

type SessionItem = HandlerItem<'session.start' | 'session.end'>;

/** One row per session of the items, in stream order: the last start and the last end win. */
export function sessionRows(items: readonly SessionItem[]): SessionRow[] {
  const rows = new Map<string, SessionRow>();
  for (const { event, workspaceId } of items) {
    const id = event.data.cc_session_id;
    const row = rows.get(id) ?? { id, workspaceId, deviceId: event.device_id, start: null, end: null };
    if (event.type === 'session.start') {
      const d = event.data;
      row.start = { startedAt: event.timestamp, gitBranch: d.git_branch, model: d.model, source: d.source };
    } else {
      const d = event.data;
      row.end = { endedAt: event.timestamp, endReason: d.end_reason, durationMs: d.duration_ms };
    }
    rows.set(id, row);
  }
  return [...rows.values()];
}

/** Registered for both types: a batch's starts and ends are upserted by one statement. */
export const handleSessionEvents: EventHandler<'session.start' | 'session.end'> = ({ sql, items }) => upsertSessions(sql, sessionRows(items));
