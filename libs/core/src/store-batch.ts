import type { FuelEvent } from './envelope';
import type { HandlerItem } from './registry';
import { devicesUpsert, workspaceDevicesUpsert, type DeviceSighting, type WorkspaceDeviceSighting } from './sql/devices';
import { gitLinkGuesses } from './git-link-guess';
import { insertEvents } from './sql/events';
import type { Db } from './sql/types';
import { defaultBranchesUpdate, resolveWorkspaceIds, type DefaultBranchCandidate } from './sql/workspaces';

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
  /** Every event of the batch, duplicates included: what the sightings are computed from. */
  items: StoredItem[];
  /** The events inserted now (not duplicates), in order. */
  fresh: StoredItem[];
  /** Those of them with a valid payload: only these run handlers. */
  handled: HandlerItem[];
  /** Those of a known type whose payload failed its schema: recorded as handler failures. */
  unhandled: FuelEvent[];
  workspaceIds: Map<string, string>;
}

/** The batch's events with their workspaces' ids: once per distinct name, no query when cached. */
export async function resolveItems(
  db: Db,
  events: readonly FuelEvent[],
  knownWorkspaceIds: ReadonlyMap<string, string> | undefined,
): Promise<{ items: StoredItem[]; workspaceIds: Map<string, string> }> {
  const workspaceIds = await resolveWorkspaceIds(db, events.map((e) => e.workspace_id), knownWorkspaceIds);
  const items = events.map((event) => ({ event, workspaceId: workspaceIds.get(event.workspace_id) ?? '' }));
  return { items, workspaceIds };
}

/** Sort the batch's items by what the insert returned: an id not returned is a duplicate, and so is a second copy. */
export function classifyInserted(items: readonly StoredItem[], inserted: Set<string>, workspaceIds: Map<string, string>): StoredBatch {
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
  return { results, items: [...items], fresh, handled, unhandled, workspaceIds };
}

/**
 * Resolve the batch's workspaces and insert its events with one statement. `linkGit` says
 * which events are stored with their git link (see insertEvents and gitLinkGuesses).
 */
export async function storeEvents(
  db: Db,
  events: readonly FuelEvent[],
  knownWorkspaceIds: ReadonlyMap<string, string> | undefined,
  linkGit?: (event: FuelEvent) => boolean,
): Promise<StoredBatch> {
  const { items, workspaceIds } = await resolveItems(db, events, knownWorkspaceIds);
  const links = linkGit ? gitLinkGuesses(items, linkGit) : undefined;
  return classifyInserted(items, await insertEvents(db, items, links), workspaceIds);
}

function localPathOf(event: FuelEvent): string | null {
  return event.payload === 'valid' && event.type === 'session.start' ? event.data.cwd : null;
}

/**
 * The rows that can change an upsert keyed by `keyOf` that keeps each key's latest time
 * (and its earliest, with `withEarliest`): those at the key's latest (earliest) millisecond
 * (`msOf`, from Date.parse). Ties are all kept, and Postgres picks the exact one among them;
 * the rest the statement's GROUP BY would fold away, so not sending them saves their encoding
 * and Postgres' grouping work (docs/performance.md). Order is kept.
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

/** A sighting with its time in ms (Date.parse, once): what the reductions compare. */
type Timed<T> = T & { ms: number };

/** What a batch's events say about devices, workspace links and default branches, reduced to the rows that can decide them. */
export interface Sightings {
  devices: Timed<DeviceSighting>[];
  links: Timed<WorkspaceDeviceSighting>[];
  branches: Timed<DefaultBranchCandidate>[];
}

/** Key of a workspace link; no stored string holds U+0000. */
const linkKey = (s: { workspaceId: string; deviceId: string }) => `${s.workspaceId}\u0000${s.deviceId}`;
const msOf = (s: { ms: number }) => s.ms;

/**
 * The sightings of every event of the batch, duplicates included: a batch whose transaction
 * committed but whose sightings were lost (a crash in between) is delivered again, and then
 * all its events are duplicates. Only a valid session.start offers a branch and a local path.
 */
export function sightingsOf(items: readonly StoredItem[]): Sightings {
  const devices: Timed<DeviceSighting>[] = [];
  const links: Timed<WorkspaceDeviceSighting>[] = [];
  const starts: HandlerItem[] = [];
  for (const { event, workspaceId } of items) {
    const ms = Date.parse(event.timestamp);
    devices.push({ deviceId: event.device_id, eventId: event.id, seenAt: event.timestamp, name: event.device_name, type: event.device_type, ms });
    links.push({ workspaceId, deviceId: event.device_id, localPath: localPathOf(event), activeAt: event.timestamp, ms });
    if (event.payload === 'valid' && event.type === 'session.start') starts.push({ event, workspaceId });
  }
  const branches = defaultBranchCandidates(starts).map((b) => ({ ...b, ms: Date.parse(b.at) }));
  return reduceSightings({ devices, links, branches });
}

/** Only the rows that can decide a key: reducing a union of reduced sets keeps every deciding row. */
export function reduceSightings({ devices, links, branches }: Sightings): Sightings {
  return {
    devices: decidingDeviceRows(devices, (d) => d.deviceId, msOf),
    links: decidingLinkRows(links, linkKey, msOf),
    branches: decidingRows(branches, (b) => b.workspaceId, msOf),
  };
}

export function mergeSightings(a: Sightings, b: Sightings): Sightings {
  return reduceSightings({ devices: [...a.devices, ...b.devices], links: [...a.links, ...b.links], branches: [...a.branches, ...b.branches] });
}

/**
 * One statement, in its own transaction: the devices, the links and the workspaces' default
 * branches, each sorted by key, as three data-modifying CTEs of one plan, so every writer
 * locks the shared rows in one order and only for this statement. (Three statements in a
 * transaction cost the worker two more round trips and socket writes per batch.) The links'
 * foreign keys are checked at the end of the statement, when the devices are in.
 */
export async function writeSightings(sql: Db, { devices, links, branches }: Sightings): Promise<void> {
  if (devices.length === 0 && links.length === 0 && branches.length === 0) return;
  await sql`
    WITH d AS (${devicesUpsert(sql, devices)}),
         l AS (${workspaceDevicesUpsert(sql, links)}),
         b AS (${defaultBranchesUpdate(sql, branches)})
    SELECT 1`;
}
