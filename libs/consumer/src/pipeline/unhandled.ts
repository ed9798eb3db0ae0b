import type { Logger } from 'pino';
import type { ProcessResult } from '@fuel-code/core';
import { notify, type ConsumerObserver, type UnhandledKind } from '../observer';
import type { ConsumerCounters } from '../stats';

/** Distinct unknown type names remembered for "log once"; past this each is logged again (bounded memory). */
const MAX_REMEMBERED_TYPES = 1000;

export interface UnhandledTallyDeps {
  logger: Logger;
  counters: ConsumerCounters;
  observer?: ConsumerObserver;
}

/**
 * Events stored without a handler run: a type this build does not know (logged once per type
 * per process: a newer client sends it on every heartbeat) and a known type whose payload
 * failed its schema (logged each time, with its id: it is in event_handler_failures to be
 * re-run after a fix). Both are counted, and told to the observer once per attempt and type.
 */
export function createUnhandledTally(deps: UnhandledTallyDeps) {
  const seenTypes = new Set<string>();
  const pending = new Map<string, { kind: UnhandledKind; type: string; count: number }>();

  function record(result: ProcessResult): void {
    const kind: UnhandledKind = result.payload === 'unknown-type' ? 'unknown-type' : 'payload-invalid';
    if (kind === 'unknown-type') {
      deps.counters.unknownTypes++;
      if (!seenTypes.has(result.type)) {
        if (seenTypes.size < MAX_REMEMBERED_TYPES) seenTypes.add(result.type);
        deps.logger.warn({ type: result.type }, `Events of unknown type ${result.type} are stored without a handler (logged once per type)`);
      }
    } else {
      deps.counters.payloadInvalid++;
      deps.logger.warn(
        { eventId: result.eventId, type: result.type },
        `Event ${result.eventId} (${result.type}) is stored, but its payload fails the schema: its handler did not run (see event_handler_failures)`,
      );
    }
    const key = `${kind}\u0000${result.type}`;
    const tally = pending.get(key);
    if (tally) tally.count++;
    else pending.set(key, { kind, type: result.type, count: 1 });
  }

  /** Tell the observer what was recorded since the last flush. */
  function flush(): void {
    for (const { kind, type, count } of pending.values()) notify(deps.observer, 'onUnhandled', deps.logger, kind, type, count);
    pending.clear();
  }

  return { record, flush };
}
