import type { Logger } from 'pino';
import type { EventType, FuelEvent } from './envelope';
import type { Db } from './sql/types';

/** An event with the server-made id of the workspace it was filed under. */
export interface HandlerItem {
  event: FuelEvent;
  workspaceId: string;
}

export interface HandlerContext extends HandlerItem {
  /** A savepoint inside the batch's transaction: a throw rolls back only this handler's writes. */
  sql: Db;
  logger: Logger;
}

export interface BatchHandlerContext {
  /** A savepoint: if the batch handler throws, each event's handler runs alone instead. */
  sql: Db;
  /** New (not duplicate) events of the types this handler is registered for, in stream order. */
  items: readonly HandlerItem[];
  logger: Logger;
}

export type EventHandler = (ctx: HandlerContext) => Promise<void>;
export type BatchEventHandler = (ctx: BatchHandlerContext) => Promise<void>;

export interface HandlerRegistration {
  /**
   * Handles many events of the type in few statements; must equal running `handler` on each
   * in order. One function registered for several types gets their events in one call, so
   * one statement can lock every row they touch in one order (the session handler does).
   */
  batch?: BatchEventHandler;
}

export interface HandlerRegistry {
  register(type: EventType, handler: EventHandler, options?: HandlerRegistration): void;
  getHandler(type: EventType): EventHandler | undefined;
  getBatchHandler(type: EventType): BatchEventHandler | undefined;
  listRegisteredTypes(): EventType[];
}

export function createHandlerRegistry(): HandlerRegistry {
  const handlers = new Map<EventType, { one: EventHandler; batch?: BatchEventHandler }>();
  return {
    register(type, handler, options) {
      if (handlers.has(type)) throw new Error(`a handler for ${type} is already registered`);
      handlers.set(type, { one: handler, ...(options?.batch ? { batch: options.batch } : {}) });
    },
    getHandler: (type) => handlers.get(type)?.one,
    getBatchHandler: (type) => handlers.get(type)?.batch,
    listRegisteredTypes: () => [...handlers.keys()].sort(),
  };
}
