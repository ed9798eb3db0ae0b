export * from './envelope';
export * from './errors';
export { parseEvent, parseEventJson, type ParseResult } from './parse-event';
export { classifyDbError, isTransientDbError } from './db-errors';
export {
  createHandlerRegistry,
  type BatchEventHandler,
  type BatchHandlerContext,
  type EventHandler,
  type HandlerContext,
  type HandlerItem,
  type HandlerRegistration,
  type HandlerRegistry,
} from './registry';
export { createDefaultRegistry, handleSessionEnd, handleSessionEnds, handleSessionStart, handleSessionStarts } from './handlers';
export { processBatch, processEvent, type HandlerResult, type ProcessResult } from './process-batch';
export type { Db } from './sql/types';
