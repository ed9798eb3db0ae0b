import type { FuelEvent } from '../envelope';
import { eventSessionId } from '../event-session';
import type { LinkGuess } from '../git-link-guess';
import type { Db } from './types';

/**
 * A text[] parameter as its literal, when JSON.stringify writes one: for strings without a
 * quote, backslash or control character (ids, types, timestamps, names) a JSON array with
 * braces for brackets is the same literal postgres.js would build element by element, at
 * about half its cost. Any backslash in the JSON means such a character: the driver's way then.
 */
function textArray(values: (string | null)[]): string | (string | null)[] {
  const json = JSON.stringify(values);
  return json.includes('\\') ? values : `{${json.slice(1, -1)}}`;
}

/**
 * Insert the events whose ids are not stored yet, in one statement. Returns the ids that
 * were inserted; the others are duplicates (also within the batch: the first one wins).
 *
 * The columns travel as parallel arrays and the JSON columns as one JSON array each, joined
 * by position: cheaper than one jsonb array of whole rows, which Postgres must parse and
 * take apart again (the comparison is in docs/performance.md).
 * `data` lands as a jsonb object, never a string. Times travel as timestamptz[], so each is
 * parsed once (as text, the git link's probe cast it again on every use).
 *
 * A git event in `gitLinks` is stored with its link as this transaction sees it now (the
 * covering session of sql/git-activity.ts, among the committed sessions and the batch's own
 * candidate, see gitLinkGuesses), not the envelope's session_id: the git insert computes the
 * exact link later, under the lock, and updates only the rows where the two differ. Updating
 * every git event's row after its insert cost about as much as inserting its git row. The
 * guess is weighed against the probe's session in one expression, not a sorted union.
 */
export async function insertEvents(
  db: Db,
  events: readonly { event: FuelEvent; workspaceId: string }[],
  gitLinks: ReadonlyMap<string, LinkGuess | null> = new Map(),
): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const column = (pick: (e: FuelEvent) => string | null) => textArray(events.map(({ event }) => pick(event)));
  // One JSON.stringify of the whole array: no per-event string to join and collect.
  const jsonArray = (pick: (e: FuelEvent) => unknown) => JSON.stringify(events.map(({ event }) => pick(event)));
  const inserted = await db<{ id: string }[]>`
    INSERT INTO events (id, type, "timestamp", device_id, workspace_id, session_id, data, blob_refs)
    SELECT r.id, r.type, r.ts, r.device_id, r.workspace_id,
           CASE WHEN r.link THEN (
             SELECT CASE WHEN r.guess IS NOT NULL AND (s.id IS NULL OR (r.guess_at, r.guess) > (s.started_at, s.id)) THEN r.guess ELSE s.id END
             FROM (SELECT) one LEFT JOIN LATERAL (
               SELECT s.id, s.started_at FROM sessions s
               WHERE s.workspace_id = r.workspace_id AND s.device_id = r.device_id
                 AND s.started_at <= r.ts AND (s.ended_at IS NULL OR s.ended_at >= r.ts)
               ORDER BY s.started_at DESC, s.id DESC LIMIT 1) s ON true)
           ELSE r.session_id END,
           d.data, b.blob_refs
    FROM unnest(
        ${column((e) => e.id)}::text[], ${column((e) => e.type)}::text[], ${column((e) => e.timestamp)}::timestamptz[],
        ${column((e) => e.device_id)}::text[], ${textArray(events.map((e) => e.workspaceId))}::text[], ${column(eventSessionId)}::text[],
        ${column((e) => (gitLinks.has(e.id) ? 't' : 'f'))}::text[]::bool[],
        ${column((e) => gitLinks.get(e.id)?.sessionId ?? null)}::text[], ${column((e) => gitLinks.get(e.id)?.at ?? null)}::timestamptz[]
      ) WITH ORDINALITY AS r(id, type, ts, device_id, workspace_id, session_id, link, guess, guess_at, n)
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
