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

/** Devices and workspace links of the new events: two statements, issued together. */
export function upsertSightings(db: Db, fresh: readonly HandlerItem[]): Promise<void>[] {
  return [
    upsertDevices(db, fresh.map(({ event }) => ({ deviceId: event.device_id, seenAt: event.timestamp }))),
    upsertWorkspaceDevices(
      db,
      fresh.map(({ event, workspaceId }) => ({
        workspaceId,
        deviceId: event.device_id,
        localPath: localPathOf(event),
        activeAt: event.timestamp,
      })),
    ),
  ];
}
