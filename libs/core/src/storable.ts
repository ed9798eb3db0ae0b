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

function badString(s: string): string | undefined {
  if (s.includes('\u0000')) return 'must not contain U+0000 (PostgreSQL cannot store it)';
  if (LONE_SURROGATE.test(s)) return 'must not contain a lone UTF-16 surrogate (PostgreSQL cannot store it)';
  return undefined;
}

function walk(value: unknown, path: string, depth: number): ValidationIssue | undefined {
  if (typeof value === 'string') {
    const rule = badString(value);
    return rule ? { field: path, rule } : undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth > MAX_DATA_DEPTH) return { field: path, rule: `must not nest deeper than ${MAX_DATA_DEPTH} levels` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const issue = walk(value[i], `${path}.${i}`, depth + 1);
      if (issue) return issue;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const keyRule = badString(key);
    if (keyRule) return { field: `${path}.${key}`, rule: `key ${keyRule}` };
    const issue = walk((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
    if (issue) return issue;
  }
  return undefined;
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
  return walk(event.data, 'data', 1) ?? walk(event.blob_refs, 'blob_refs', 1);
}
