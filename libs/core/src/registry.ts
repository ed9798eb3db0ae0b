import type { Logger } from 'pino';
import type { EventType, FuelEvent } from './envelope';
import type { Db } from './sql/types';

export interface HandlerContext {
  /** A savepoint inside the event's transaction: a throw rolls back only the handler's writes. */
  sql: Db;
  event: FuelEvent;
  /** The server-made workspace id the event was filed under. */
  workspaceId: string;
  logger: Logger;
}

export type EventHandler = (ctx: HandlerContext) => Promise<void>;

export interface HandlerRegistry {
  register(type: EventType, handler: EventHandler): void;
  getHandler(type: EventType): EventHandler | undefined;
  listRegisteredTypes(): EventType[];
}

export function createHandlerRegistry(): HandlerRegistry {
  const handlers = new Map<EventType, EventHandler>();
  return {
    register(type, handler) {
      if (handlers.has(type)) throw new Error(`a handler for ${type} is already registered`);
      handlers.set(type, handler);
    },
    getHandler(type) {
      return handlers.get(type);
    },
    listRegisteredTypes() {
      return [...handlers.keys()].sort();
    },
  };
}
