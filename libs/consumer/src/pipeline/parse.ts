import type { Logger } from 'pino';
import { InvalidEventError, parseEventFields, parseEventJson, type ParseResult } from '@fuel-code/core';
import { entryBody, type StreamEntry } from '@fuel-code/stream';
import type { EntryOutcomes, HandleEntries } from '../port';
import type { WriteDeadLetter } from './dead-letters';
import type { EventDelivery, HandleEvents } from './types';

/** An entry as an event, in either stream format (docs/contract.md §2), or why it is not one. */
export function parseEntry(entry: StreamEntry): ParseResult {
  if (entry.deleted) {
    return { ok: false, error: new InvalidEventError([{ field: '', rule: 'entry was deleted from the stream before it was processed' }]) };
  }
  const body = entryBody(entry);
  if (body.format === 'event') return parseEventJson(body.json.toString('utf8'));
  if (body.format === 'fields') return parseEventFields(body.fields);
  return {
    ok: false,
    error: new InvalidEventError([{ field: 'event', rule: 'stream entry has neither an `event` field nor the fields format (`id`, `type`, …)' }]),
  };
}

export interface ParseEntriesDeps {
  writeDeadLetter: WriteDeadLetter;
  logger: Logger;
}

/**
 * The outermost step: entries become events. Invalid input is dead-lettered at once (reason
 * `invalid`, never retried: it will not get better) and acknowledged; the valid events go on
 * together to `next`, which must settle every one of them.
 */
export function parseEntries(deps: ParseEntriesDeps): (next: HandleEvents) => HandleEntries {
  return (next) => async (batch, signal) => {
    const valid: EventDelivery[] = [];
    const outcomes: EntryOutcomes = new Map();
    for (const { entry, delivery } of batch) {
      const parsed = parseEntry(entry);
      if (parsed.ok) {
        valid.push({ entry, delivery, event: parsed.event });
        continue;
      }
      deps.logger.warn({ streamId: entry.id, err: parsed.error }, `Invalid stream entry ${entry.id} dead-lettered: ${parsed.error.message}`);
      await deps.writeDeadLetter(entry, { reason: 'invalid', error: parsed.error.message, attempts: delivery }, undefined, signal);
      outcomes.set(entry.id, 'ack');
    }
    if (valid.length === 0) return outcomes;
    for (const [id, outcome] of await next(valid, signal)) outcomes.set(id, outcome);
    return outcomes;
  };
}
