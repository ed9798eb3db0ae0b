import { sessionEndDataSchema, sessionStartDataSchema } from '../envelope';
import { fastSessionEndData, fastSessionStartData } from '../fast-parse';
import type { BatchEventHandler, EventHandler, HandlerItem } from '../registry';
import { upsertSessionEnds, upsertSessionStarts, type SessionEndRow, type SessionStartRow } from '../sql/sessions';

function startRow({ event, workspaceId }: HandlerItem): SessionStartRow {
  const data = fastSessionStartData(event.data) ?? sessionStartDataSchema.parse(event.data);
  return {
    id: data.cc_session_id,
    workspaceId,
    deviceId: event.device_id,
    startedAt: event.timestamp,
    gitBranch: data.git_branch,
    model: data.model,
    source: data.source,
  };
}

function endRow({ event, workspaceId }: HandlerItem): SessionEndRow {
  const data = fastSessionEndData(event.data) ?? sessionEndDataSchema.parse(event.data);
  return {
    id: data.cc_session_id,
    workspaceId,
    deviceId: event.device_id,
    endedAt: event.timestamp,
    endReason: data.end_reason,
    durationMs: data.duration_ms,
  };
}

export const handleSessionStart: EventHandler = ({ sql, ...item }) => upsertSessionStarts(sql, [startRow(item)]);
export const handleSessionStarts: BatchEventHandler = ({ sql, items }) => upsertSessionStarts(sql, items.map(startRow));

export const handleSessionEnd: EventHandler = ({ sql, ...item }) => upsertSessionEnds(sql, [endRow(item)]);
export const handleSessionEnds: BatchEventHandler = ({ sql, items }) => upsertSessionEnds(sql, items.map(endRow));
