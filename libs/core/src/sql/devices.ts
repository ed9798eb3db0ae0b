import type { Db } from './types';

/** Create the device on first sight; widen its first/last seen window otherwise. */
export async function upsertDevice(db: Db, deviceId: string, seenAt: string): Promise<void> {
  await db`
    INSERT INTO devices (id, name, first_seen_at, last_seen_at)
    VALUES (${deviceId}, ${deviceId}, ${seenAt}, ${seenAt})
    ON CONFLICT (id) DO UPDATE SET
      first_seen_at = LEAST(devices.first_seen_at, EXCLUDED.first_seen_at),
      last_seen_at = GREATEST(devices.last_seen_at, EXCLUDED.last_seen_at)
    WHERE EXCLUDED.last_seen_at > devices.last_seen_at
       OR EXCLUDED.first_seen_at < devices.first_seen_at`;
}

export async function upsertWorkspaceDevice(
  db: Db,
  link: { workspaceId: string; deviceId: string; localPath: string | null; activeAt: string },
): Promise<void> {
  await db`
    INSERT INTO workspace_devices (workspace_id, device_id, local_path, last_active_at)
    VALUES (${link.workspaceId}, ${link.deviceId}, ${link.localPath}, ${link.activeAt})
    ON CONFLICT (workspace_id, device_id) DO UPDATE SET
      local_path = COALESCE(EXCLUDED.local_path, workspace_devices.local_path),
      last_active_at = GREATEST(workspace_devices.last_active_at, EXCLUDED.last_active_at)
    WHERE EXCLUDED.last_active_at > workspace_devices.last_active_at
       OR (EXCLUDED.local_path IS NOT NULL
           AND EXCLUDED.local_path IS DISTINCT FROM workspace_devices.local_path)`;
}
