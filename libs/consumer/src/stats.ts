/** Running totals since the consumer started. */
export interface ConsumerCounters {
  processed: number;
  duplicates: number;
  /** Processing attempts that failed (each retry that fails counts). */
  errors: number;
  deadLettered: { invalid: number; failed: number };
  handlerFailures: number;
  /** New events of a type this build does not know: stored, no handler. */
  unknownTypes: number;
  /** New events of a known type whose payload failed its schema: stored, recorded, no handler. */
  payloadInvalid: number;
}

export function createCounters(): ConsumerCounters {
  return { processed: 0, duplicates: 0, errors: 0, deadLettered: { invalid: 0, failed: 0 }, handlerFailures: 0, unknownTypes: 0, payloadInvalid: 0 };
}

export function statsMessage(c: ConsumerCounters, pending: number | string): string {
  return `Consumer stats: ${c.processed} processed, ${c.duplicates} duplicates, ${c.errors} errors, ${pending} pending`;
}
