import { monotonicFactory } from 'ulid';
import { seededRandom, type EnvelopeInput } from '@fuel-code/testing';

/**
 * The chaos workload, all derived from the seed: Claude Code sessions (start, commits, a
 * heartbeat, end) over a few dozen workspaces and devices, some sessions without a start or
 * without an end, a few session-less events, deliberate re-publishes of the same event, and
 * ~1% poison. Each item says where it goes (the API or a direct XADD) and what must become of it.
 */

export type PoisonKind = 'malformed-json' | 'no-event-field' | 'bad-id' | 'unknown-type' | 'missing-field' | 'jsonb-refused';
export const POISON_KINDS: readonly PoisonKind[] = ['malformed-json', 'no-event-field', 'bad-id', 'unknown-type', 'missing-field', 'jsonb-refused'];
/** The dead-letter reason each poison kind must end with. */
export const EXPECTED_REASON: Record<PoisonKind, 'invalid' | 'failed'> = {
  'malformed-json': 'invalid',
  'no-event-field': 'invalid',
  'bad-id': 'invalid',
  'unknown-type': 'invalid',
  'missing-field': 'invalid',
  'jsonb-refused': 'failed',
};

/** A valid event as published: the producer's envelope (docs/contract.md §1). */
export type Envelope = EnvelopeInput;

export type Route = 'api' | 'direct';

export interface Item {
  /** Position in the publish order. */
  seq: number;
  /** The `event` field's value (for no-event-field: the value of another field). */
  json: string;
  route: Route;
  /** valid: a new event; duplicate: a valid event published again; else a poison kind. */
  kind: 'valid' | 'duplicate' | PoisonKind;
  /** The envelope id, when it has one worth tracking. */
  id?: string;
}

export interface Workload {
  items: Item[];
  /** Every valid event by id (duplicates share their original's entry). */
  valid: Map<string, Envelope>;
  poison: Item[];
}


const WORKSPACES = 36;
const DEVICES = 24;
const EPOCH_MS = Date.UTC(2025, 5, 1);
const MODELS = ['claude-sonnet-4-5', 'claude-opus-4-1', null] as const;
const BRANCHES = ['main', 'feature/chaos', 'fix/retry', null] as const;
const SOURCES = ['startup', 'resume', 'clear', 'compact'] as const;
const END_REASONS = ['exit', 'clear', 'logout', 'crash'] as const;

/** ISO-8601 of `ms`, in UTC (`Z`) or at a +02:00 / -05:30 offset: the same instant. */
function iso(ms: number, offsetMinutes: number): string {
  if (offsetMinutes === 0) return new Date(ms).toISOString();
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, -1);
  const sign = offsetMinutes > 0 ? '+' : '-';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

export function generateWorkload(total: number, seed: number): Workload {
  const random = seededRandom(seed);
  const nextId = monotonicFactory(seededRandom(seed ^ 0x5eed));
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const chance = (p: number) => random() < p;
  let clock = EPOCH_MS;
  const stamp = () => {
    clock += int(1, 400);
    return clock;
  };
  const offset = () => (chance(0.1) ? pick([120, -330]) : 0);
  const workspace = () => (chance(0.03) ? pick(['', '_unassociated']) : `github.com/chaos/ws-${int(1, WORKSPACES)}`);
  const device = () => `chaos-device-${String(int(1, DEVICES)).padStart(2, '0')}`;

  // Sessions interleave: a pool of open sessions, a random one moves one step per event.
  type Step = 'session.start' | 'git.commit' | 'system.heartbeat' | 'session.end';
  interface Open { sid: string; ws: string; dev: string; steps: Step[]; startMs: number }
  const pool: (Open | undefined)[] = new Array(40).fill(undefined);
  let sessions = 0;
  const envelopes: Envelope[] = [];
  const validTarget = Math.round(total * 0.985);

  while (envelopes.length < validTarget) {
    const at = stamp();
    const common = { id: nextId(at), timestamp: iso(at, offset()) };
    if (chance(0.04)) {
      // Session-less events.
      const type = pick(['system.heartbeat', 'git.push', 'system.device.register'] as const);
      envelopes.push({ ...common, type, device_id: device(), workspace_id: workspace(), session_id: null, data: { n: envelopes.length, note: 'no session' } });
      continue;
    }
    const slot = int(0, pool.length - 1);
    let s = pool[slot];
    if (!s) {
      sessions++;
      const steps: Step[] = [];
      if (!chance(0.08)) steps.push('session.start');
      for (let c = int(0, 4); c > 0; c--) steps.push('git.commit');
      if (chance(0.8)) steps.splice(int(Math.min(1, steps.length), steps.length), 0, 'system.heartbeat');
      if (!chance(0.12) || steps.length === 0) steps.push('session.end');
      s = { sid: `cc-${seed}-${sessions}-${Math.floor(random() * 1e9).toString(36)}`, ws: workspace(), dev: device(), steps, startMs: at };
      pool[slot] = s;
    }
    const step = s.steps.shift() as Step;
    if (s.steps.length === 0) pool[slot] = undefined;
    const base = { ...common, device_id: s.dev, workspace_id: s.ws, session_id: s.sid };
    if (step === 'session.start') {
      s.startMs = at;
      envelopes.push({
        ...base,
        type: step,
        data: {
          cc_session_id: s.sid,
          cwd: `/home/dev/${s.ws || 'scratch'}`,
          git_branch: pick(BRANCHES),
          git_remote: chance(0.5) ? `git@${s.ws}.git` : null,
          cc_version: '2.0.1',
          model: pick(MODELS),
          source: pick(SOURCES),
          transcript_path: `/home/dev/.claude/${s.sid}.jsonl`,
        },
      });
    } else if (step === 'session.end') {
      // duration_ms differs from end - start on purpose: with both events, started_at must
      // be the start's timestamp, not ended_at - duration_ms.
      envelopes.push({
        ...base,
        type: step,
        data: { cc_session_id: s.sid, duration_ms: at - s.startMs + int(0, 5000), end_reason: pick(END_REASONS), transcript_path: `/home/dev/.claude/${s.sid}.jsonl` },
      });
    } else if (step === 'git.commit') {
      envelopes.push({ ...base, type: step, data: { hash: nextId().toLowerCase(), message: pick(['fix: retry', 'feat: chaos ✓', 'docs: "quotes" and \\ backslash']), files_changed: int(1, 9) } });
    } else {
      envelopes.push({ ...base, type: step, data: { status: 'ok', queue_depth: int(0, 20) }, blob_refs: chance(0.2) ? [{ key: `blob/${s.sid}`, content_type: 'text/plain', size_bytes: int(0, 9999) }] : [] });
    }
  }

  // Local shuffle: events of one session may be published out of order (end before start).
  for (let i = envelopes.length - 1; i > 0; i--) {
    const j = Math.max(0, i - int(0, 60));
    [envelopes[i], envelopes[j]] = [envelopes[j] as Envelope, envelopes[i] as Envelope];
  }

  const valid = new Map<string, Envelope>();
  const items: Item[] = [];
  const route = (): Route => (chance(0.5) ? 'api' : 'direct');
  for (const e of envelopes) {
    valid.set(e.id, e);
    items.push({ seq: 0, json: JSON.stringify(e), route: route(), kind: 'valid', id: e.id });
  }
  // Deliberate duplicates (0.5%): the same event again, later, on either route. Poison goes
  // anywhere. Order by a sort key: an extra's key puts it between two originals.
  const keyed = items.map((item, k) => ({ k, item }));
  for (let n = Math.round(total * 0.005); n > 0; n--) {
    const at = int(0, items.length - 1);
    const original = items[at] as Item;
    keyed.push({ k: int(at, items.length - 1) + 0.5, item: { ...original, kind: 'duplicate', route: route() } });
  }
  const poison = makePoison(Math.max(POISON_KINDS.length, Math.round(total * 0.01)), seed, nextId, pick, route);
  for (const p of poison) keyed.push({ k: int(0, items.length - 1) + 0.25, item: p });
  keyed.sort((a, b) => a.k - b.k);
  const ordered = keyed.map(({ item }, seq) => ({ ...item, seq }));
  return { items: ordered, valid, poison: ordered.filter((i) => i.kind !== 'valid' && i.kind !== 'duplicate') };
}

function makePoison(
  count: number,
  seed: number,
  nextId: () => string,
  pick: <T>(xs: readonly T[]) => T,
  route: () => Route,
): Item[] {
  const out: Item[] = [];
  for (let n = 0; n < count; n++) {
    // Every kind at least once, then at random.
    const kind = n < POISON_KINDS.length ? (POISON_KINDS[n] as PoisonKind) : pick(POISON_KINDS);
    const id = nextId();
    const base: Envelope = {
      id,
      type: 'git.commit',
      timestamp: new Date(EPOCH_MS + n * 1000).toISOString(),
      device_id: 'chaos-poison-device',
      workspace_id: 'github.com/chaos/poison',
      session_id: null,
      data: { poison: kind, n, seed },
    };
    let json: string;
    let r: Route = route();
    switch (kind) {
      case 'malformed-json':
        json = JSON.stringify(base).slice(0, -7 - (n % 5));
        r = 'direct'; // a JSON body cannot carry malformed JSON
        break;
      case 'no-event-field':
        json = `payload-without-event-field-${seed}-${n}`;
        r = 'direct';
        break;
      case 'bad-id':
        json = JSON.stringify({ ...base, id: `not-a-ulid-${seed}-${n}` });
        break;
      case 'unknown-type':
        json = JSON.stringify({ ...base, type: 'git.rebase' });
        break;
      case 'missing-field': {
        const { timestamp: _dropped, ...rest } = base;
        json = n % 2 === 0 ? JSON.stringify(rest) : JSON.stringify({ ...base, type: 'session.end', data: { cc_session_id: `x-${n}`, end_reason: 'exit', transcript_path: '' } });
        break;
      }
      case 'jsonb-refused':
        // Valid JSON and a valid envelope, but jsonb cannot hold \u0000 inside a string.
        json = JSON.stringify({ ...base, data: { message: `nul\u0000inside ${n}`, n } });
        break;
    }
    const hasId = kind === 'unknown-type' || kind === 'missing-field' || kind === 'jsonb-refused';
    out.push({ seq: 0, json, route: r, kind, ...(hasId ? { id } : {}) });
  }
  return out;
}
