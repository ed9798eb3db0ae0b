import type Redis from 'ioredis';
import type { Sql } from 'postgres';
import { DEAD_LETTERS, GROUP, STREAM } from './fleet';
import { actualEventRow, canonicalJson, expectedEventRow, expectedEventSession, type EventRow } from './model';
import type { Audit } from './observe';
import { verifyModel, verifyModelInputs, type Expected } from './verify-model';
import { auditKey, type Envelope, type Item, type Workload } from './workload';

/** The end-of-run checks against PostgreSQL and the dead-letter stream. */

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DeadLetter {
  id: string;
  event: string;
  format: string | undefined;
  streamId: string;
  reason: string;
  attempts: string;
  error: string;
  consumer: string;
  failedAt: string;
}

export interface DataFacts {
  deadLetters: DeadLetter[];
  /** Stream entries carrying an event to store, and the distinct ids among them. */
  validEntries: number;
  validDistinct: number;
  rows: number;
  /** Stream ids of the poison entries (their dead letters are deliberate). */
  poisonEntries: Set<string>;
}

const sample = (xs: Iterable<string>, n = 5) => [...xs].slice(0, n).join(', ');

export async function readDeadLetters(redis: Redis): Promise<DeadLetter[]> {
  const raw = await redis.xrange(DEAD_LETTERS, '-', '+');
  return raw.map(([id, fields]) => {
    const f = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i] as string, fields[i + 1] as string);
    return {
      id, event: f.get('event') ?? '<missing>', format: f.get('format'), streamId: f.get('stream_id') ?? '', reason: f.get('reason') ?? '',
      attempts: f.get('attempts') ?? '', error: f.get('error') ?? '', consumer: f.get('consumer') ?? '', failedAt: f.get('failed_at') ?? '',
    };
  });
}

/** A dead letter keeps its input: the event bytes, or a fields entry's fields as one JSON object. */
function keepsInput(d: DeadLetter, p: Item): boolean {
  if (!p.fields) return d.format === undefined && d.event === (p.kind === 'no-event-field' ? '' : p.json);
  const want: Record<string, string> = {};
  for (let i = 0; i + 1 < p.fields.length; i += 2) want[p.fields[i] as string] = p.fields[i + 1] as string;
  try {
    return d.format === 'fields' && canonicalJson(JSON.parse(d.event)) === canonicalJson(want);
  } catch {
    return false;
  }
}

export async function verifyData(sql: Sql, redis: Redis, w: Workload, audit: Audit, checks: Check[]): Promise<DataFacts> {
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });

  // What the stream received, according to the audit group.
  const known = new Set(w.items.map(auditKey));
  const missingFromStream = w.items.filter((i) => !audit.byBytes.has(auditKey(i)));
  const unknownBytes = [...audit.byBytes.keys()].filter((k) => !known.has(k));
  add('every published item reached the stream (audit group)', missingFromStream.length === 0 && unknownBytes.length === 0 && audit.odd === 0,
    `${audit.seen.size} stream entries seen; ${missingFromStream.length} items never seen, ${unknownBytes.length} entries not byte-identical to anything published, ${audit.odd} with odd fields` +
      (unknownBytes.length ? `; e.g. ${unknownBytes[0]?.slice(0, 200)}` : ''));
  const storedKeys = new Set(w.items.filter((i) => i.kind === 'valid' || i.kind === 'duplicate').map(auditKey));
  let validEntries = 0;
  for (const k of storedKeys) validEntries += audit.byBytes.get(k)?.length ?? 0;

  // Events: the set of ids, then every row's content.
  const rows = await sql<EventRow[]>`
    SELECT e.id, e.type, e."timestamp", e.device_id, w.canonical_id, e.session_id, e.data, e.blob_refs
    FROM events e LEFT JOIN workspaces w ON w.id = e.workspace_id`;
  const stored = new Map(rows.map((r) => [r.id, r]));
  const missing = [...w.valid.keys()].filter((id) => !stored.has(id));
  const extra = [...stored.keys()].filter((id) => !w.valid.has(id));
  const byAs = new Map<string, number>();
  for (const as of w.storedAs.values()) byAs.set(as, (byAs.get(as) ?? 0) + 1);
  add('every event to store (all 21 types, unknown types, off-schema payloads) is in events exactly once', missing.length === 0 && extra.length === 0 && rows.length === w.valid.size,
    `${w.valid.size} ids published (${[...byAs].map(([k, n]) => `${k} ${n}`).join(', ')}), ${rows.length} rows; ${missing.length} missing${missing.length ? ` (${sample(missing)})` : ''}, ${extra.length} unexpected${extra.length ? ` (${sample(extra)})` : ''}`);

  const expected: Expected = verifyModelInputs(w);
  const wrong: string[] = [];
  const want = (e: Envelope) => expectedEventRow(e, expectedEventSession(e, w.storedAs.get(e.id) ?? 'handled', expected.links));
  for (const [id, e] of w.valid) {
    const r = stored.get(id);
    if (r && actualEventRow(r) !== want(e)) wrong.push(id);
  }
  const firstWrong = wrong[0];
  add('stored events equal what was published (type, time, device, workspace, session by the contract\'s rules, data without the _device_* hints, blob_refs)', wrong.length === 0,
    firstWrong ? `${wrong.length} differ, e.g. ${firstWrong}: expected ${want(w.valid.get(firstWrong) as Envelope).slice(0, 400)} got ${actualEventRow(stored.get(firstWrong) as EventRow).slice(0, 400)}` : `${rows.length} rows compared`);

  await verifyModel(sql, w, expected, checks);

  // Dead letters: one per poison stream entry, reason invalid, the original input.
  const deadLetters = await readDeadLetters(redis);
  const byStreamId = new Map<string, DeadLetter[]>();
  for (const d of deadLetters) byStreamId.set(d.streamId, [...(byStreamId.get(d.streamId) ?? []), d]);
  const poisonEntries = new Map<string, Item>();
  for (const p of w.poison) for (const sid of audit.byBytes.get(auditKey(p)) ?? []) poisonEntries.set(sid, p);
  const problems: string[] = [];
  for (const [sid, p] of poisonEntries) {
    const dls = byStreamId.get(sid) ?? [];
    if (dls.length !== 1) problems.push(`${p.kind} #${p.seq} (entry ${sid}) dead-lettered ${dls.length} times${dls.map((d) => ` [${d.id} by ${d.consumer} at ${d.failedAt}, attempts ${d.attempts}]`).join('')}`);
    for (const d of dls) {
      if (d.reason !== 'invalid') problems.push(`${p.kind} #${p.seq}: reason ${d.reason}, want invalid (${d.error.slice(0, 150)})`);
      if (!keepsInput(d, p)) problems.push(`${p.kind} #${p.seq}: the dead letter does not keep the entry's input`);
    }
  }
  add('every poison entry is in the dead-letter stream exactly once, reason invalid (at once, no retries), with its original input', problems.length === 0,
    `${w.poison.length} poison inputs in ${poisonEntries.size} stream entries, ${deadLetters.length} dead letters; ${problems.length} problems${problems.length ? `: ${problems.slice(0, 4).join('; ')}` : ''}`);
  const stray = deadLetters.filter((d) => !poisonEntries.has(d.streamId));
  add('no event to store was dead-lettered (no outage caused a dead letter)', stray.length === 0,
    stray.length ? `${stray.length} stray dead letters, e.g. ${stray[0]?.reason} ${stray[0]?.error.slice(0, 200)} (${stray[0]?.event.slice(0, 120)})` : 'none');
  const poisonIds = w.poison.flatMap((p) => (p.id ? [p.id] : [])).filter((id) => stored.has(id));
  add('no poison event reached the events table', poisonIds.length === 0, poisonIds.length ? sample(poisonIds) : 'none');

  const pending = (await redis.xpending(STREAM, GROUP)) as [number, ...unknown[]];
  add('group pending is 0 (XPENDING)', Number(pending[0]) === 0, `${pending[0]} pending`);
  return { deadLetters, validEntries, validDistinct: w.valid.size, rows: rows.length, poisonEntries: new Set(poisonEntries.keys()) };
}
