import type { Sql } from 'postgres';
import {
  canonicalJson, expectedDevices, expectedSessions, expectedWorkspaces, gitLinks, GIT_TYPES, type Envelope, type ExpectedSession,
} from './model';
import { compareTable, tableExpectations } from './tables';
import type { Check } from './verify';
import type { Workload } from './workload';

/** The checks of what the handlers made: sessions, workspaces, devices, handler failures, the fuel-code tables. */

export interface Expected {
  /** The stored events whose handler runs (known type, payload passes its schema). */
  handled: Envelope[];
  sessions: Map<string, ExpectedSession>;
  links: Map<string, string | null>;
}

export function verifyModelInputs(w: Workload): Expected {
  const handled = [...w.valid.values()].filter((e) => w.storedAs.get(e.id) === 'handled');
  const sessions = expectedSessions(handled);
  return { handled, sessions, links: gitLinks(handled.filter((e) => GIT_TYPES.has(e.type)), sessions) };
}

const time = (v: unknown): number | null => (typeof v === 'string' ? Date.parse(v) : null);

async function checkSessions(sql: Sql, x: Expected, add: (name: string, ok: boolean, detail: string) => void): Promise<void> {
  const rows = await sql<{ row: Record<string, unknown>; canonical_id: string | null }[]>`
    SELECT to_jsonb(s) AS row, w.canonical_id FROM sessions s LEFT JOIN workspaces w ON w.id = s.workspace_id`;
  const hasCompact = rows.length === 0 || 'compact_sequence' in (rows[0]?.row ?? {});
  const diffs: string[] = [];
  const seen = new Set<string>();
  for (const { row: s, canonical_id } of rows) {
    const id = String(s['id']);
    seen.add(id);
    const m = x.sessions.get(id);
    if (!m) {
      diffs.push(`${id}: not expected`);
      continue;
    }
    const got = [canonical_id, s['device_id'], s['lifecycle'], time(s['started_at']), time(s['ended_at']), s['end_reason'], s['duration_ms'], s['git_branch'], s['model'], s['source'],
      hasCompact ? s['compact_sequence'] : null];
    const want = [m.workspace, m.device, m.lifecycle, m.startedAtMs, m.endedAtMs, m.endReason, m.durationMs, m.gitBranch, m.model, m.source, hasCompact ? m.compactSequence : null];
    if (JSON.stringify(got) !== JSON.stringify(want)) diffs.push(`${id}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
  }
  for (const id of x.sessions.keys()) if (!seen.has(id)) diffs.push(`${id}: missing`);
  const all = [...x.sessions.values()];
  const ended = all.filter((m) => m.lifecycle === 'ended').length;
  add('sessions match the model (§3.2: earliest start and end win, duration 0 → ended_at − started_at, highest compact_sequence)', diffs.length === 0,
    `${x.sessions.size} sessions expected (${ended} ended, ${all.filter((m) => m.durationFromTimes).length} ended with duration_ms 0 after a known start), ${rows.length} rows` +
      `${hasCompact ? '' : ' (no compact_sequence column: not compared)'}; ${diffs.length} differ${diffs.length ? `: ${diffs.slice(0, 3).join('; ')}` : ''}`);
}

async function checkWorkspacesDevices(sql: Sql, w: Workload, x: Expected, add: (name: string, ok: boolean, detail: string) => void): Promise<void> {
  const stored = [...w.valid.values()];
  const wantWs = expectedWorkspaces(stored, x.handled.filter((e) => e.type === 'session.start'));
  const wantDev = expectedDevices(stored);
  const ws = await sql<{ canonical_id: string; display_name: string; default_branch: string | null }[]>`SELECT canonical_id, display_name, default_branch FROM workspaces`;
  const dev = await sql<{ id: string; name: string; type: string }[]>`SELECT id, name, type FROM devices`;
  const wsDiff = ws.filter((r) => canonicalJson(wantWs.get(r.canonical_id)) !== canonicalJson({ displayName: r.display_name, defaultBranch: r.default_branch }));
  const devDiff = dev.filter((r) => canonicalJson(wantDev.get(r.id)) !== canonicalJson({ name: r.name, type: r.type }));
  const ok = ws.length === wantWs.size && dev.length === wantDev.size && wsDiff.length === 0 && devDiff.length === 0;
  add('workspaces and devices: one row per canonical id / device id; display_name, default_branch (latest start with a branch), device name/type (latest hint)', ok,
    `${ws.length}/${wantWs.size} workspaces (${wsDiff.length} differ${wsDiff[0] ? `, e.g. ${JSON.stringify(wsDiff[0])} want ${JSON.stringify(wantWs.get(wsDiff[0].canonical_id))}` : ''}), ` +
      `${dev.length}/${wantDev.size} devices (${devDiff.length} differ${devDiff[0] ? `, e.g. ${JSON.stringify(devDiff[0])} want ${JSON.stringify(wantDev.get(devDiff[0].id))}` : ''})`);
}

async function checkFailures(sql: Sql, w: Workload, add: (name: string, ok: boolean, detail: string) => void): Promise<void> {
  const offSchema = new Set([...w.storedAs].filter(([, as]) => as === 'payload-invalid').map(([id]) => id));
  const rows = await sql<{ event_id: string; error_code: string }[]>`SELECT event_id, error_code FROM event_handler_failures`;
  const wrongCode = rows.filter((r) => offSchema.has(r.event_id) && r.error_code !== 'PAYLOAD_INVALID');
  const others = rows.filter((r) => !offSchema.has(r.event_id));
  const recorded = new Set(rows.map((r) => r.event_id));
  const missing = [...offSchema].filter((id) => !recorded.has(id));
  add('event_handler_failures holds exactly the off-schema events, each once, as PAYLOAD_INVALID (no handler failed, unknown types are not failures)',
    wrongCode.length === 0 && others.length === 0 && missing.length === 0 && rows.length === offSchema.size,
    `${offSchema.size} off-schema events, ${rows.length} rows; ${missing.length} missing, ${wrongCode.length} with another code, ${others.length} other events` +
      (others[0] ? ` (e.g. ${others[0].event_id} ${others[0].error_code})` : ''));
}

export async function verifyModel(sql: Sql, w: Workload, x: Expected, checks: Check[]): Promise<void> {
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  await checkSessions(sql, x, add);
  await checkWorkspacesDevices(sql, w, x, add);
  await checkFailures(sql, w, add);
  const skipped: string[] = [];
  for (const t of tableExpectations(x.handled, x.links)) {
    const outcome = await compareTable(sql, t);
    if (outcome) add(`${t.table}: ${t.rule}`, outcome.ok, outcome.detail);
    else skipped.push(t.table);
  }
  if (skipped.length) add(`tables not in this build's schema, not compared: ${skipped.join(', ')}`, true, 'skipped');
}
