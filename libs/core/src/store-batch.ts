import type { FuelEvent } from './envelope';
import type { HandlerItem } from './registry';
import { upsertDevices, upsertWorkspaceDevices } from './sql/devices';
import { insertEvents } from './sql/events';
import type { Db } from './sql/types';
import { resolveWorkspaceIds } from './sql/workspaces';

export type HandlerResult =
  | { type: string; status: 'ok' }
  | { type: string; status: 'failed'; error: Error };

export interface ProcessResult {
  eventId: string;
  status: 'processed' | 'duplicate';
  handlerResults: HandlerResult[];
}

export interface StoredBatch {
  /** One per event, in order; handler results are filled in later. */
  results: ProcessResult[];
  /** The events inserted now (not duplicates), in order: only these run handlers. */
  fresh: HandlerItem[];
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
  const items: HandlerItem[] = events.map((event) => ({ event, workspaceId: workspaceIds.get(event.workspace_id) ?? '' }));
  const inserted = await insertEvents(db, items);

  const fresh: HandlerItem[] = [];
  const results = items.map((item): ProcessResult => {
    const isNew = inserted.delete(item.event.id); // delete: a second copy in the batch is a duplicate
    if (isNew) fresh.push(item);
    return { eventId: item.event.id, status: isNew ? 'processed' : 'duplicate', handlerResults: [] };
  });
  return { results, fresh, workspaceIds };
}

function localPathOf(event: FuelEvent): string | null {
  const cwd = event.type === 'session.start' ? event.data['cwd'] : undefined;
  return typeof cwd === 'string' ? cwd : null;
}

/**
 * The rows that can change an upsert keyed by `keyOf`: for each key, those at its earliest
 * and its latest time, and the last one `keepLast` picks. The statement's GROUP BY would
 * fold the others away; not sending them took about 4% off a drain (README, Performance).
 * `msOf` gives a row's time in milliseconds (Date.parse), so every row tied at a key's
 * earliest or latest millisecond is kept and Postgres picks the exact one among them.
 * Order is kept.
 */
export function decidingRows<T>(
  rows: readonly T[],
  keyOf: (row: T) => string,
  msOf: (row: T, index: number) => number,
  keepLast?: (row: T) => boolean,
): T[] {
  const keys = rows.map(keyOf);
  const times = rows.map(msOf);
  const bounds = new Map<string, { min: number; max: number; last: number }>();
  rows.forEach((row, index) => {
    const key = keys[index] ?? '';
    const ms = times[index] ?? NaN;
    let b = bounds.get(key);
    if (!b) bounds.set(key, (b = { min: Infinity, max: -Infinity, last: -1 }));
    // A time Date.parse could not read (NaN) compares false here and is always kept below.
    if (ms < b.min) b.min = ms;
    if (ms > b.max) b.max = ms;
    if (keepLast?.(row)) b.last = index;
  });
  return rows.filter((_, index) => {
    const b = bounds.get(keys[index] ?? '');
    const ms = times[index] ?? NaN;
    return !b || Number.isNaN(ms) || ms === b.min || ms === b.max || index === b.last;
  });
}

/** Devices and workspace links of the new events: two statements, issued together. */
export function upsertSightings(db: Db, fresh: readonly HandlerItem[]): Promise<void>[] {
  const times = fresh.map(({ event }) => Date.parse(event.timestamp));
  const msOf = (_: unknown, index: number) => times[index] ?? NaN;
  const devices = fresh.map(({ event }) => ({ deviceId: event.device_id, seenAt: event.timestamp }));
  const links = fresh.map(({ event, workspaceId }) => ({
    workspaceId,
    deviceId: event.device_id,
    localPath: localPathOf(event),
    activeAt: event.timestamp,
  }));
  return [
    upsertDevices(db, decidingRows(devices, (d) => d.deviceId, msOf)),
    upsertWorkspaceDevices(
      db,
      // The latest path wins, so the last row with one is kept too.
      decidingRows(links, (l) => `${l.workspaceId}\u0000${l.deviceId}`, msOf, (l) => l.localPath !== null),
    ),
  ];
}
