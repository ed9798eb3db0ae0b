import type { Sql } from 'postgres';
import { recycleSqlClient } from '@fuel-code/db';
import { toError } from '@fuel-code/core';

/*
 * The console's PostgreSQL reads, one function per statement. Each one is bounded by an
 * index: events per minute by events_ingested_at_brin, recent sessions by
 * sessions_created_at_idx, a session's events by events_session_id_idx
 * (libs/db/migrations 001 and 005).
 */

export interface MinuteCount {
  /** Start of the minute, ms since epoch. */
  minute: number;
  count: number;
}

/** Events stored per minute over the last `minutes` minutes, every minute present (0 when none). */
export async function eventsPerMinute(sql: Sql, minutes: number, now: number = Date.now()): Promise<MinuteCount[]> {
  const first = Math.floor(now / 60_000) - (minutes - 1);
  const rows = await sql<{ minute: Date; n: number }[]>`
    SELECT date_trunc('minute', ingested_at) AS minute, count(*)::int AS n
    FROM events
    WHERE ingested_at >= ${new Date(first * 60_000)}
    GROUP BY 1`;
  const counts = new Map(rows.map((r) => [Math.floor(r.minute.getTime() / 60_000), r.n]));
  return Array.from({ length: minutes }, (_, i) => ({ minute: (first + i) * 60_000, count: counts.get(first + i) ?? 0 }));
}

export interface SessionRow {
  id: string;
  lifecycle: string;
  workspace: string;
  device: string;
  startedAt: Date | null;
  endedAt: Date | null;
  durationMs: number | null;
  createdAt: Date;
  /** Events stored with this session id. */
  events: number;
}

/** A session row `s` with its workspace `w`'s and device `d`'s display names and its event count. */
function sessionColumns(sql: Sql) {
  return sql`s.id, s.lifecycle,
    COALESCE(w.display_name, s.workspace_id) AS workspace,
    COALESCE(d.name, s.device_id) AS device,
    s.started_at AS "startedAt", s.ended_at AS "endedAt", s.duration_ms AS "durationMs",
    s.created_at AS "createdAt",
    (SELECT count(*)::int FROM events e WHERE e.session_id = s.id) AS events`;
}

/** The newest sessions by first sight, with their workspace's and device's display names. */
export async function recentSessions(sql: Sql, limit: number): Promise<SessionRow[]> {
  return sql<SessionRow[]>`
    SELECT ${sessionColumns(sql)}
    FROM (SELECT * FROM sessions ORDER BY created_at DESC, id DESC LIMIT ${limit}) s
    LEFT JOIN workspaces w ON w.id = s.workspace_id
    LEFT JOIN devices d ON d.id = s.device_id
    ORDER BY s.created_at DESC, s.id DESC`;
}

export async function sessionById(sql: Sql, id: string): Promise<SessionRow | undefined> {
  const [row] = await sql<SessionRow[]>`
    SELECT ${sessionColumns(sql)}
    FROM sessions s
    LEFT JOIN workspaces w ON w.id = s.workspace_id
    LEFT JOIN devices d ON d.id = s.device_id
    WHERE s.id = ${id}`;
  return row;
}

export interface TimelineEvent {
  id: string;
  type: string;
  timestamp: Date;
  ingestedAt: Date;
}

/** A session's events in event-time order (at most `limit`), for the timeline. */
export async function sessionEvents(sql: Sql, sessionId: string, limit: number): Promise<TimelineEvent[]> {
  return sql<TimelineEvent[]>`
    SELECT id, type, "timestamp", ingested_at AS "ingestedAt"
    FROM events
    WHERE session_id = ${sessionId}
    ORDER BY "timestamp", id
    LIMIT ${limit}`;
}

export type DatabaseState = { state: 'writable' } | { state: 'read-only'; detail: string } | { state: 'unreachable'; detail: string };

/**
 * Would this database take the workers' writes? The same question the worker's /readyz asks
 * (a read-only default or a hot standby answers SELECT 1 and refuses every write). A session
 * keeps the read-only default it started with, so a read-only answer recycles the pool: the
 * next sample sees what a new session would.
 */
export async function databaseState(sql: Sql): Promise<DatabaseState> {
  let row: { readOnly: string; inRecovery: boolean } | undefined;
  try {
    [row] = await sql<{ readOnly: string; inRecovery: boolean }[]>`
      SELECT current_setting('transaction_read_only') AS "readOnly", pg_is_in_recovery() AS "inRecovery"`;
  } catch (err) {
    return { state: 'unreachable', detail: toError(err).message };
  }
  if (!row?.inRecovery && row?.readOnly === 'off') return { state: 'writable' };
  recycleSqlClient(sql).catch(() => undefined);
  return { state: 'read-only', detail: row?.inRecovery ? 'in recovery (a standby)' : 'default_transaction_read_only is on' };
}
