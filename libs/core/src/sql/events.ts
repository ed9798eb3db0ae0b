import { rowsParam } from './batch-rows';
import type { FuelEvent } from '../envelope';
import type { Db } from './types';

/**
 * Insert the events whose ids are not stored yet, in one statement. Returns the ids that
 * were inserted; the others are duplicates (also within the batch: the first one wins).
 * `data` travels inside the jsonb parameter, so it lands as a jsonb object, never a string.
 */
export async function insertEvents(
  db: Db,
  events: readonly { event: FuelEvent; workspaceId: string }[],
): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const rows = events.map(({ event, workspaceId }) => ({
    id: event.id,
    type: event.type,
    ts: event.timestamp,
    device_id: event.device_id,
    workspace_id: workspaceId,
    session_id: event.session_id,
    data: event.data,
    blob_refs: event.blob_refs,
  }));
  const inserted = await db<{ id: string }[]>`
    INSERT INTO events (id, type, "timestamp", device_id, workspace_id, session_id, data, blob_refs)
    SELECT r.id, r.type, r.ts::timestamptz, r.device_id, r.workspace_id, r.session_id, r.data, r.blob_refs
    FROM jsonb_to_recordset(${rowsParam(db, rows)}::jsonb)
      AS r(id text, type text, ts text, device_id text, workspace_id text, session_id text, data jsonb, blob_refs jsonb)
    ON CONFLICT (id) DO NOTHING
    RETURNING id`;
  return new Set(inserted.map((r) => r.id));
}

export async function recordHandlerFailure(
  db: Db,
  failure: { eventId: string; eventType: string; errorCode: string | undefined; message: string },
): Promise<void> {
  await db`
    INSERT INTO event_handler_failures (event_id, event_type, error_code, error_message)
    VALUES (${failure.eventId}, ${failure.eventType}, ${failure.errorCode ?? null}, ${failure.message})
    ON CONFLICT (event_id) DO UPDATE SET
      error_code = EXCLUDED.error_code,
      error_message = EXCLUDED.error_message,
      failed_at = now()`;
}
