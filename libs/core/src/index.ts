export * from './envelope';
export * from './errors';
export { parseEvent, parseEventJson, type ParseResult } from './parse-event';
export { classifyDbError, isTransientDbError } from './db-errors';
export {
  createHandlerRegistry,
  type EventHandler,
  type HandlerContext,
  type HandlerRegistry,
} from './registry';
export { createDefaultRegistry, handleSessionEnd, handleSessionStart } from './handlers';
export { processEvent, type HandlerResult, type ProcessResult } from './process-event';
export type { Db } from './sql/types';
