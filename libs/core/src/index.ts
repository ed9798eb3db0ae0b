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
export { createDefaultRegistry, handleSessionEnd, handleSessionEvents, handleSessionStart } from './handlers';
export { processBatch, processEvent, type HandlerResult, type ProcessBatchOptions, type ProcessResult } from './process-batch';
export { WorkspaceIdCache } from './workspace-id-cache';
export type { Db } from './sql/types';
export { parseUrlFaithfully, redactUrl, redactUrlIn } from './redact-url';
