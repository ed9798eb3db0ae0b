import type { Envelope } from './workload';

/**
 * What PostgreSQL must hold after the run, computed from the published valid events with the
 * rules of docs/contract.md §3 — independent of the worker's code.
 */

export interface ExpectedSession {
  id: string;
  workspace: string;
  device: string;
  lifecycle: 'detected' | 'ended';
  startedAtMs: number;
  endedAtMs: number | null;
  endReason: string | null;
  durationMs: number | null;
  gitBranch: string | null;
  model: string | null;
  source: string | null;
}

export const UNASSOCIATED = '_unassociated';

export function canonicalWorkspace(workspaceId: string): string {
  return workspaceId === '' ? UNASSOCIATED : workspaceId;
}

export function expectedSessions(valid: Iterable<Envelope>): Map<string, ExpectedSession> {
  const starts = new Map<string, Envelope>();
  const ends = new Map<string, Envelope>();
  for (const e of valid) {
    const sid = e.data['cc_session_id'];
    if (typeof sid !== 'string') continue;
    if (e.type === 'session.start') starts.set(sid, e);
    if (e.type === 'session.end') ends.set(sid, e);
  }
  const out = new Map<string, ExpectedSession>();
  for (const id of new Set([...starts.keys(), ...ends.keys()])) {
    const start = starts.get(id);
    const end = ends.get(id);
    const any = (start ?? end) as Envelope;
    const endedAtMs = end ? Date.parse(end.timestamp) : null;
    const durationMs = end ? (end.data['duration_ms'] as number) : null;
    out.set(id, {
      id,
      workspace: canonicalWorkspace(any.workspace_id),
      device: any.device_id,
      lifecycle: end ? 'ended' : 'detected',
      // After only an end: started_at = ended_at - duration_ms.
      startedAtMs: start ? Date.parse(start.timestamp) : (endedAtMs as number) - (durationMs as number),
      endedAtMs,
      endReason: end ? (end.data['end_reason'] as string) : null,
      durationMs,
      gitBranch: start ? (start.data['git_branch'] as string | null) : null,
      model: start ? (start.data['model'] as string | null) : null,
      source: start ? (start.data['source'] as string) : null,
    });
  }
  return out;
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
export function expectedEventRow(e: Envelope): string {
  return canonicalJson({
    type: e.type,
    ts: Date.parse(e.timestamp),
    device: e.device_id,
    workspace: canonicalWorkspace(e.workspace_id),
    session: e.session_id,
    data: e.data,
    blobs: e.blob_refs ?? [],
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
    type: r.type,
    ts: r.timestamp.getTime(),
    device: r.device_id,
    workspace: r.canonical_id,
    session: r.session_id,
    data: r.data,
    blobs: r.blob_refs,
  });
}
