import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import { createDefaultRegistry, processEvent, type FuelEvent, type HandlerRegistry, type ProcessResult } from '@fuel-code/core';

export interface EventHandler {
  registry: HandlerRegistry;
  process(event: FuelEvent): Promise<ProcessResult>;
}

/** The registry the worker runs with, and processEvent bound to it. */
export function createEventHandler(sql: Sql, logger: Logger): EventHandler {
  const registry = createDefaultRegistry();
  return {
    registry,
    process: (event) => processEvent(sql, event, registry, logger),
  };
}
