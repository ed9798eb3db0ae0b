import type { JSONValue } from 'postgres';
import type { FuelEvent } from '../envelope';
import type { Db } from './types';

/**
 * Insert the event unless its id is already stored. Returns false for a duplicate.
 * `data` goes through sql.json so it lands as a jsonb object, not a JSON string.
 */
export async function insertEvent(db: Db, event: FuelEvent, workspaceId: string): Promise<boolean> {
  const rows = await db`
    INSERT INTO events (id, type, "timestamp", device_id, workspace_id, session_id, data, blob_refs)
    VALUES (
      ${event.id}, ${event.type}, ${event.timestamp}, ${event.device_id}, ${workspaceId},
      ${event.session_id}, ${db.json(event.data as JSONValue)}, ${db.json(event.blob_refs as JSONValue)}
    )
    ON CONFLICT (id) DO NOTHING
    RETURNING id`;
  return rows.length === 1;
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
