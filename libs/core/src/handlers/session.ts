import { sessionEndDataSchema, sessionStartDataSchema } from '../envelope';
import { fastSessionEndData, fastSessionStartData } from '../fast-parse';
import type { BatchEventHandler, EventHandler, HandlerItem } from '../registry';
import { upsertSessions, type SessionRow } from '../sql/sessions';

/** One row per session of the items, in stream order: the last start and the last end win. */
export function sessionRows(items: readonly HandlerItem[]): SessionRow[] {
  const rows = new Map<string, SessionRow>();
  for (const { event, workspaceId } of items) {
    const start = event.type === 'session.start' ? (fastSessionStartData(event.data) ?? sessionStartDataSchema.parse(event.data)) : undefined;
    const end = event.type === 'session.end' ? (fastSessionEndData(event.data) ?? sessionEndDataSchema.parse(event.data)) : undefined;
    const id = start?.cc_session_id ?? end?.cc_session_id;
    if (id === undefined) continue;
    const row = rows.get(id) ?? { id, workspaceId, deviceId: event.device_id, start: null, end: null };
    if (start) row.start = { startedAt: event.timestamp, gitBranch: start.git_branch, model: start.model, source: start.source };
    if (end) row.end = { endedAt: event.timestamp, endReason: end.end_reason, durationMs: end.duration_ms };
    rows.set(id, row);
  }
  return [...rows.values()];
}

const handleOne: EventHandler = ({ sql, ...item }) => upsertSessions(sql, sessionRows([item]));

export const handleSessionStart: EventHandler = handleOne;
export const handleSessionEnd: EventHandler = handleOne;
/** Registered as the batch handler of both types: a batch's starts and ends in one statement. */
export const handleSessionEvents: BatchEventHandler = ({ sql, items }) => upsertSessions(sql, sessionRows(items));
