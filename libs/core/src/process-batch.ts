import type { Logger } from 'pino';
import type { Sql, TransactionSql } from 'postgres';
import { classifyDbError, errorCodeOf, isTransientDbError } from './db-errors';
import type { EventType, FuelEvent } from './envelope';
import { FuelCodeError, toError } from './errors';
import type { EventHandler, HandlerItem, HandlerRegistry } from './registry';
import { upsertDevices, upsertWorkspaceDevices } from './sql/devices';
import { insertEvents, recordHandlerFailure } from './sql/events';
import { resolveWorkspaceIds } from './sql/workspaces';

export type HandlerResult =
  | { type: string; status: 'ok' }
  | { type: string; status: 'failed'; error: Error };

export interface ProcessResult {
  eventId: string;
  status: 'processed' | 'duplicate';
  handlerResults: HandlerResult[];
}

function localPathOf(event: FuelEvent): string | null {
  const cwd = event.type === 'session.start' ? event.data['cwd'] : undefined;
  return typeof cwd === 'string' ? cwd : null;
}

/**
 * Store a batch of events and run their handlers in one transaction and a few statements:
 *  - workspaces are resolved once per distinct name; the events go in with one multi-row
 *    INSERT … ON CONFLICT DO NOTHING, and an id not returned is a duplicate (no handler);
 *  - the new events' handlers run per type, batched where the type has a batch handler,
 *    each under a savepoint. If a batch handler throws, each event's handler runs alone
 *    under its own savepoint, so one event's failure never rolls back another's writes;
 *    a failure keeps the event row, is logged and is recorded in event_handler_failures;
 *  - devices and workspace links are upserted last, so their shared rows stay locked only
 *    for the commit.
 * Rejects with TransientError when a dependency is down (nothing is left half-written) and
 * ProcessingError when Postgres refuses the batch (e.g. a value jsonb cannot hold): the
 * caller then processes the events one by one to find the culprit.
 */
export async function processBatch(
  sql: Sql,
  events: readonly FuelEvent[],
  registry: HandlerRegistry,
  logger: Logger,
): Promise<ProcessResult[]> {
  if (events.length === 0) return [];
  try {
    return await sql.begin(async (tx) => {
      const workspaceIds = await resolveWorkspaceIds(tx, events.map((e) => e.workspace_id));
      const items: HandlerItem[] = events.map((event) => ({ event, workspaceId: workspaceIds.get(event.workspace_id) ?? '' }));
      const inserted = await insertEvents(tx, items);

      const fresh: HandlerItem[] = [];
      const results = items.map((item): ProcessResult => {
        const isNew = inserted.delete(item.event.id); // delete: a second copy in the batch is a duplicate
        if (isNew) fresh.push(item);
        return { eventId: item.event.id, status: isNew ? 'processed' : 'duplicate', handlerResults: [] };
      });

      const handlerResults = await runHandlers(tx, fresh, registry, logger);
      for (const result of results) {
        const handled = handlerResults.get(result.eventId);
        if (handled && result.status === 'processed') result.handlerResults.push(handled);
      }

      await upsertDevices(tx, fresh.map(({ event }) => ({ deviceId: event.device_id, seenAt: event.timestamp })));
      await upsertWorkspaceDevices(
        tx,
        fresh.map(({ event, workspaceId }) => ({
          workspaceId,
          deviceId: event.device_id,
          localPath: localPathOf(event),
          activeAt: event.timestamp,
        })),
      );
      return results;
    });
  } catch (err) {
    throw classifyDbError(err);
  }
}

/** Store one event and run its handler: a batch of one. */
export async function processEvent(sql: Sql, event: FuelEvent, registry: HandlerRegistry, logger: Logger): Promise<ProcessResult> {
  const [result] = await processBatch(sql, [event], registry, logger);
  if (!result) throw new Error('processBatch returned no result');
  return result;
}

async function runHandlers(
  tx: TransactionSql,
  fresh: readonly HandlerItem[],
  registry: HandlerRegistry,
  logger: Logger,
): Promise<Map<string, HandlerResult>> {
  const results = new Map<string, HandlerResult>();
  const byType = new Map<EventType, HandlerItem[]>();
  for (const item of fresh) {
    if (!registry.getHandler(item.event.type)) continue;
    const group = byType.get(item.event.type) ?? [];
    group.push(item);
    byType.set(item.event.type, group);
  }
  for (const [type, group] of byType) {
    const one = registry.getHandler(type);
    if (!one) continue;
    const batch = registry.getBatchHandler(type);
    if (batch && group.length > 1) {
      try {
        await tx.savepoint((sp) => batch({ sql: sp, items: group, logger }));
        for (const { event } of group) results.set(event.id, { type, status: 'ok' });
        continue;
      } catch (thrown) {
        if (isTransientDbError(thrown)) throw thrown;
        logger.warn({ err: toError(thrown), type, count: group.length }, `Batch handler for ${type} failed; running its events one by one`);
      }
    }
    for (const item of group) results.set(item.event.id, await runOne(tx, one, item, logger));
  }
  return results;
}

async function runOne(tx: TransactionSql, handler: EventHandler, item: HandlerItem, logger: Logger): Promise<HandlerResult> {
  const { event } = item;
  const log = logger.child({ eventId: event.id, type: event.type });
  try {
    await tx.savepoint((sp) => handler({ sql: sp, ...item, logger: log }));
    return { type: event.type, status: 'ok' };
  } catch (thrown) {
    // A dead connection is not the handler's fault: fail the whole batch so it is retried.
    if (isTransientDbError(thrown)) throw thrown;
    const err = toError(thrown);
    log.error({ err }, `Handler for ${event.type} failed on event ${event.id}: ${err.message}`);
    await recordHandlerFailure(tx, {
      eventId: event.id,
      eventType: event.type,
      errorCode: err instanceof FuelCodeError ? err.code : errorCodeOf(thrown),
      message: err.message,
    });
    return { type: event.type, status: 'failed', error: err };
  }
}
