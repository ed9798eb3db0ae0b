import { createHandlerRegistry, type HandlerRegistry } from '../registry';
import { handleSessionEnd, handleSessionEvents, handleSessionStart } from './session';

/** The registry the worker runs with. Types without a handler are only persisted. */
export function createDefaultRegistry(): HandlerRegistry {
  const registry = createHandlerRegistry();
  // One batch handler for both: a batch's starts and ends are upserted by one statement.
  registry.register('session.start', handleSessionStart, { batch: handleSessionEvents });
  registry.register('session.end', handleSessionEnd, { batch: handleSessionEvents });
  return registry;
}

export { handleSessionEnd, handleSessionEvents, handleSessionStart };
