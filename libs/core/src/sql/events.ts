import type { FuelEvent } from '../envelope';
import { eventSessionId } from '../event-session';
import type { Db } from './types';

/**
 * Insert the events whose ids are not stored yet, in one statement. Returns the ids that
 * were inserted; the others are duplicates (also within the batch: the first one wins).
 *
 * The columns travel as parallel arrays and the JSON columns as one JSON array each, joined
 * by position: measured here, that is about twice as fast as one jsonb array of whole rows,
 * which Postgres must parse and take apart again (see the README's Performance section).
 * `data` lands as a jsonb object, never a string.
 */
export async function insertEvents(
  db: Db,
  events: readonly { event: FuelEvent; workspaceId: string }[],
): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const column = <T>(pick: (e: FuelEvent) => T) => events.map(({ event }) => pick(event));
  // One JSON.stringify of the whole array: no per-event string to join and collect.
  const jsonArray = (pick: (e: FuelEvent) => unknown) => JSON.stringify(events.map(({ event }) => pick(event)));
  const inserted = await db<{ id: string }[]>`
    INSERT INTO events (id, type, "timestamp", device_id, workspace_id, session_id, data, blob_refs)
    SELECT r.id, r.type, r.ts::timestamptz, r.device_id, r.workspace_id, r.session_id, d.data, b.blob_refs
    FROM unnest(
        ${column((e) => e.id)}::text[], ${column((e) => e.type)}::text[], ${column((e) => e.timestamp)}::text[],
        ${column((e) => e.device_id)}::text[], ${events.map((e) => e.workspaceId)}::text[], ${column(eventSessionId)}::text[]
      ) WITH ORDINALITY AS r(id, type, ts, device_id, workspace_id, session_id, n)
      JOIN jsonb_array_elements(${jsonArray((e) => e.data)}::text::jsonb) WITH ORDINALITY AS d(data, n) USING (n)
      JOIN jsonb_array_elements(${jsonArray((e) => e.blob_refs)}::text::jsonb) WITH ORDINALITY AS b(blob_refs, n) USING (n)
    ORDER BY r.n
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

/** Known types whose payload failed its schema: stored, not handled, and recorded here to re-run after a fix. */
export async function recordPayloadFailures(db: Db, events: readonly FuelEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db`
    INSERT INTO event_handler_failures (event_id, event_type, error_code, error_message)
    SELECT * FROM unnest(
      ${events.map((e) => e.id)}::text[], ${events.map((e) => e.type)}::text[],
      ${events.map(() => 'PAYLOAD_INVALID')}::text[], ${events.map((e) => (e.payload === 'invalid' ? e.payloadError : null) ?? 'payload invalid')}::text[])
    ORDER BY 1
    ON CONFLICT (event_id) DO UPDATE SET
      error_code = EXCLUDED.error_code,
      error_message = EXCLUDED.error_message,
      failed_at = now()`;
}
