import type { Db } from './types';

export interface DeviceSighting {
  deviceId: string;
  seenAt: string;
}

/** Create each device on first sight; widen its first/last seen window otherwise. */
export async function upsertDevices(db: Db, sightings: readonly DeviceSighting[]): Promise<void> {
  if (sightings.length === 0) return;
  await db`
    INSERT INTO devices (id, name, first_seen_at, last_seen_at)
    SELECT r.id, r.id, min(r.ts::timestamptz), max(r.ts::timestamptz)
    FROM unnest(${sightings.map((s) => s.deviceId)}::text[], ${sightings.map((s) => s.seenAt)}::text[]) AS r(id, ts)
    GROUP BY r.id
    ORDER BY r.id
    ON CONFLICT (id) DO UPDATE SET
      first_seen_at = LEAST(devices.first_seen_at, EXCLUDED.first_seen_at),
      last_seen_at = GREATEST(devices.last_seen_at, EXCLUDED.last_seen_at)
    WHERE EXCLUDED.last_seen_at > devices.last_seen_at
       OR EXCLUDED.first_seen_at < devices.first_seen_at`;
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
  const col = <T>(pick: (s: WorkspaceDeviceSighting) => T) => sightings.map(pick);
  // The path is the one of the latest event that has one (by event time, then stream order),
  // and it replaces the stored one only if it is at least as recent: order independent.
  await db`
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
