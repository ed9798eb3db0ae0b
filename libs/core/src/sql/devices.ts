import type { Db } from './types';

export interface DeviceSighting {
  deviceId: string;
  eventId: string;
  seenAt: string;
  /** The event's `_device_name` / `_device_type` hints, if any. */
  name: string | null;
  type: string | null;
}

/**
 * Create each device on first sight; widen its first/last seen window otherwise. The latest
 * event (by time, then id) with a name hint names the device, and likewise for its type;
 * without any, the name is the device id and the type 'local'. Each hint replaces the stored
 * one only if it is later, so the row is the same whatever order events arrive in.
 */
export async function upsertDevices(db: Db, sightings: readonly DeviceSighting[]): Promise<void> {
  if (sightings.length === 0) return;
  await db`${devicesUpsert(db, sightings)}`;
}

/** The statement of upsertDevices, as a fragment (writeSightings puts it in a WITH). */
export function devicesUpsert(db: Db, sightings: readonly DeviceSighting[]) {
  const col = <T>(pick: (s: DeviceSighting) => T) => sightings.map(pick);
  return db`
    WITH r AS (
      SELECT r.id, r.eid, r.ts::timestamptz AS ts, r.name, r.type
      FROM unnest(${col((s) => s.deviceId)}::text[], ${col((s) => s.eventId)}::text[], ${col((s) => s.seenAt)}::text[],
                  ${col((s) => s.name)}::text[], ${col((s) => s.type)}::text[]) AS r(id, eid, ts, name, type)
    ),
    seen AS (SELECT id, min(ts) AS first_seen, max(ts) AS last_seen FROM r GROUP BY id),
    named AS (SELECT DISTINCT ON (id) id, name, ts, eid FROM r WHERE name IS NOT NULL ORDER BY id, ts DESC, eid DESC),
    typed AS (SELECT DISTINCT ON (id) id, type, ts, eid FROM r WHERE type IS NOT NULL ORDER BY id, ts DESC, eid DESC)
    INSERT INTO devices AS d (id, name, type, first_seen_at, last_seen_at, name_at, name_event_id, type_at, type_event_id)
    SELECT seen.id, COALESCE(named.name, seen.id), COALESCE(typed.type, 'local'), seen.first_seen, seen.last_seen,
           named.ts, named.eid, typed.ts, typed.eid
    FROM seen LEFT JOIN named USING (id) LEFT JOIN typed USING (id)
    ORDER BY seen.id
    ON CONFLICT (id) DO UPDATE SET
      first_seen_at = LEAST(d.first_seen_at, EXCLUDED.first_seen_at),
      last_seen_at = GREATEST(d.last_seen_at, EXCLUDED.last_seen_at),
      (name, name_at, name_event_id) = (
        SELECT CASE WHEN n THEN EXCLUDED.name ELSE d.name END,
               CASE WHEN n THEN EXCLUDED.name_at ELSE d.name_at END,
               CASE WHEN n THEN EXCLUDED.name_event_id ELSE d.name_event_id END
        FROM (SELECT EXCLUDED.name_at IS NOT NULL AND (d.name_at IS NULL
                OR (EXCLUDED.name_at, EXCLUDED.name_event_id) > (d.name_at, d.name_event_id)) AS n) f),
      (type, type_at, type_event_id) = (
        SELECT CASE WHEN t THEN EXCLUDED.type ELSE d.type END,
               CASE WHEN t THEN EXCLUDED.type_at ELSE d.type_at END,
               CASE WHEN t THEN EXCLUDED.type_event_id ELSE d.type_event_id END
        FROM (SELECT EXCLUDED.type_at IS NOT NULL AND (d.type_at IS NULL
                OR (EXCLUDED.type_at, EXCLUDED.type_event_id) > (d.type_at, d.type_event_id)) AS t) f)
    WHERE EXCLUDED.last_seen_at > d.last_seen_at
       OR EXCLUDED.first_seen_at < d.first_seen_at
       OR (EXCLUDED.name_at IS NOT NULL AND (d.name_at IS NULL OR (EXCLUDED.name_at, EXCLUDED.name_event_id) > (d.name_at, d.name_event_id)))
       OR (EXCLUDED.type_at IS NOT NULL AND (d.type_at IS NULL OR (EXCLUDED.type_at, EXCLUDED.type_event_id) > (d.type_at, d.type_event_id)))`;
}

export interface WorkspaceDeviceSighting {
  workspaceId: string;
  deviceId: string;
  /** The checkout's path when the event says (session.start's cwd); the latest event's wins. */
  localPath: string | null;
  activeAt: string;
}

export async function upsertWorkspaceDevices(db: Db, sightings: readonly WorkspaceDeviceSighting[]): Promise<void> {
  if (sightings.length === 0) return;
  await db`${workspaceDevicesUpsert(db, sightings)}`;
}

/** The statement of upsertWorkspaceDevices, as a fragment (writeSightings puts it in a WITH). */
export function workspaceDevicesUpsert(db: Db, sightings: readonly WorkspaceDeviceSighting[]) {
  const col = <T>(pick: (s: WorkspaceDeviceSighting) => T) => sightings.map(pick);
  // The path is the one of the latest event that has one (by event time, then stream order),
  // and it replaces the stored one only if it is at least as recent: order independent.
  return db`
    INSERT INTO workspace_devices (workspace_id, device_id, local_path, local_path_at, last_active_at)
    SELECT r.w, r.d,
           (array_agg(r.p ORDER BY r.ts::timestamptz DESC, r.seq DESC) FILTER (WHERE r.p IS NOT NULL))[1],
           max(r.ts::timestamptz) FILTER (WHERE r.p IS NOT NULL),
           max(r.ts::timestamptz)
    FROM unnest(
      ${col((s) => s.workspaceId)}::text[], ${col((s) => s.deviceId)}::text[], ${col((s) => s.localPath)}::text[], ${col((s) => s.activeAt)}::text[]
    ) WITH ORDINALITY AS r(w, d, p, ts, seq)
    GROUP BY r.w, r.d
    ORDER BY r.w, r.d
    ON CONFLICT (workspace_id, device_id) DO UPDATE SET
      local_path = CASE WHEN EXCLUDED.local_path_at >= workspace_devices.local_path_at
                          OR (EXCLUDED.local_path_at IS NOT NULL AND workspace_devices.local_path_at IS NULL)
                        THEN EXCLUDED.local_path ELSE workspace_devices.local_path END,
      local_path_at = GREATEST(EXCLUDED.local_path_at, workspace_devices.local_path_at),
      last_active_at = GREATEST(workspace_devices.last_active_at, EXCLUDED.last_active_at)
    WHERE EXCLUDED.last_active_at > workspace_devices.last_active_at
       OR EXCLUDED.local_path_at >= workspace_devices.local_path_at
       OR (EXCLUDED.local_path_at IS NOT NULL AND workspace_devices.local_path_at IS NULL)`;
}
