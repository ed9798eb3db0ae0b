import type { ValidationIssue } from './errors';

/**
 * What PostgreSQL could never store, found before an event is accepted: a 202 promises the
 * event will be stored, so anything that would make its INSERT fail for good is refused up
 * front, with the field that breaks it.
 *  - text and jsonb refuse U+0000, and jsonb refuses a lone UTF-16 surrogate (an unpaired
 *    `\ud800` escape in the JSON);
 *  - nesting deeper than MAX_DATA_DEPTH: no real payload is that deep, and every recursive
 *    walk over it (ours, the driver's, jsonb's) costs stack.
 */
export const MAX_DATA_DEPTH = 64;

/** With the u flag a surrogate pair is one code point, so this matches only a lone half. */
const LONE_SURROGATE = /\p{Cs}/u;

/** A string text/jsonb can hold: no NUL, no lone surrogate. */
export function isStorableString(s: string): boolean {
  return !LONE_SURROGATE.test(s) && !s.includes('\u0000');
}

/**
 * Either PostgreSQL-refused character: one scan without the u flag (a surrogate pair matches
 * too), so the common clean string costs one cheap test and only a hit runs the exact checks.
 */
// eslint-disable-next-line no-control-regex -- U+0000 is one of the characters looked for
const SUSPECT = /[\u0000\uD800-\uDFFF]/;

function badString(s: string): string | undefined {
  if (!SUSPECT.test(s)) return undefined;
  if (s.includes('\u0000')) return 'must not contain U+0000 (PostgreSQL cannot store it)';
  if (LONE_SURROGATE.test(s)) return 'must not contain a lone UTF-16 surrogate (PostgreSQL cannot store it)';
  return undefined;
}

/**
 * Whether every value JSON.parse makes of `json` passes storabilityIssue's string and depth
 * checks, told from the text alone (for a text JSON.parse accepts, so with no raw U+0000):
 * U+0000 and lone surrogates can only get into the parsed strings through a `\u` escape or,
 * surrogates, as themselves in a text that is not all ASCII; nesting deeper than
 * MAX_DATA_DEPTH needs more brackets than that. False means "walk the value", not "refused".
 * Cheaper than the walk for the common event: no escapes, ASCII, a few brackets.
 */
export function storableJsonText(json: string): boolean {
  if (json.includes('\\u')) return false;
  if (Buffer.byteLength(json, 'utf8') !== json.length && LONE_SURROGATE.test(json)) return false;
  let brackets = 0;
  for (let i = json.indexOf('{'); i !== -1 && brackets <= MAX_DATA_DEPTH; i = json.indexOf('{', i + 1)) brackets++;
  for (let i = json.indexOf('['); i !== -1 && brackets <= MAX_DATA_DEPTH; i = json.indexOf('[', i + 1)) brackets++;
  return brackets <= MAX_DATA_DEPTH;
}

/** What is wrong at the end of `trail` (keys and indexes, innermost last, built only on a find). */
interface Found {
  trail: string[];
  rule: string;
}

/*
 * The path of a find is put together on the way out, so a clean value (nearly all of them)
 * walks without building a path string for every key and index it passes.
 */
function walk(value: unknown, depth: number): Found | undefined {
  if (typeof value === 'string') {
    const rule = badString(value);
    return rule ? { trail: [], rule } : undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth > MAX_DATA_DEPTH) return { trail: [], rule: `must not nest deeper than ${MAX_DATA_DEPTH} levels` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const issue = walk(value[i], depth + 1);
      if (issue) {
        issue.trail.push(String(i));
        return issue;
      }
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const keyRule = badString(key);
    if (keyRule) return { trail: [key], rule: `key ${keyRule}` };
    const issue = walk((value as Record<string, unknown>)[key], depth + 1);
    if (issue) {
      issue.trail.push(key);
      return issue;
    }
  }
  return undefined;
}

function issueAt(root: string, value: unknown): ValidationIssue | undefined {
  const issue = walk(value, 1);
  return issue && { field: [root, ...issue.trail.reverse()].join('.'), rule: issue.rule };
}

/** The first thing in the event PostgreSQL could not store, or undefined. */
export function storabilityIssue(event: {
  type: string;
  device_id: string;
  workspace_id: string;
  session_id: string | null;
  data: Record<string, unknown>;
  blob_refs: readonly unknown[];
}): ValidationIssue | undefined {
  for (const field of ['type', 'device_id', 'workspace_id', 'session_id'] as const) {
    const value = event[field];
    const rule = value === null ? undefined : badString(value);
    if (rule) return { field, rule };
  }
  return issueAt('data', event.data) ?? issueAt('blob_refs', event.blob_refs);
}
