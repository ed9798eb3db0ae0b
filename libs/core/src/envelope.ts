import { z } from 'zod/v4';
import { EVENT_TYPES, MAX_ID_LENGTH, type EventType, type PayloadOf } from './payloads';

export * from './payloads';

export const UNASSOCIATED_WORKSPACE = '_unassociated';

export const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * What a well-formed type name looks like. A type we do not know is still stored (a newer
 * client must never lose events to an older server), but it has to be a name, not any text.
 */
export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,99}$/;

/** Years outside this range are a client's clock or encoder gone wrong, not an event time. */
export const MIN_EVENT_YEAR = 1970;
export const MAX_EVENT_YEAR = 9999;

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);
export const isKnownType = (type: string): type is EventType => KNOWN_TYPES.has(type);

/** A JSON object: not an array, not null. */
export type JsonObject = Record<string, unknown>;
const jsonObject = z.record(z.string(), z.unknown());

export const blobRefSchema = z.object({
  key: z.string().min(1),
  content_type: z.string().min(1),
  size_bytes: z.number().int().nonnegative(),
});

export type BlobRef = z.infer<typeof blobRefSchema>;

/** Whitespace-only or empty means "no workspace" (docs/contract.md §1). */
export function canonicalWorkspaceId(value: string): string {
  return value.trim() === '' ? UNASSOCIATED_WORKSPACE : value;
}

const deviceHint = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value : null);

/**
 * `data` without the device hints the client rides in it (`_device_name`, `_device_type`), and
 * the hints: a non-empty string, else none. Copied key by key rather than by rest
 * destructuring, whose generic copy with excluded keys is slow on the hot path.
 */
export function takeDeviceHints(data: JsonObject): { data: JsonObject; device_name: string | null; device_type: string | null } {
  if (!('_device_name' in data) && !('_device_type' in data)) return { data, device_name: null, device_type: null };
  const rest: JsonObject = {};
  for (const key of Object.keys(data)) {
    if (key !== '_device_name' && key !== '_device_type') rest[key] = data[key];
  }
  return { data: rest, device_name: deviceHint(data['_device_name']), device_type: deviceHint(data['_device_type']) };
}

const EARLIEST_SANE_MS = Date.UTC(MIN_EVENT_YEAR, 0, 1);
const AFTER_LATEST_SANE_MS = Date.UTC(MAX_EVENT_YEAR + 1, 0, 1);

/** Milliseconds of an ISO timestamp when its UTC year is within the sane range, else undefined. */
export function saneTimestampMs(timestamp: string): number | undefined {
  const ms = Date.parse(timestamp);
  // The year's bounds as instants: no Date object per call. NaN fails both.
  return ms >= EARLIEST_SANE_MS && ms < AFTER_LATEST_SANE_MS ? ms : undefined;
}

/**
 * The envelope as sent. `ingested_at` (set by some producers) and a queued file's
 * `_attempts` are accepted and not stored; other unknown top-level fields are dropped too.
 */
export const envelopeSchema = z.object({
  id: z.string().regex(ULID_PATTERN, { error: 'must be a ULID: 26 chars of Crockford base32' }),
  type: z.string().regex(EVENT_TYPE_PATTERN, { error: 'must be an event type name: 1-100 chars of letters, digits and _ . : -' }),
  timestamp: z.iso
    .datetime({ offset: true, error: 'must be ISO-8601 with an offset' })
    .refine((t) => saneTimestampMs(t) !== undefined, { error: `must be in the years ${MIN_EVENT_YEAR} to ${MAX_EVENT_YEAR}` }),
  device_id: z.string().min(1).max(200),
  workspace_id: z.string().max(MAX_ID_LENGTH).transform(canonicalWorkspaceId),
  // '' is how some producers say "no session".
  session_id: z.string().max(MAX_ID_LENGTH).nullable().transform((s) => (s === '' ? null : s)),
  data: jsonObject,
  blob_refs: z.array(blobRefSchema).default([]),
  ingested_at: z.string().nullable().optional(),
});

/** What a producer sends before validation fills defaults (blob_refs may be omitted). */
export type FuelEventInput = z.input<typeof envelopeSchema>;

/** The envelope fields every event has once parsed. */
export interface EnvelopeFields {
  id: string;
  timestamp: string;
  device_id: string;
  workspace_id: string;
  /** As sent; see eventSessionId for the session an event is stored under. */
  session_id: string | null;
  blob_refs: BlobRef[];
  /** `data._device_name` / `data._device_type`, taken out of the stored data. */
  device_name: string | null;
  device_type: string | null;
}

/** A known type whose payload passed its schema: `data` is typed by `type`. */
export type KnownEvent = KnownEventOfType[EventType];
type KnownEventOfType = {
  [T in EventType]: EnvelopeFields & { type: T; data: PayloadOf<T>; payload: 'valid' };
};

/**
 * A sound envelope whose payload no handler can take: a type this build does not know, or a
 * known type whose payload fails its schema (`payloadError` says how). Stored all the same.
 */
export interface UnhandledEvent extends EnvelopeFields {
  type: string;
  data: JsonObject;
  payload: 'unknown-type' | 'invalid';
  payloadError: string | null;
}

/** A validated event, as every consumer of the pipeline sees it. */
export type FuelEvent = KnownEvent | UnhandledEvent;

/** The event of type T, narrowed: `data` is T's payload. */
export type EventOf<T extends EventType> = KnownEventOfType[T];
