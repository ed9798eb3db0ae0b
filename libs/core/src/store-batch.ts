import type { FuelEvent } from './envelope';
import type { HandlerItem } from './registry';
import { upsertDevices, upsertWorkspaceDevices } from './sql/devices';
import { insertEvents } from './sql/events';
import type { Db } from './sql/types';
import { resolveWorkspaceIds, updateDefaultBranches, type DefaultBranchCandidate } from './sql/workspaces';

export type HandlerResult =
  | { type: string; status: 'ok' }
  | { type: string; status: 'failed'; error: Error };

export interface ProcessResult {
  eventId: string;
  type: string;
  status: 'processed' | 'duplicate';
  /** Whether handlers could take its payload (unknown types and off-schema payloads are only stored). */
  payload: FuelEvent['payload'];
  handlerResults: HandlerResult[];
}

/** An event of any type with the server-made id of its workspace. */
export interface StoredItem {
  event: FuelEvent;
  workspaceId: string;
}

export interface StoredBatch {
  /** One per event, in order; handler results are filled in later. */
  results: ProcessResult[];
  /** The events inserted now (not duplicates), in order. */
  fresh: StoredItem[];
  /** Those of them with a valid payload: only these run handlers. */
  handled: HandlerItem[];
  /** Those of a known type whose payload failed its schema: recorded as handler failures. */
  unhandled: FuelEvent[];
  workspaceIds: Map<string, string>;
}

/**
 * Resolve the batch's workspaces (once per distinct name) and insert its events with one
 * statement; an id not returned is a duplicate, and so is a second copy within the batch.
 */
export async function storeEvents(
  db: Db,
  events: readonly FuelEvent[],
  knownWorkspaceIds: ReadonlyMap<string, string> | undefined,
): Promise<StoredBatch> {
  const workspaceIds = await resolveWorkspaceIds(db, events.map((e) => e.workspace_id), knownWorkspaceIds);
  const items: StoredItem[] = events.map((event) => ({ event, workspaceId: workspaceIds.get(event.workspace_id) ?? '' }));
  const inserted = await insertEvents(db, items);

  const fresh: StoredItem[] = [];
  const handled: HandlerItem[] = [];
  const unhandled: FuelEvent[] = [];
  const results = items.map((item): ProcessResult => {
    const { event } = item;
    const isNew = inserted.delete(event.id); // delete: a second copy in the batch is a duplicate
    if (isNew) {
      fresh.push(item);
      if (event.payload === 'valid') handled.push({ event, workspaceId: item.workspaceId });
      else if (event.payload === 'invalid') unhandled.push(event);
    }
    return { eventId: event.id, type: event.type, status: isNew ? 'processed' : 'duplicate', payload: event.payload, handlerResults: [] };
  });
  return { results, fresh, handled, unhandled, workspaceIds };
}

function localPathOf(event: FuelEvent): string | null {
  return event.payload === 'valid' && event.type === 'session.start' ? event.data.cwd : null;
}

/**
 * The rows that can change an upsert keyed by `keyOf` that keeps each key's latest time
 * (and its earliest, with `withEarliest`): those at the key's latest (earliest) millisecond
 * (`msOf`, from Date.parse). Ties are all kept, and Postgres picks the exact one among them;
 * the rest the statement's GROUP BY would fold away. Not sending them took about 5% off a
 * drain (README, Performance). Order is kept.
 */
export function decidingRows<T>(rows: readonly T[], keyOf: (row: T) => string, msOf: (row: T) => number, withEarliest = false): T[] {
  const keys = rows.map(keyOf);
  const times = rows.map(msOf);
  const bounds = new Map<string, { min: number; max: number }>();
  rows.forEach((_, index) => {
    const key = keys[index] ?? '';
    const ms = times[index] ?? NaN;
    let b = bounds.get(key);
    if (!b) bounds.set(key, (b = { min: Infinity, max: -Infinity }));
    // A time Date.parse could not read (NaN) compares false here and is always kept below.
    if (ms < b.min) b.min = ms;
    if (ms > b.max) b.max = ms;
  });
  return rows.filter((_, index) => {
    const b = bounds.get(keys[index] ?? '');
    const ms = times[index] ?? NaN;
    return !b || Number.isNaN(ms) || ms === b.max || (withEarliest && ms === b.min);
  });
}

/** For the link upsert: each key's latest rows, and the latest of its rows with a local path. */
export function decidingLinkRows<T extends { localPath: string | null }>(rows: readonly T[], keyOf: (row: T) => string, msOf: (row: T) => number): T[] {
  const keep = new Set([...decidingRows(rows, keyOf, msOf), ...decidingRows(rows.filter((r) => r.localPath !== null), keyOf, msOf)]);
  return rows.filter((r) => keep.has(r));
}

/**
 * For the device upsert: each device's earliest and latest rows (first/last seen), and the
 * latest of its rows with a name hint and of those with a type hint.
 */
export function decidingDeviceRows<T extends { name: string | null; type: string | null }>(
  rows: readonly T[],
  keyOf: (row: T) => string,
  msOf: (row: T) => number,
): T[] {
  const keep = new Set([
    ...decidingRows(rows, keyOf, msOf, true),
    ...decidingRows(rows.filter((r) => r.name !== null), keyOf, msOf),
    ...decidingRows(rows.filter((r) => r.type !== null), keyOf, msOf),
  ]);
  return rows.filter((r) => keep.has(r));
}

/**
 * The starts that name a branch: candidates for their workspace's default_branch. Only each
 * workspace's latest millisecond is sent (the statement picks among ties), since the rest
 * can never win.
 */
export function defaultBranchCandidates(items: readonly HandlerItem[]): DefaultBranchCandidate[] {
  const latest = new Map<string, number>();
  const candidates: (DefaultBranchCandidate & { ms: number })[] = [];
  for (const { event, workspaceId } of items) {
    if (event.type !== 'session.start') continue;
    const branch = event.data.git_branch;
    if (branch === null || branch === '') continue;
    const ms = Date.parse(event.timestamp);
    candidates.push({ workspaceId, branch, at: event.timestamp, eventId: event.id, ms });
    if (ms > (latest.get(workspaceId) ?? -Infinity)) latest.set(workspaceId, ms);
  }
  // A time Date.parse cannot read (NaN) is always sent: Postgres orders it.
  return candidates
    .filter((c) => Number.isNaN(c.ms) || c.ms === latest.get(c.workspaceId))
    .map(({ workspaceId, branch, at, eventId }) => ({ workspaceId, branch, at, eventId }));
}

/**
 * Devices, workspace links and workspaces' default branches of the new events: three
 * statements, issued together, late in the batch: these rows are shared by every batch in
 * flight, so they stay locked only from here to the commit. `handled` are those of them
 * with a valid payload (only a valid session.start offers a branch).
 */
export function upsertSightings(db: Db, fresh: readonly StoredItem[], handled: readonly HandlerItem[]): Promise<void>[] {
  const sightings = fresh.map(({ event, workspaceId }) => ({
    workspaceId,
    deviceId: event.device_id,
    eventId: event.id,
    name: event.device_name,
    type: event.device_type,
    localPath: localPathOf(event),
    activeAt: event.timestamp,
    ms: Date.parse(event.timestamp),
  }));
  const ms = (s: { ms: number }) => s.ms;
  return [
    upsertDevices(
      db,
      decidingDeviceRows(sightings, (s) => s.deviceId, ms).map((s) => ({
        deviceId: s.deviceId,
        eventId: s.eventId,
        seenAt: s.activeAt,
        name: s.name,
        type: s.type,
      })),
    ),
    upsertWorkspaceDevices(db, decidingLinkRows(sightings, (s) => `${s.workspaceId}\u0000${s.deviceId}`, ms)),
    updateDefaultBranches(db, defaultBranchCandidates(handled)),
  ];
}
