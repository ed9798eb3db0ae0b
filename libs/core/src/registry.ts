import type { Logger } from 'pino';
import type { EventOf, EventType } from './envelope';
import type { Db } from './sql/types';

/** An event with the server-made id of the workspace it was filed under. */
export interface HandlerItem<T extends EventType = EventType> {
  event: EventOf<T>;
  workspaceId: string;
}

export interface HandlerContext<T extends EventType = EventType> {
  /**
   * The batch's transaction, or a savepoint in it: if the handler throws on the fast path,
   * the batch runs again with each handler call under a savepoint, then each event alone.
   */
  sql: Db;
  /** New (not duplicate) events with a valid payload of the handler's types, in stream order. */
  items: readonly HandlerItem<T>[];
  logger: Logger;
}

/**
 * Handles many events in few statements; running it on each item alone, in order, must give
 * the same rows. One function registered for several types gets their events in one call, so
 * one statement can lock every row they touch in one order (the session handler does).
 */
export type EventHandler<T extends EventType = EventType> = (ctx: HandlerContext<T>) => Promise<void>;

const sendingAtOnce = new WeakSet<object>();

/**
 * Marks a handler that issues all its statements before its first await (each statement
 * function does, before awaiting its result). Only when every handler of a batch is marked
 * does the fast path send the batch's COMMIT right behind them, before their results come
 * back (docs/adr/010-pipelined-commit.md): a statement issued after an await would come after
 * the COMMIT, be refused, and leave the batch committed without it.
 */
export function sendsAtOnce<T extends EventType>(handler: EventHandler<T>): EventHandler<T> {
  sendingAtOnce.add(handler);
  return handler;
}

export const isSendingAtOnce = (handler: object): boolean => sendingAtOnce.has(handler);

/** The handler of each type; a type without one is only stored. */
export type HandlerMap = { readonly [T in EventType]?: EventHandler<T> };

export interface HandlerRegistry {
  handlerFor<T extends EventType>(type: T): EventHandler<T> | undefined;
  listRegisteredTypes(): EventType[];
}

export function createHandlerRegistry(handlers: HandlerMap): HandlerRegistry {
  const map: HandlerMap = Object.freeze({ ...handlers });
  return {
    handlerFor: <T extends EventType>(type: T) => map[type] as EventHandler<T> | undefined,
    listRegisteredTypes: () => (Object.keys(map) as EventType[]).filter((t) => map[t] !== undefined).sort(),
  };
}
