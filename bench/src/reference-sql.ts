import type { JSONValue, Sql, TransactionSql } from 'postgres';
import { ulid } from 'ulid';
import { sessionEndDataSchema, sessionStartDataSchema, type FuelEvent } from '@fuel-code/core';

/*
 * The yardstick's SQL: the seed's per-event statements, one row each. This is NOT the
 * product (libs/core has the batched statements); it lives here so the bench can always run
 * the straightforward loop the issue measures the worker against, doing the same work:
 * the same tables, the same conflict rules, the same session semantics (docs/contract.md §3).
 */

type Db = Sql | TransactionSql;

async function selectWorkspaceId(db: Db, canonicalId: string): Promise<string | undefined> {
  const rows = await db<{ id: string }[]>`SELECT id FROM workspaces WHERE canonical_id = ${canonicalId}`;
  return rows[0]?.id;
}

function displayNameOf(canonicalId: string): string {
  const parts = canonicalId.split('/').filter((p) => p.length > 0);
  return parts[parts.length - 1] ?? canonicalId;
}

/** SELECT; else INSERT … ON CONFLICT DO NOTHING RETURNING; else SELECT (another writer won). */
export async function resolveWorkspaceId(db: Db, canonicalId: string): Promise<string> {
  const known = await selectWorkspaceId(db, canonicalId);
  if (known) return known;
  const created = await db<{ id: string }[]>`
    INSERT INTO workspaces (id, canonical_id, display_name)
    VALUES (${ulid()}, ${canonicalId}, ${displayNameOf(canonicalId)})
    ON CONFLICT (canonical_id) DO NOTHING
    RETURNING id`;
  if (created[0]) return created[0].id;
  const raced = await selectWorkspaceId(db, canonicalId);
  if (raced) return raced;
  throw new Error(`workspace ${canonicalId} could not be resolved`);
}

/** False when the id is already stored (a duplicate). */
export async function insertEvent(db: Db, event: FuelEvent, workspaceId: string): Promise<boolean> {
  const rows = await db`
    INSERT INTO events (id, type, "timestamp", device_id, workspace_id, session_id, data, blob_refs)
    VALUES (
      ${event.id}, ${event.type}, ${event.timestamp}, ${event.device_id}, ${workspaceId},
      ${event.session_id}, ${db.json(event.data as JSONValue)}, ${db.json(event.blob_refs as JSONValue)}
    )
    ON CONFLICT (id) DO NOTHING
    RETURNING id`;
  return rows.length === 1;
}

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
  // The latest event's path wins (local_path_at), as in the product.
  await db`
    INSERT INTO workspace_devices (workspace_id, device_id, local_path, local_path_at, last_active_at)
    VALUES (${link.workspaceId}, ${link.deviceId}, ${link.localPath},
            CASE WHEN ${link.localPath}::text IS NULL THEN NULL ELSE ${link.activeAt}::timestamptz END, ${link.activeAt})
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

/*
 * Sessions: start and end commute. Each writes only the columns it owns; an end alone
 * derives started_at from its duration, a later start replaces it with the real start time;
 * a start never moves lifecycle back from 'ended'.
 */

export async function upsertSessionStart(db: Db, event: FuelEvent, workspaceId: string): Promise<void> {
  const data = sessionStartDataSchema.parse(event.data);
  await db`
    INSERT INTO sessions (id, workspace_id, device_id, lifecycle, started_at, git_branch, model, source)
    VALUES (${data.cc_session_id}, ${workspaceId}, ${event.device_id}, 'detected', ${event.timestamp},
            ${data.git_branch}, ${data.model}, ${data.source})
    ON CONFLICT (id) DO UPDATE SET
      started_at = EXCLUDED.started_at,
      git_branch = EXCLUDED.git_branch,
      model = EXCLUDED.model,
      source = EXCLUDED.source,
      updated_at = now()`;
}

export async function upsertSessionEnd(db: Db, event: FuelEvent, workspaceId: string): Promise<void> {
  const data = sessionEndDataSchema.parse(event.data);
  await db`
    INSERT INTO sessions (id, workspace_id, device_id, lifecycle, started_at, ended_at, end_reason, duration_ms)
    VALUES (
      ${data.cc_session_id}, ${workspaceId}, ${event.device_id}, 'ended',
      ${event.timestamp}::timestamptz - make_interval(secs => ${data.duration_ms}::double precision / 1000),
      ${event.timestamp}, ${data.end_reason}, ${data.duration_ms}
    )
    ON CONFLICT (id) DO UPDATE SET
      lifecycle = 'ended',
      ended_at = EXCLUDED.ended_at,
      end_reason = EXCLUDED.end_reason,
      duration_ms = EXCLUDED.duration_ms,
      updated_at = now()`;
}

const HANDLERS: Partial<Record<FuelEvent['type'], (db: Db, event: FuelEvent, workspaceId: string) => Promise<void>>> = {
  'session.start': upsertSessionStart,
  'session.end': upsertSessionEnd,
};

function localPathOf(event: FuelEvent): string | null {
  const cwd = event.type === 'session.start' ? event.data['cwd'] : undefined;
  return typeof cwd === 'string' ? cwd : null;
}

/**
 * One event, one transaction, as the seed did it: resolve the workspace, insert the event
 * (a conflict means a duplicate: stop), upsert the device and the workspace link, then run
 * the handler under a savepoint so its failure would roll back only its own writes.
 */
export async function processOneEvent(sql: Sql, event: FuelEvent): Promise<'processed' | 'duplicate'> {
  return sql.begin(async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, event.workspace_id);
    if (!(await insertEvent(tx, event, workspaceId))) return 'duplicate' as const;
    await upsertDevice(tx, event.device_id, event.timestamp);
    await upsertWorkspaceDevice(tx, {
      workspaceId,
      deviceId: event.device_id,
      localPath: localPathOf(event),
      activeAt: event.timestamp,
    });
    const handler = HANDLERS[event.type];
    if (handler) await tx.savepoint((sp) => handler(sp, event, workspaceId));
    return 'processed' as const;
  });
}
