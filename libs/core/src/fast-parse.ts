import { z } from 'zod/v4';
import {
  canonicalWorkspaceId,
  EVENT_TYPE_PATTERN,
  isKnownType,
  MAX_EVENT_YEAR,
  MAX_ID_LENGTH,
  MIN_EVENT_YEAR,
  MAX_NAME_LENGTH,
  saneTimestampMs,
  takeDeviceHints,
  ULID_PATTERN,
  type BlobRef,
  type EventType,
  type FuelEvent,
  type JsonObject,
  type KnownEvent,
} from './envelope';
import { storabilityIssue } from './storable';

/*
 * Hand-written checks that accept the common, valid event without zod: on the worker's hot
 * path zod costs a few microseconds per event plus the copies it makes for the garbage
 * collector.
 *
 * Each check accepts only what the zod schemas in envelope.ts and payloads.ts accept, and
 * returns the value zod would return. Anything it does not accept goes to zod, which then
 * gives the same value or the error naming every field: so a check may be stricter than zod,
 * never looser. test/fast-parse.test.ts holds both to that over valid events and hundreds of
 * broken ones.
 */

/** The regex z.iso.datetime({ offset: true }) compiles: built by the same zod function. */
const ISO_DATETIME = z.core.regexes.datetime({ offset: true });
const MAX_INT4 = 2_147_483_647;

/**
 * A plain object as JSON.parse makes them (from any realm: its prototype is an
 * Object.prototype, or null). zod's record drops a `__proto__` key, so leave that to zod.
 */
function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === null || Object.getPrototypeOf(proto) === null) && !Object.prototype.hasOwnProperty.call(value, '__proto__');
}

type Check = (v: unknown) => boolean;
const isString: Check = (v) => typeof v === 'string';
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isInt4: Check = (v) => isCount(v) && v <= MAX_INT4;
const isId: Check = (v) => isNonEmptyString(v) && v.length <= MAX_ID_LENGTH;
const isCapped: Check = (v) => typeof v === 'string' && v.length <= MAX_ID_LENGTH;
const isName: Check = (v) => typeof v === 'string' && v.length <= MAX_NAME_LENGTH;
const isNonEmptyName: Check = (v) => isName(v) && (v as string).length > 0;
const isBool: Check = (v) => typeof v === 'boolean';
const oneOf = (...values: string[]): Check => {
  const set: ReadonlySet<unknown> = new Set(values);
  return (v) => set.has(v);
};
const isFileList: Check = (v) =>
  Array.isArray(v) && v.every((f) => isPlainObject(f) && isString(f['path']) && isString(f['status']));
const isStringArray: Check = (v) => Array.isArray(v) && v.every(isString);

/** A payload field: its check, and whether it may be absent. */
type Spec = Record<string, readonly [Check, 'required' | 'optional']>;
const R = (c: Check) => [c, 'required'] as const;
const O = (c: Check) => [c, 'optional'] as const;

/** The payload schemas of payloads.ts, field by field; null: any JSON object. */
const SPECS: Record<EventType, Spec | null> = {
  'session.start': {
    cc_session_id: R(isId), cwd: R(isNonEmptyString), git_branch: R(isNullableString), git_remote: R(isNullableString),
    cc_version: R(isNullableString), model: R(isNullableString),
    source: R(oneOf('startup', 'resume', 'clear', 'compact', 'backfill')), transcript_path: R(isString),
  },
  'session.end': {
    cc_session_id: R(isId), duration_ms: R(isInt4), end_reason: R(oneOf('exit', 'clear', 'logout', 'crash')),
    transcript_path: R(isString), cwd: O(isNullableString), git_branch: O(isNullableString),
    git_remote: O(isNullableString), model: O(isNullableString), cc_version: O(isNullableString),
  },
  'session.compact': { cc_session_id: R(isId), compact_sequence: R(isInt4), transcript_path: R(isString) },
  'git.commit': {
    hash: R(isString), message: R(isString), author_name: R(isString), author_email: O(isString), branch: R(isString),
    files_changed: R(isInt4), insertions: R(isInt4), deletions: R(isInt4), file_list: O(isFileList),
  },
  'git.push': { branch: R(isString), remote: R(isString), commit_count: R(isInt4), commits: O(isStringArray) },
  'git.checkout': { from_ref: R(isString), to_ref: R(isString), from_branch: R(isNullableString), to_branch: R(isNullableString) },
  'git.merge': {
    merge_commit: R(isString), message: R(isString), merged_branch: R(isString), into_branch: R(isString),
    files_changed: R(isInt4), had_conflicts: R(isBool),
  },
  'remote.provision.start': null,
  'remote.provision.ready': null,
  'remote.provision.error': null,
  'remote.terminate': null,
  'system.device.register': null,
  'system.hooks.installed': null,
  'system.heartbeat': null,
  'subagent.start': {
    session_id: R(isId), agent_id: R(isNonEmptyName), agent_type: R(isString), agent_name: O(isString), model: O(isString),
    team_name: O(isString), isolation: O(isString), run_in_background: O(isBool),
  },
  'subagent.stop': { session_id: R(isId), agent_id: R(isNonEmptyName), agent_type: R(isString), agent_transcript_path: O(isString) },
  'team.create': { session_id: R(isId), team_name: R(isName), description: O(isString) },
  'team.message': { session_id: R(isId), team_name: R(isName), message_type: R(isString), from: O(isString), to: O(isString) },
  'skill.invoke': { session_id: R(isId), skill_name: R(isString), args: O(isString), invoked_by: O(isString) },
  'worktree.create': { session_id: R(isId), worktree_name: O(isName), branch: O(isString) },
  'worktree.remove': { session_id: R(isId), worktree_name: O(isName), had_changes: O(isBool) },
};

/** Whether `data` passes the payload schema of `type` (which keeps extra keys as they are). */
export function fastPayloadCheck(type: EventType, data: JsonObject): boolean {
  const spec = SPECS[type];
  if (spec === null) return true;
  for (const field in spec) {
    const [check, presence] = spec[field] as Spec[string];
    const value = data[field];
    if (value === undefined ? presence === 'required' : !check(value)) return false;
  }
  return true;
}

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

/**
 * saneTimestampMs(t) !== undefined for a `t` that matched ISO_DATETIME. A UTC time ('Z') has
 * the UTC year it spells, read from its digits: Date.parse was the costliest check here.
 */
function saneTimestamp(t: string): boolean {
  if (t.charCodeAt(t.length - 1) !== 90 /* Z */) return saneTimestampMs(t) !== undefined;
  const year = (t.charCodeAt(0) - 48) * 1000 + (t.charCodeAt(1) - 48) * 100 + (t.charCodeAt(2) - 48) * 10 + (t.charCodeAt(3) - 48);
  return year >= MIN_EVENT_YEAR && year <= MAX_EVENT_YEAR;
}

/** The envelope's fields as fastParseEvent checked them, before the payload. */
interface CheckedEnvelope {
  id: string;
  type: string;
  timestamp: string;
  device_id: string;
  workspace_id: string;
  session_id: string | null;
  data: JsonObject;
  blob_refs: BlobRef[];
}

/**
 * Every check of the envelope (and of what PostgreSQL could store), or undefined: ask zod.
 * `storableText`: the input is JSON.parse of a text that storableJsonText passed, so
 * storabilityIssue has nothing to find.
 */
function checkEnvelope(input: unknown, storableText = false): CheckedEnvelope | undefined {
  if (!isPlainObject(input)) return undefined;
  const { id, type, timestamp, device_id, workspace_id, session_id, data, ingested_at } = input;
  if (!isString(id) || !ULID_PATTERN.test(id as string)) return undefined;
  if (!isString(type) || !EVENT_TYPE_PATTERN.test(type as string)) return undefined;
  if (!isString(timestamp) || !ISO_DATETIME.test(timestamp as string) || !saneTimestamp(timestamp as string)) return undefined;
  if (!isNonEmptyString(device_id) || device_id.length > 200) return undefined;
  if (!isCapped(workspace_id) || !isPlainObject(data)) return undefined;
  if (!(session_id === null || (isCapped(session_id) && session_id !== ''))) return undefined;
  if (!(ingested_at === undefined || isNullableString(ingested_at))) return undefined;
  const refs = blobRefs(input['blob_refs']);
  if (!refs) return undefined;
  const checked: CheckedEnvelope = {
    id: id as string, type: type as string, timestamp: timestamp as string, device_id, workspace_id: canonicalWorkspaceId(workspace_id as string),
    session_id: session_id as string | null, data, blob_refs: refs,
  };
  return storableText || storabilityIssue(checked) === undefined ? checked : undefined;
}

/**
 * True when parseEvent(input) is surely ok (an event, whatever its payload's outcome); false:
 * ask parseEvent. For a caller that only decides accept or reject, as the API does: the payload
 * check and the event's assembly are skipped.
 */
export function fastEnvelopeOk(input: unknown): input is { readonly id: string } {
  return checkEnvelope(input) !== undefined;
}

/** The event parseEventWithZod would return, or undefined: ask zod. `storableText`: see checkEnvelope. */
export function fastParseEvent(input: unknown, storableText = false): FuelEvent | undefined {
  const e = checkEnvelope(input, storableText);
  if (!e) return undefined;
  const hints = takeDeviceHints(e.data);
  // Each outcome is one object literal, not spreads of a shared base: V8 copies a spread
  // object through a slow generic path, which cost more than every check above together.
  if (!isKnownType(e.type)) {
    return {
      id: e.id, timestamp: e.timestamp, device_id: e.device_id, workspace_id: e.workspace_id, session_id: e.session_id,
      blob_refs: e.blob_refs, device_name: hints.device_name, device_type: hints.device_type,
      type: e.type, data: hints.data, payload: 'unknown-type', payloadError: null,
    };
  }
  // A payload its schema refuses goes to zod, which words the error.
  if (!fastPayloadCheck(e.type as EventType, hints.data)) return undefined;
  return {
    id: e.id, timestamp: e.timestamp, device_id: e.device_id, workspace_id: e.workspace_id, session_id: e.session_id,
    blob_refs: e.blob_refs, device_name: hints.device_name, device_type: hints.device_type,
    type: e.type, data: hints.data, payload: 'valid',
  } as KnownEvent;
}
