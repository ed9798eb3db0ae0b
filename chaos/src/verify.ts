import type Redis from 'ioredis';
import type { Sql } from 'postgres';
import { DEAD_LETTERS, GROUP, STREAM } from './fleet';
import { actualEventRow, canonicalWorkspace, expectedEventRow, expectedSessions, type EventRow } from './model';
import type { Audit } from './observe';
import { EXPECTED_REASON, type Envelope, type Item, type PoisonKind, type Workload } from './workload';

/** The end-of-run checks against PostgreSQL and the dead-letter stream. */

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DeadLetter {
  id: string;
  event: string;
  streamId: string;
  reason: string;
  attempts: string;
  error: string;
  consumer: string;
  failedAt: string;
}

export interface DataFacts {
  deadLetters: DeadLetter[];
  /** Stream entries carrying a valid id, and the distinct ids among them. */
  validEntries: number;
  validDistinct: number;
  rows: number;
}

const sample = (xs: Iterable<string>, n = 5) => [...xs].slice(0, n).join(', ');

export async function readDeadLetters(redis: Redis): Promise<DeadLetter[]> {
  const raw = await redis.xrange(DEAD_LETTERS, '-', '+');
  return raw.map(([id, fields]) => {
    const f = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i] as string, fields[i + 1] as string);
    return { id, event: f.get('event') ?? '<missing>', streamId: f.get('stream_id') ?? '', reason: f.get('reason') ?? '', attempts: f.get('attempts') ?? '', error: f.get('error') ?? '', consumer: f.get('consumer') ?? '', failedAt: f.get('failed_at') ?? '' };
  });
}

/** The key under which the audit recorded an item's stream entries. */
export const auditKey = (item: Item) => (item.kind === 'no-event-field' ? `payload:${item.json}` : item.json);

export async function verifyData(sql: Sql, redis: Redis, w: Workload, audit: Audit, checks: Check[]): Promise<DataFacts> {
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });

  // What the stream received, according to the audit group.
  const known = new Set(w.items.map(auditKey));
  const missingFromStream = w.items.filter((i) => !audit.byBytes.has(auditKey(i)));
  const unknownBytes = [...audit.byBytes.keys()].filter((k) => !known.has(k));
  add('every published item reached the stream (audit group)', missingFromStream.length === 0 && unknownBytes.length === 0 && audit.odd === 0,
    `${audit.seen.size} stream entries seen; ${missingFromStream.length} items never seen, ${unknownBytes.length} entries not byte-identical to anything published, ${audit.odd} with odd fields` +
      (unknownBytes.length ? `; e.g. ${unknownBytes[0]?.slice(0, 200)}` : ''));

  let validEntries = 0;
  for (const e of w.valid.values()) validEntries += audit.byBytes.get(JSON.stringify(e))?.length ?? 0;

  // Events: the set of ids, then every row's content.
  const rows = await sql<EventRow[]>`
    SELECT e.id, e.type, e."timestamp", e.device_id, w.canonical_id, e.session_id, e.data, e.blob_refs
    FROM events e LEFT JOIN workspaces w ON w.id = e.workspace_id`;
  const stored = new Map(rows.map((r) => [r.id, r]));
  const missing = [...w.valid.keys()].filter((id) => !stored.has(id));
  const extra = [...stored.keys()].filter((id) => !w.valid.has(id));
  add('every valid event is in events exactly once', missing.length === 0 && extra.length === 0 && rows.length === w.valid.size,
    `${w.valid.size} valid ids published, ${rows.length} rows; ${missing.length} missing${missing.length ? ` (${sample(missing)})` : ''}, ${extra.length} unexpected${extra.length ? ` (${sample(extra)})` : ''}`);
  const wrong: string[] = [];
  for (const [id, e] of w.valid) {
    const r = stored.get(id);
    if (r && actualEventRow(r) !== expectedEventRow(e)) wrong.push(id);
  }
  add('stored events equal what was published (type, timestamp, device, workspace, session, data as a jsonb object, blob_refs)', wrong.length === 0,
    wrong.length ? `${wrong.length} differ, e.g. ${wrong[0]}: expected ${expectedEventRow(w.valid.get(wrong[0] as string) as Envelope).slice(0, 300)} got ${actualEventRow(stored.get(wrong[0] as string) as EventRow).slice(0, 300)}` : `${rows.length} rows compared`);

  // Sessions against the model.
  const model = expectedSessions(w.valid.values());
  const sessions = await sql<{
    id: string; canonical_id: string | null; device_id: string; lifecycle: string; started_at: Date | null; ended_at: Date | null;
    end_reason: string | null; duration_ms: number | null; git_branch: string | null; model: string | null; source: string | null;
  }[]>`SELECT s.*, w.canonical_id FROM sessions s LEFT JOIN workspaces w ON w.id = s.workspace_id`;
  const diffs: string[] = [];
  const seenSessions = new Set<string>();
  for (const s of sessions) {
    seenSessions.add(s.id);
    const m = model.get(s.id);
    if (!m) {
      diffs.push(`${s.id}: not expected`);
      continue;
    }
    const got = [s.canonical_id, s.device_id, s.lifecycle, s.started_at?.getTime() ?? null, s.ended_at?.getTime() ?? null, s.end_reason, s.duration_ms, s.git_branch, s.model, s.source];
    const want = [m.workspace, m.device, m.lifecycle, m.startedAtMs, m.endedAtMs, m.endReason, m.durationMs, m.gitBranch, m.model, m.source];
    if (JSON.stringify(got) !== JSON.stringify(want)) diffs.push(`${s.id}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
  }
  for (const id of model.keys()) if (!seenSessions.has(id)) diffs.push(`${id}: missing`);
  const ended = [...model.values()].filter((m) => m.lifecycle === 'ended').length;
  add('sessions match the model (docs/contract.md §3: lifecycle, started_at, ended_at, end_reason, duration_ms, git_branch, model, source)', diffs.length === 0,
    `${model.size} sessions expected (${ended} ended, ${model.size - ended} detected), ${sessions.length} rows; ${diffs.length} differ${diffs.length ? `: ${diffs.slice(0, 3).join('; ')}` : ''}`);

  // Workspaces and devices: one row each, none missing (the poison's may exist or not).
  const wantWs = new Set([...w.valid.values()].map((e) => canonicalWorkspace(e.workspace_id)));
  const wantDev = new Set([...w.valid.values()].map((e) => e.device_id));
  const ws = (await sql<{ canonical_id: string }[]>`SELECT canonical_id FROM workspaces`).map((r) => r.canonical_id).filter((c) => c !== 'github.com/chaos/poison');
  const dev = (await sql<{ id: string }[]>`SELECT id FROM devices`).map((r) => r.id).filter((d) => d !== 'chaos-poison-device');
  const wsOk = ws.length === wantWs.size && ws.every((c) => wantWs.has(c));
  const devOk = dev.length === wantDev.size && dev.every((d) => wantDev.has(d));
  add('workspaces and devices: exactly one row per canonical id / device id seen', wsOk && devOk, `${ws.length}/${wantWs.size} workspaces, ${dev.length}/${wantDev.size} devices`);

  // Dead letters: one per poison stream entry, the right reason, the original bytes.
  const deadLetters = await readDeadLetters(redis);
  const byStreamId = new Map<string, DeadLetter[]>();
  for (const d of deadLetters) byStreamId.set(d.streamId, [...(byStreamId.get(d.streamId) ?? []), d]);
  const poisonEntries = new Map<string, Item>();
  for (const p of w.poison) for (const sid of audit.byBytes.get(auditKey(p)) ?? []) poisonEntries.set(sid, p);
  const problems: string[] = [];
  for (const [sid, p] of poisonEntries) {
    const dls = byStreamId.get(sid) ?? [];
    const bytes = p.kind === 'no-event-field' ? '' : p.json;
    if (dls.length !== 1) problems.push(`${p.kind} #${p.seq} (entry ${sid}) dead-lettered ${dls.length} times${dls.map((d) => ` [${d.id} by ${d.consumer} at ${d.failedAt}, attempts ${d.attempts}]`).join('')}`);
    for (const d of dls) {
      if (d.reason !== EXPECTED_REASON[p.kind as PoisonKind]) problems.push(`${p.kind} #${p.seq}: reason ${d.reason}, want ${EXPECTED_REASON[p.kind as PoisonKind]} (${d.error.slice(0, 150)})`);
      if (d.event !== bytes) problems.push(`${p.kind} #${p.seq}: event field not byte-identical`);
      if (d.reason === 'failed' && Number(d.attempts) < 3) problems.push(`${p.kind} #${p.seq}: failed after ${d.attempts} attempts (< 3)`);
    }
  }
  add('every poison entry is in the dead-letter stream exactly once, with the right reason and its original bytes', problems.length === 0,
    `${w.poison.length} poison inputs in ${poisonEntries.size} stream entries, ${deadLetters.length} dead letters; ${problems.length} problems${problems.length ? `: ${problems.slice(0, 4).join('; ')}` : ''}`);
  const stray = deadLetters.filter((d) => !poisonEntries.has(d.streamId));
  add('no valid event was dead-lettered', stray.length === 0,
    stray.length ? `${stray.length} stray dead letters, e.g. ${stray[0]?.reason} ${stray[0]?.error.slice(0, 200)} (${stray[0]?.event.slice(0, 120)})` : 'none');
  const poisonIds = w.poison.flatMap((p) => (p.id ? [p.id] : [])).filter((id) => stored.has(id));
  add('no poison event reached the events table', poisonIds.length === 0, poisonIds.length ? sample(poisonIds) : 'none');

  const pending = (await redis.xpending(STREAM, GROUP)) as [number, ...unknown[]];
  add('group pending is 0 (XPENDING)', Number(pending[0]) === 0, `${pending[0]} pending`);
  return { deadLetters, validEntries, validDistinct: w.valid.size, rows: rows.length };
}
