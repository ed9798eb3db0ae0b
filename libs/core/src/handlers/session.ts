import { sessionEndDataSchema, sessionStartDataSchema } from '../envelope';
import type { EventHandler } from '../registry';
import { upsertSessionEnd, upsertSessionStart } from '../sql/sessions';

export const handleSessionStart: EventHandler = async ({ sql, event, workspaceId }) => {
  const data = sessionStartDataSchema.parse(event.data);
  await upsertSessionStart(sql, {
    id: data.cc_session_id,
    workspaceId,
    deviceId: event.device_id,
    startedAt: event.timestamp,
    gitBranch: data.git_branch,
    model: data.model,
    source: data.source,
  });
};

export const handleSessionEnd: EventHandler = async ({ sql, event, workspaceId }) => {
  const data = sessionEndDataSchema.parse(event.data);
  await upsertSessionEnd(sql, {
    id: data.cc_session_id,
    workspaceId,
    deviceId: event.device_id,
    endedAt: event.timestamp,
    endReason: data.end_reason,
    durationMs: data.duration_ms,
  });
};
