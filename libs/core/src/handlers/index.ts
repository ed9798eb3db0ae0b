import { createHandlerRegistry, type HandlerRegistry } from '../registry';
import { handleSessionEvents } from './session';

/** The registry the worker runs with. Types without a handler are only persisted. */
export function createDefaultRegistry(): HandlerRegistry {
  return createHandlerRegistry({
    // One handler for both: a batch's starts and ends are upserted by one statement.
    'session.start': handleSessionEvents,
    'session.end': handleSessionEvents,
  });
}

export { handleSessionEvents };
