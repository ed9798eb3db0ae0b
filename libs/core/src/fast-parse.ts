import { z } from 'zod/v4';
import {
  EVENT_TYPES,
  PAYLOAD_SCHEMAS,
  ULID_PATTERN,
  UNASSOCIATED_WORKSPACE,
  type BlobRef,
  type EventType,
  type FuelEvent,
  type SessionEndData,
  type SessionStartData,
} from './envelope';

/*
 * Hand-written checks that accept the common, valid event without zod. On the worker's hot
 * path zod cost about 2 µs per event plus the copies it makes for the garbage collector;
 * without it a 60k backlog drained about 12% faster (README, Performance).
 *
 * Each check accepts only what the zod schema in envelope.ts accepts, and returns the value
 * zod would return. Anything it does not accept goes to zod, which then gives the same value
 * or the error naming every field: so a check may be stricter than zod, never looser.
 * test/fast-parse.test.ts holds both to that over valid events and hundreds of broken ones.
 */

const TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);
/** The regex z.iso.datetime({ offset: true }) compiles: built by the same zod function. */
const ISO_DATETIME = z.core.regexes.datetime({ offset: true });
const START_SOURCES: ReadonlySet<string> = new Set(['startup', 'resume', 'clear', 'compact']);
const END_REASONS: ReadonlySet<string> = new Set(['exit', 'clear', 'logout', 'crash']);
const MAX_INT4 = 2_147_483_647;

type JsonObject = Record<string, unknown>;

/**
 * A plain object as JSON.parse makes them (from any realm: its prototype is an
 * Object.prototype, or null). zod's record drops a `__proto__` key, so leave that to zod.
 */
function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === null || Object.getPrototypeOf(proto) === null) && !Object.prototype.hasOwnProperty.call(value, '__proto__');
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function blobRefs(value: unknown): BlobRef[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return undefined;
  const refs: BlobRef[] = [];
  for (const ref of value) {
    if (!isPlainObject(ref)) return undefined;
    const { key, content_type, size_bytes } = ref;
    if (!isNonEmptyString(key) || !isNonEmptyString(content_type) || !isCount(size_bytes)) return undefined;
    // zod's object strips unknown keys.
    refs.push({ key, content_type, size_bytes });
  }
  return refs;
}

export function fastSessionStartData(data: JsonObject): SessionStartData | undefined {
  const ok =
    isNonEmptyString(data['cc_session_id']) &&
    isNonEmptyString(data['cwd']) &&
    isNullableString(data['git_branch']) &&
    isNullableString(data['git_remote']) &&
    isString(data['cc_version']) &&
    isNullableString(data['model']) &&
    isString(data['source']) &&
    START_SOURCES.has(data['source']) &&
    isString(data['transcript_path']);
  // The checks above are the schema's fields; a loose object keeps the others as they are.
  return ok ? (data as SessionStartData) : undefined;
}

export function fastSessionEndData(data: JsonObject): SessionEndData | undefined {
  const duration = data['duration_ms'];
  const ok =
    isNonEmptyString(data['cc_session_id']) &&
    isCount(duration) &&
    duration <= MAX_INT4 &&
    isString(data['end_reason']) &&
    END_REASONS.has(data['end_reason']) &&
    isString(data['transcript_path']);
  return ok ? (data as SessionEndData) : undefined;
}

const FAST_PAYLOAD_CHECKS: Partial<Record<EventType, (data: JsonObject) => unknown>> = {
  'session.start': fastSessionStartData,
  'session.end': fastSessionEndData,
};

/** The event envelopeSchema and its type's payload schema would return, or undefined: ask zod. */
export function fastParseEvent(input: unknown): FuelEvent | undefined {
  if (!isPlainObject(input)) return undefined;
  const { id, type, timestamp, device_id, workspace_id, session_id, data } = input;
  if (!isString(id) || !ULID_PATTERN.test(id)) return undefined;
  if (!isString(type) || !TYPES.has(type)) return undefined;
  if (!isString(timestamp) || !ISO_DATETIME.test(timestamp)) return undefined;
  if (!isNonEmptyString(device_id) || device_id.length > 200) return undefined;
  if (!isString(workspace_id) || !isNullableString(session_id) || !isPlainObject(data)) return undefined;
  // A type whose payload has a schema but no check here goes to zod.
  if (PAYLOAD_SCHEMAS[type as EventType] && !FAST_PAYLOAD_CHECKS[type as EventType]?.(data)) return undefined;
  const refs = blobRefs(input['blob_refs']);
  if (!refs) return undefined;
  return {
    id,
    type: type as EventType,
    timestamp,
    device_id,
    workspace_id: workspace_id === '' ? UNASSOCIATED_WORKSPACE : workspace_id,
    session_id,
    data,
    blob_refs: refs,
  };
}
