import type { z } from 'zod/v4';
import { envelopeSchema, PAYLOAD_SCHEMAS, type FuelEvent } from './envelope';
import { InvalidEventError, type ValidationIssue } from './errors';
import { fastParseEvent } from './fast-parse';

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
 * Validate an unknown value as an event envelope, then its payload against the schema of
 * its type. Never throws: bad input comes back as an InvalidEventError naming each field
 * and the rule it broke. The common valid event is accepted by the hand-written checks of
 * fast-parse.ts, which return what zod would; everything else goes through zod.
 */
export function parseEvent(input: unknown): ParseResult {
  const fast = fastParseEvent(input);
  return fast ? { ok: true, event: fast } : parseEventWithZod(input);
}

/** parseEvent by the zod schemas alone. Exported for the test that holds fast-parse.ts to it. */
export function parseEventWithZod(input: unknown): ParseResult {
  const envelope = envelopeSchema.safeParse(input);
  if (!envelope.success) {
    return { ok: false, error: new InvalidEventError(envelope.error.issues.map((i) => toIssue(i))) };
  }
  const payloadSchema = PAYLOAD_SCHEMAS[envelope.data.type];
  if (payloadSchema) {
    const payload = payloadSchema.safeParse(envelope.data.data);
    if (!payload.success) {
      return {
        ok: false,
        error: new InvalidEventError(payload.error.issues.map((i) => toIssue(i, ['data']))),
      };
    }
    return { ok: true, event: { ...envelope.data, data: payload.data } };
  }
  return { ok: true, event: envelope.data };
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
  return parseEvent(value);
}
