import { createHandlerRegistry, type HandlerRegistry } from '../registry';
import { handleSessionEnd, handleSessionEnds, handleSessionStart, handleSessionStarts } from './session';

/** The registry the worker runs with. Types without a handler are only persisted. */
export function createDefaultRegistry(): HandlerRegistry {
  const registry = createHandlerRegistry();
  registry.register('session.start', handleSessionStart, { batch: handleSessionStarts });
  registry.register('session.end', handleSessionEnd, { batch: handleSessionEnds });
  return registry;
}

export { handleSessionEnd, handleSessionEnds, handleSessionStart, handleSessionStarts };
