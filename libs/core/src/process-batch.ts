import type { Logger } from 'pino';
import type { Sql, TransactionSql } from 'postgres';
import { classifyDbError, errorCodeOf, isTransientDbError } from './db-errors';
import { GIT_TYPES, SESSION_TYPES, type EventType, type FuelEvent } from './envelope';
import { FuelCodeError, TransientError, toError } from './errors';
import { isSendingAtOnce, type EventHandler, type HandlerItem, type HandlerRegistry } from './registry';
import type { SightingsWriter } from './sightings-writer';
import { gitLinkGuesses, sessionBoundsOf, type InFlightSessions, type SessionBounds } from './git-link-guess';
import { insertEvents, recordHandlerFailure, recordPayloadFailures } from './sql/events';
import { commitPipelined } from './sql/commit';
import { lockGitKeys, relinkChangedSessions, type RelinkScope } from './sql/git-activity';
import { missingWorkspaceIds } from './sql/workspaces';
import {
  classifyInserted,
  resolveItems,
  sightingsOf,
  storeEvents,
  writeSightings,
  type HandlerResult,
  type ProcessResult,
  type StoredBatch,
  type StoredItem,
} from './store-batch';
import type { WorkspaceIdCache } from './workspace-id-cache';

export type { HandlerResult, ProcessResult } from './store-batch';

export interface ProcessBatchOptions {
  /** Workspace ids seen committed by this process: a hit costs no query. Filled as batches commit. */
  workspaceIds?: WorkspaceIdCache;
  /** Coalesces the sightings of the process's batches in flight; without one each batch writes its own. */
  sightings?: SightingsWriter;
  /** The session starts and ends of the process's batches in flight: their git link guesses take them in. */
  inFlightSessions?: InFlightSessions;
}

/**
 * Store a batch of events and run their handlers in one transaction and a few round trips,
 * then write what they say about the shared rows (devices, workspace links, default branches)
 * in a short transaction of its own (docs/adr/006-sightings-apart.md).
 *
 * Fast path: workspaces resolved once per distinct name (no query when cached); the events
 * in one multi-row INSERT … ON CONFLICT DO NOTHING (an id not returned is a duplicate and
 * runs no handler), git events already linked to their sessions; then every handler batch,
 * the git-link lock, the git rows, the relink and the commit sent together, pipelined.
 *
 * If anything in it fails, the transaction rolls back whole and the batch runs again on the
 * isolated path: each handler batch under a savepoint and, if it throws, each event's handler
 * alone under its own, so one event's failure never rolls back another's writes; a failure
 * keeps the event row, is logged and is recorded in event_handler_failures.
 *
 * Rejects with TransientError when a dependency is down (nothing is left half-written, or
 * only the batch's sightings are missing, which its redelivery writes) and ProcessingError
 * when Postgres refuses the batch even so (e.g. a value jsonb cannot hold): the caller then
 * splits the batch to find the culprit.
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
  const write = async (path: typeof fastPath): Promise<StoredBatch> => {
    const stored = await sql.begin((tx) => path(tx, { events, registry, logger, known: cache?.known, inFlight: options.inFlightSessions }));
    cache?.remember(stored.workspaceIds);
    return stored;
  };
  let stored: StoredBatch;
  try {
    stored = await write(fastPath);
  } catch (err) {
    const classified = classifyDbError(err);
    if (classified instanceof TransientError) throw classified;
    cache?.clear();
    logger.debug({ err: classified, count: events.length }, 'Batch failed on the fast path; running it with isolated handlers');
    try {
      stored = await write(isolatedPath);
    } catch (isolatedErr) {
      throw classifyDbError(isolatedErr);
    }
  }
  try {
    const sightings = sightingsOf(stored.items);
    await (options.sightings ? options.sightings.submit(sql, sightings) : writeSightings(sql, sightings));
  } catch (err) {
    throw classifyDbError(err);
  }
  return stored.results;
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
  inFlight?: InFlightSessions | undefined;
}

/**
 * What the batch's handled events can change git links on: its git events, and the sessions
 * its session events write. Empty when it has neither: then no lock and no relink.
 */
export function relinkScope(handled: readonly HandlerItem[]): RelinkScope {
  const git: RelinkScope['git'][number][] = [];
  const sessionIds = new Set<string>();
  const startedIds = new Set<string>();
  for (const { event, workspaceId } of handled) {
    if (GIT_TYPES.has(event.type)) git.push({ id: event.id, workspaceId, deviceId: event.device_id });
    else if (SESSION_TYPES.has(event.type)) {
      const id = (event.data as { cc_session_id: string }).cc_session_id;
      sessionIds.add(id);
      if (event.type === 'session.start') startedIds.add(id);
    }
  }
  return { git, sessionIds: [...sessionIds].sort(), startedIds: [...startedIds].sort() };
}

/** Git events with a handler are stored with their link (see insertEvents). */
const linksGit = (registry: HandlerRegistry) => (event: FuelEvent): boolean =>
  event.payload === 'valid' && GIT_TYPES.has(event.type) && registry.handlerFor(event.type) !== undefined;

/**
 * The events insert first (its RETURNING says which events are new), with the check of cached
 * workspace ids in the same round trip; then all sent at once, in this order, and run by
 * Postgres in it: the handlers, the payload failures, the git-link lock, the git rows, the
 * relink, and the COMMIT when every handler sends its statements at once (sendsAtOnce; all of
 * the default registry's do; docs/adr/010-pipelined-commit.md). The git-link lock and the
 * session rows, which consecutive batches and other workers share, are so held only while
 * Postgres runs the statements after them, never across a round trip to a worker that its
 * CPU cap may pause. While it runs, its session starts and ends are known to the process's
 * later batches (InFlightSessions), whose events inserts may run before this COMMIT.
 */
async function fastPath(tx: TransactionSql, batch: Batch): Promise<StoredBatch> {
  const { items, workspaceIds } = await resolveItems(tx, batch.events, batch.known);
  const own = sessionBoundsOf(items);
  const { known, leave } = batch.inFlight?.enter(own) ?? { known: own, leave: undefined };
  try {
    return await sendAll(tx, batch, items, workspaceIds, known);
  } finally {
    leave?.();
  }
}

/** The fast path once the workspaces are resolved; `sessions`: the batch's and the process's other batches in flight. */
async function sendAll(
  tx: TransactionSql,
  { registry, logger, known }: Batch,
  items: StoredItem[],
  workspaceIds: Map<string, string>,
  sessions: SessionBounds,
): Promise<StoredBatch> {
  const missing = known?.size ? missingWorkspaceIds(tx, [...new Set(workspaceIds.values())]) : Promise.resolve([]);
  const inserting = insertEvents(tx, items, gitLinkGuesses(items, linksGit(registry), sessions));
  const [inserted, gone] = await Promise.all([inserting, missing]);
  if (gone.length > 0) throw new Error(`cached workspace ids with no row: ${gone.join(', ')}`);
  const stored = classifyInserted(items, inserted, workspaceIds);
  const scope = relinkScope(stored.handled);
  const { before, git } = inRunOrder(groupByHandler(stored.handled, registry));
  const writes: Promise<unknown>[] = [];
  const ok = new Map<string, HandlerResult>();
  const send = ({ handler, items: group }: HandlerGroup) => {
    writes.push(handler({ sql: tx, items: group, logger }));
    for (const { event } of group) ok.set(event.id, { type: event.type, status: 'ok' });
  };
  before.forEach(send);
  writes.push(recordPayloadFailures(tx, stored.unhandled), lockGitKeys(tx, scope));
  git.forEach(send);
  writes.push(relinkChangedSessions(tx, scope));
  if ([...before, ...git].every((g) => isSendingAtOnce(g.handler))) writes.push(commitPipelined(tx));
  await Promise.all(writes);
  return markAll(stored, ok);
}

/** The old order, one step at a time: the events first, then each handler on the new events only. */
async function isolatedPath(tx: TransactionSql, { events, registry, logger, known }: Batch): Promise<StoredBatch> {
  const stored = await storeEvents(tx, events, known, linksGit(registry));
  const scope = relinkScope(stored.handled);
  const { before, git } = inRunOrder(groupByHandler(stored.handled, registry));
  const results = new Map<string, HandlerResult>();
  for (const group of before) await runGroupIsolated(tx, group, results, logger);
  await recordPayloadFailures(tx, stored.unhandled);
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
