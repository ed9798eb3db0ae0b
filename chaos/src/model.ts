import type { Envelope, StoredAs } from './workload';

export type { Envelope } from './workload';

/**
 * What PostgreSQL must hold after the run, computed from the published events with the rules
 * of docs/contract.md §3 — independent of the worker's code. Ties are broken by event time,
 * then by event id; the generator makes every event time distinct, so ids never decide here.
 */

export interface ExpectedSession {
  id: string;
  workspace: string;
  device: string;
  lifecycle: 'detected' | 'ended';
  startedAtMs: number | null;
  endedAtMs: number | null;
  endReason: string | null;
  durationMs: number | null;
  gitBranch: string | null;
  model: string | null;
  source: string | null;
  compactSequence: number | null;
  /** The end sent duration_ms 0 and the start is known: duration_ms is ended_at − started_at. */
  durationFromTimes: boolean;
}

export const UNASSOCIATED = '_unassociated';
const SESSION_TYPES = new Set(['session.start', 'session.end', 'session.compact']);
export const RELATIONSHIP_TYPES = new Set(['subagent.start', 'subagent.stop', 'team.create', 'team.message', 'skill.invoke', 'worktree.create', 'worktree.remove']);
export const GIT_TYPES = new Set(['git.commit', 'git.push', 'git.checkout', 'git.merge']);

export const canonicalWorkspace = (workspaceId: string): string => (workspaceId.trim() === '' ? UNASSOCIATED : workspaceId);
export const ms = (e: Envelope): number => Date.parse(e.timestamp);
/** a before b by (time, id). */
export const earlier = (a: Envelope, b: Envelope): boolean => ms(a) < ms(b) || (ms(a) === ms(b) && a.id < b.id);
export const earliest = (xs: readonly Envelope[]): Envelope | undefined => xs.reduce<Envelope | undefined>((m, e) => (!m || earlier(e, m) ? e : m), undefined);
export const latest = (xs: readonly Envelope[]): Envelope | undefined => xs.reduce<Envelope | undefined>((m, e) => (!m || earlier(m, e) ? e : m), undefined);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Group by a key; events without one are left out. */
export function groupBy(xs: Iterable<Envelope>, keyOf: (e: Envelope) => string | undefined): Map<string, Envelope[]> {
  const out = new Map<string, Envelope[]>();
  for (const e of xs) {
    const k = keyOf(e);
    if (k !== undefined) out.set(k, [...(out.get(k) ?? []), e]);
  }
  return out;
}

/** Sessions from the handled session events (earliest start and end win; docs/contract.md §3.2). */
export function expectedSessions(handled: readonly Envelope[]): Map<string, ExpectedSession> {
  const bySession = groupBy(handled.filter((e) => SESSION_TYPES.has(e.type)), (e) => str(e.data['cc_session_id']) ?? undefined);
  const out = new Map<string, ExpectedSession>();
  for (const [id, events] of bySession) {
    const start = earliest(events.filter((e) => e.type === 'session.start'));
    const end = earliest(events.filter((e) => e.type === 'session.end'));
    const compacts = events.filter((e) => e.type === 'session.compact').map((e) => e.data['compact_sequence'] as number);
    const placed = start ?? (earliest(events) as Envelope);
    const sent = end ? (end.data['duration_ms'] as number) : null;
    const endedAtMs = end ? ms(end) : null;
    out.set(id, {
      id,
      workspace: canonicalWorkspace(placed.workspace_id),
      device: placed.device_id,
      lifecycle: end ? 'ended' : 'detected',
      startedAtMs: start ? ms(start) : endedAtMs !== null && sent !== null ? endedAtMs - sent : null,
      endedAtMs,
      endReason: end ? (end.data['end_reason'] as string) : null,
      // Hooks send 0: then ended_at - started_at, once the start is known.
      durationMs: sent === 0 && start && endedAtMs !== null ? Math.max(0, endedAtMs - ms(start)) : sent,
      gitBranch: start ? str(start.data['git_branch']) : null,
      model: start ? str(start.data['model']) : null,
      source: start ? str(start.data['source']) : null,
      compactSequence: compacts.length ? Math.max(...compacts) : null,
      durationFromTimes: sent === 0 && start !== undefined,
    });
  }
  return out;
}

/**
 * Each handled git event's session: the one on the same workspace and device whose
 * [started_at, ended_at] (open-ended while not ended) covers its time, the most recently
 * started if several, else null.
 */
export function gitLinks(handledGit: readonly Envelope[], sessions: ReadonlyMap<string, ExpectedSession>): Map<string, string | null> {
  const byKey = new Map<string, ExpectedSession[]>();
  for (const s of sessions.values()) {
    const k = `${s.workspace}\u001f${s.device}`;
    byKey.set(k, [...(byKey.get(k) ?? []), s]);
  }
  const out = new Map<string, string | null>();
  for (const g of handledGit) {
    const t = ms(g);
    let best: ExpectedSession | undefined;
    for (const s of byKey.get(`${canonicalWorkspace(g.workspace_id)}\u001f${g.device_id}`) ?? []) {
      if (s.startedAtMs === null || s.startedAtMs > t || (s.endedAtMs !== null && s.endedAtMs < t)) continue;
      if (!best || (best.startedAtMs as number) < s.startedAtMs || (best.startedAtMs === s.startedAtMs && best.id < s.id)) best = s;
    }
    out.set(g.id, best ? best.id : null);
  }
  return out;
}

/** events.session_id by docs/contract.md §3.2. */
export function expectedEventSession(e: Envelope, as: StoredAs, links: ReadonlyMap<string, string | null>): string | null {
  if (as === 'handled') {
    if (SESSION_TYPES.has(e.type)) return e.data['cc_session_id'] as string;
    if (RELATIONSHIP_TYPES.has(e.type)) return e.data['session_id'] as string;
    if (GIT_TYPES.has(e.type)) return links.get(e.id) ?? null;
  }
  return e.session_id === '' ? null : e.session_id;
}

/** The payload as stored: without the device hints. */
export function storedData(data: Record<string, unknown>): Record<string, unknown> {
  const { _device_name: _name, _device_type: _type, ...rest } = data;
  return rest;
}

/** JSON with object keys sorted at every level: jsonb does not keep key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The fields of an event row that must equal what was published, as one comparable string. */
export function expectedEventRow(e: Envelope, sessionId: string | null): string {
  return canonicalJson({
    type: e.type, ts: ms(e), device: e.device_id, workspace: canonicalWorkspace(e.workspace_id), session: sessionId,
    data: storedData(e.data), blobs: e.blob_refs ?? [],
  });
}

export interface EventRow {
  id: string;
  type: string;
  timestamp: Date;
  device_id: string;
  canonical_id: string | null;
  session_id: string | null;
  data: unknown;
  blob_refs: unknown;
}

export function actualEventRow(r: EventRow): string {
  return canonicalJson({
    type: r.type, ts: r.timestamp.getTime(), device: r.device_id, workspace: r.canonical_id, session: r.session_id, data: r.data, blobs: r.blob_refs,
  });
}

/** A device hint as the worker takes it: a non-blank string. */
const hint = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

/** devices.name / type: the latest stored event with the hint, else the id and 'local'. */
export function expectedDevices(stored: Iterable<Envelope>): Map<string, { name: string; type: string }> {
  const out = new Map<string, { name: string; type: string }>();
  for (const [id, events] of groupBy(stored, (e) => e.device_id)) {
    const named = latest(events.filter((e) => hint(e.data['_device_name'])));
    const typed = latest(events.filter((e) => hint(e.data['_device_type'])));
    out.set(id, { name: named ? (named.data['_device_name'] as string) : id, type: typed ? (typed.data['_device_type'] as string) : 'local' });
  }
  return out;
}

/** workspaces.display_name by the fuel-code rule, default_branch from the latest start with a branch. */
export function expectedWorkspaces(stored: Iterable<Envelope>, handledStarts: readonly Envelope[]): Map<string, { displayName: string; defaultBranch: string | null }> {
  const out = new Map<string, { displayName: string; defaultBranch: string | null }>();
  const withBranch = groupBy(handledStarts.filter((e) => typeof e.data['git_branch'] === 'string' && e.data['git_branch'] !== ''), (e) => canonicalWorkspace(e.workspace_id));
  for (const e of stored) {
    const c = canonicalWorkspace(e.workspace_id);
    if (out.has(c)) continue;
    const displayName = c.startsWith('local:') ? `local-${c.slice(6, 14)}` : (c.split('/').filter((p) => p !== '').pop() ?? c);
    const start = latest(withBranch.get(c) ?? []);
    out.set(c, { displayName, defaultBranch: start ? (start.data['git_branch'] as string) : null });
  }
  return out;
}
