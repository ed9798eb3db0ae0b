import type { Logger } from 'pino';
import type { Sql, TransactionSql } from 'postgres';
import { classifyDbError, errorCodeOf, isTransientDbError } from './db-errors';
import { GIT_TYPES, SESSION_TYPES, type EventType, type FuelEvent } from './envelope';
import { FuelCodeError, TransientError, toError } from './errors';
import type { EventHandler, HandlerItem, HandlerRegistry } from './registry';
import { recordHandlerFailure, recordPayloadFailures } from './sql/events';
import { lockGitKeys, relinkChangedSessions, type RelinkScope } from './sql/git-activity';
import { storeEvents, upsertSightings, type HandlerResult, type ProcessResult, type StoredBatch } from './store-batch';
import type { WorkspaceIdCache } from './workspace-id-cache';

export type { HandlerResult, ProcessResult } from './store-batch';

export interface ProcessBatchOptions {
  /** Workspace ids seen committed by this process: a hit costs no query. Filled as batches commit. */
  workspaceIds?: WorkspaceIdCache;
}

/**
 * Store a batch of events and run their handlers in one transaction and a few round trips.
 *
 * Fast path: workspaces resolved once per distinct name (no query when cached), the events
 * inserted by one multi-row INSERT … ON CONFLICT DO NOTHING (an id not returned is a
 * duplicate and runs no handler), then every handler batch and the device and link upserts
 * sent together, pipelined, and the commit: four round trips for any batch size.
 *
 * If anything in it fails, the transaction rolls back whole and the batch runs again on the
 * isolated path: each handler batch under a savepoint and, if it throws, each event's handler
 * alone under its own, so one event's failure never rolls back another's writes; a failure
 * keeps the event row, is logged and is recorded in event_handler_failures.
 *
 * Rejects with TransientError when a dependency is down (nothing is left half-written) and
 * ProcessingError when Postgres refuses the batch even so (e.g. a value jsonb cannot hold):
 * the caller then splits the batch to find the culprit.
 */
export async function processBatch(
  sql: Sql,
  events: readonly FuelEvent[],
  registry: HandlerRegistry,
  logger: Logger,
  options: ProcessBatchOptions = {},
): Promise<ProcessResult[]> {
  if (events.length === 0) return [];
  const cache = options.workspaceIds;
  const write = async (path: typeof fastPath): Promise<ProcessResult[]> => {
    const stored = await sql.begin((tx) => path(tx, { events, registry, logger, known: cache?.known }));
    cache?.remember(stored.workspaceIds);
    return stored.results;
  };
  try {
    return await write(fastPath);
  } catch (err) {
    const classified = classifyDbError(err);
    if (classified instanceof TransientError) throw classified;
    cache?.clear();
    logger.debug({ err: classified, count: events.length }, 'Batch failed on the fast path; running it with isolated handlers');
  }
  try {
    return await write(isolatedPath);
  } catch (err) {
    throw classifyDbError(err);
  }
}

/** Store one event and run its handler: a batch of one. */
export async function processEvent(
  sql: Sql,
  event: FuelEvent,
  registry: HandlerRegistry,
  logger: Logger,
  options: ProcessBatchOptions = {},
): Promise<ProcessResult> {
  const [result] = await processBatch(sql, [event], registry, logger, options);
  if (!result) throw new Error('processBatch returned no result');
  return result;
}

/** The events one handler call gets: of one type, or of every type sharing that handler. */
interface HandlerGroup {
  /** The group's first type by name: what it is logged and ordered by. */
  label: EventType;
  handler: EventHandler;
  items: HandlerItem[];
}

function groupByHandler(fresh: readonly HandlerItem[], registry: HandlerRegistry): HandlerGroup[] {
  const groups = new Map<EventHandler, HandlerGroup>();
  for (const item of fresh) {
    const { type } = item.event;
    const handler = registry.handlerFor(type) as EventHandler | undefined;
    if (!handler) continue;
    const group = groups.get(handler) ?? { label: type, handler, items: [] };
    if (type < group.label) group.label = type;
    group.items.push(item);
    groups.set(handler, group);
  }
  // One order for every batch, so batches in flight at once take their locks in one order.
  return [...groups.values()].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

/**
 * The handler groups in the order they run: the git groups after the others, since they run
 * after lockGitKeys (they only insert new rows, so holding the lock they never wait for one).
 */
function inRunOrder(groups: readonly HandlerGroup[]): { before: HandlerGroup[]; git: HandlerGroup[] } {
  return { before: groups.filter((g) => !GIT_TYPES.has(g.label)), git: groups.filter((g) => GIT_TYPES.has(g.label)) };
}

function markAll(stored: StoredBatch, results: ReadonlyMap<string, HandlerResult>): StoredBatch {
  for (const result of stored.results) {
    const handled = results.get(result.eventId);
    if (handled && result.status === 'processed') result.handlerResults.push(handled);
  }
  return stored;
}

/** What both paths need to write a batch. */
interface Batch {
  events: readonly FuelEvent[];
  registry: HandlerRegistry;
  logger: Logger;
  known: ReadonlyMap<string, string> | undefined;
}

/**
 * What the batch's handled events can change git links on: its git events, and the sessions
 * its session events write. Empty when it has neither: then no lock and no relink.
 */
export function relinkScope(handled: readonly HandlerItem[]): RelinkScope {
  const git: RelinkScope['git'][number][] = [];
  const sessionIds = new Set<string>();
  for (const { event, workspaceId } of handled) {
    if (GIT_TYPES.has(event.type)) git.push({ id: event.id, workspaceId, deviceId: event.device_id });
    else if (SESSION_TYPES.has(event.type)) sessionIds.add((event.data as { cc_session_id: string }).cc_session_id);
  }
  return { git, sessionIds: [...sessionIds].sort() };
}

/**
 * Every statement is sent at once, in this order, and Postgres runs them in it: the handlers,
 * the devices and links, the payload failures, the git-link lock, the git rows, the relink.
 * (Handlers send their statements before their first await.) The lock is then held only
 * from the git rows to the commit, with no round trip of its own.
 */
async function fastPath(tx: TransactionSql, { events, registry, logger, known }: Batch): Promise<StoredBatch> {
  const stored = await storeEvents(tx, events, known);
  const scope = relinkScope(stored.handled);
  const { before, git } = inRunOrder(groupByHandler(stored.handled, registry));
  const writes: Promise<unknown>[] = [];
  const ok = new Map<string, HandlerResult>();
  const send = ({ handler, items }: HandlerGroup) => {
    writes.push(handler({ sql: tx, items, logger }));
    for (const { event } of items) ok.set(event.id, { type: event.type, status: 'ok' });
  };
  before.forEach(send);
  writes.push(...upsertSightings(tx, stored.fresh, stored.handled), recordPayloadFailures(tx, stored.unhandled), lockGitKeys(tx, scope));
  git.forEach(send);
  writes.push(relinkChangedSessions(tx, scope));
  await Promise.all(writes);
  return markAll(stored, ok);
}

/** The same order as the fast path, one step at a time. */
async function isolatedPath(tx: TransactionSql, { events, registry, logger, known }: Batch): Promise<StoredBatch> {
  const stored = await storeEvents(tx, events, known);
  const scope = relinkScope(stored.handled);
  const { before, git } = inRunOrder(groupByHandler(stored.handled, registry));
  const results = new Map<string, HandlerResult>();
  for (const group of before) await runGroupIsolated(tx, group, results, logger);
  await recordPayloadFailures(tx, stored.unhandled);
  // Late, so the shared device and link rows stay locked only until the commit.
  await Promise.all(upsertSightings(tx, stored.fresh, stored.handled));
  await lockGitKeys(tx, scope);
  for (const group of git) await runGroupIsolated(tx, group, results, logger);
  // Whatever each handler came to: a failed one's writes are gone, and relinking what it
  // did not change recomputes the same links.
  await relinkChangedSessions(tx, scope);
  return markAll(stored, results);
}

/** A group's events under one savepoint; if that throws, each event under its own. */
async function runGroupIsolated(tx: TransactionSql, { label, handler, items }: HandlerGroup, results: Map<string, HandlerResult>, logger: Logger): Promise<void> {
  if (items.length > 1) {
    try {
      await tx.savepoint((sp) => handler({ sql: sp, items, logger }));
      for (const { event } of items) results.set(event.id, { type: event.type, status: 'ok' });
      return;
    } catch (thrown) {
      if (isTransientDbError(thrown)) throw thrown;
      logger.warn({ err: toError(thrown), type: label, count: items.length }, `Handler for ${label} failed on a batch; running its events one by one`);
    }
  }
  for (const item of items) results.set(item.event.id, await runIsolated(tx, handler, item, logger));
}

async function runIsolated(tx: TransactionSql, handler: EventHandler, item: HandlerItem, logger: Logger): Promise<HandlerResult> {
  const { event } = item;
  const log = logger.child({ eventId: event.id, type: event.type });
  try {
    await tx.savepoint((sp) => handler({ sql: sp, items: [item], logger: log }));
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
