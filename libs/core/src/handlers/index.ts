import { createHandlerRegistry, type HandlerRegistry } from '../registry';
import { handleSessionEnd, handleSessionStart } from './session';

/** The registry the worker runs with. Types without a handler are only persisted. */
export function createDefaultRegistry(): HandlerRegistry {
  const registry = createHandlerRegistry();
  registry.register('session.start', handleSessionStart);
  registry.register('session.end', handleSessionEnd);
  return registry;
}

export { handleSessionEnd, handleSessionStart };
