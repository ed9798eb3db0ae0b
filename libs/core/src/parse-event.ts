import type { z } from 'zod/v4';
import {
  envelopeSchema,
  isKnownType,
  PAYLOAD_SCHEMAS,
  type EnvelopeFields,
  type FuelEvent,
  type KnownEvent,
  takeDeviceHints,
} from './envelope';
import { InvalidEventError, type ValidationIssue } from './errors';
import { fastParseEvent } from './fast-parse';
import { storabilityIssue, storableJsonText } from './storable';

export type ParseResult =
  | { ok: true; event: FuelEvent }
  | { ok: false; error: InvalidEventError };

function toIssue(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[] = []): ValidationIssue {
  const field = [...prefix, ...issue.path].map(String).join('.');
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
    return { field, rule: `is required (${issue.expected})` };
  }
  return { field, rule: issue.message };
}

/**
 * Validate an unknown value as an event envelope: a sound envelope is an event, whatever its
 * payload. The payload is then checked against its type's schema, and the outcome is part of
 * the event (`payload`): 'valid' (handlers run), 'invalid' (stored, recorded as a handler
 * failure) or 'unknown-type' (stored only). Never throws: a bad envelope comes back as an
 * InvalidEventError naming each field and the rule it broke. The common valid event is
 * accepted by the hand-written checks of fast-parse.ts, which return what zod would.
 */
export function parseEvent(input: unknown): ParseResult {
  return parseChecked(input, false);
}

function parseChecked(input: unknown, storableText: boolean): ParseResult {
  const fast = fastParseEvent(input, storableText);
  return fast ? { ok: true, event: fast } : parseEventWithZod(input);
}

/** parseEvent by the zod schemas alone. Exported for the test that holds fast-parse.ts to it. */
export function parseEventWithZod(input: unknown): ParseResult {
  const envelope = envelopeSchema.safeParse(input);
  if (!envelope.success) {
    return { ok: false, error: new InvalidEventError(envelope.error.issues.map((i) => toIssue(i))) };
  }
  const issue = storabilityIssue(envelope.data);
  if (issue) return { ok: false, error: new InvalidEventError([issue]) };
  const { id, type, timestamp, device_id, workspace_id, session_id, blob_refs } = envelope.data;
  const { data, device_name, device_type } = takeDeviceHints(envelope.data.data);
  const base: EnvelopeFields = { id, timestamp, device_id, workspace_id, session_id, blob_refs, device_name, device_type };
  if (!isKnownType(type)) return { ok: true, event: { ...base, type, data, payload: 'unknown-type', payloadError: null } };
  const payload = PAYLOAD_SCHEMAS[type].safeParse(data);
  if (!payload.success) {
    const payloadError = new InvalidEventError(payload.error.issues.map((i) => toIssue(i, ['data']))).message;
    return { ok: true, event: { ...base, type, data, payload: 'invalid', payloadError } };
  }
  // The schema of `type` accepted the data, so this is the KnownEvent of that type.
  return { ok: true, event: { ...base, type, data: payload.data, payload: 'valid' } as KnownEvent };
}

/** parseEvent for raw stream bytes: JSON that does not parse is an invalid event too. */
export function parseEventJson(raw: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { ok: false, error: new InvalidEventError([{ field: '', rule: `not valid JSON (${reason})` }]) };
  }
  return parseChecked(value, storableJsonText(raw));
}

/** A JSON-encoded field of a fields-format entry: '' or absent is null. */
function decodeJsonField(fields: Readonly<Record<string, string>>, name: string): { ok: true; value: unknown } | { ok: false; error: InvalidEventError } {
  const raw = fields[name];
  if (raw === undefined || raw === '') return { ok: true, value: null };
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { ok: false, error: new InvalidEventError([{ field: name, rule: `not valid JSON (${reason})` }]) };
  }
}

/**
 * parseEvent for an entry in the fuel-code server's stream format: one field per envelope
 * key, `data` and `blob_refs` as JSON, '' meaning null (docs/contract.md §2).
 */
export function parseEventFields(fields: Readonly<Record<string, string>>): ParseResult {
  const data = decodeJsonField(fields, 'data');
  if (!data.ok) return data;
  const refs = decodeJsonField(fields, 'blob_refs');
  if (!refs.ok) return refs;
  const nullable = (name: string) => (fields[name] === undefined || fields[name] === '' ? null : fields[name]);
  return parseEvent({
    id: fields['id'],
    type: fields['type'],
    timestamp: fields['timestamp'],
    device_id: fields['device_id'],
    workspace_id: fields['workspace_id'] ?? '',
    session_id: nullable('session_id'),
    data: data.value,
    ...(refs.value === null ? {} : { blob_refs: refs.value }),
    ingested_at: nullable('ingested_at'),
  });
}
