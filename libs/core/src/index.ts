export * from './envelope';
export * from './errors';
export { parseEvent, parseEventFields, parseEventJson, type ParseResult } from './parse-event';
export { fastEnvelopeOk } from './fast-parse';
export { classifyDbError, isTransientDbError } from './db-errors';
export {
  createHandlerRegistry,
  isSendingAtOnce,
  sendsAtOnce,
  type EventHandler,
  type HandlerContext,
  type HandlerItem,
  type HandlerMap,
  type HandlerRegistry,
} from './registry';
export { createDefaultRegistry, handleSessionEvents } from './handlers';
export { processBatch, processEvent, type HandlerResult, type ProcessBatchOptions, type ProcessResult } from './process-batch';
export type { StoredItem } from './store-batch';
export { eventSessionId } from './event-session';
export { isStorableString, MAX_DATA_DEPTH, storabilityIssue } from './storable';
export { WorkspaceIdCache } from './workspace-id-cache';
export { SightingsWriter } from './sightings-writer';
export { InFlightSessions } from './git-link-guess';
export type { Db } from './sql/types';
export { sqlStateOf } from './db-errors';
export { parseUrlFaithfully, redactUrl, redactUrlIn } from './redact-url';
