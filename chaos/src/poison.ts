import type { Envelope } from './client-gen';
import { EPOCH_MS } from './client-gen';
import type { Rng } from './rng';

/**
 * What the pipeline can never store (docs/contract.md §1.2): the API refuses it up front
 * (`rejected` in the 202), and straight in the stream the worker dead-letters it as
 * `invalid` at once. An unknown type or an off-schema payload is NOT poison any more: those
 * are stored (client-gen.ts).
 */
export type PoisonKind =
  | 'malformed-json' | 'no-event-field' | 'fields-bad-data' | 'bad-id' | 'missing-field'
  | 'nul' | 'lone-surrogate' | 'too-deep' | 'id-too-long' | 'bad-year';
export const POISON_KINDS: readonly PoisonKind[] = [
  'malformed-json', 'no-event-field', 'fields-bad-data', 'bad-id', 'missing-field', 'nul', 'lone-surrogate', 'too-deep', 'id-too-long', 'bad-year',
];
/** The ones the API must answer `rejected` (the rest cannot be sent through it). */
export const API_REJECTS: ReadonlySet<string> = new Set(['bad-id', 'missing-field', 'nul', 'lone-surrogate', 'too-deep', 'id-too-long', 'bad-year']);

export type Route = 'api' | 'direct';

export interface Item {
  /** Position in the publish order. */
  seq: number;
  /** The `event` field's value (no-event-field: the value of its one other field). */
  json: string;
  /** A fields-format entry (the fuel-code server's stream format): XADDed as these field/value pairs. */
  fields?: string[];
  route: Route;
  /** valid: a new event to be stored; duplicate: one published again; else a poison kind. */
  kind: 'valid' | 'duplicate' | PoisonKind;
  /** The envelope id, when it has one worth tracking. */
  id?: string;
}

/** An envelope as the fuel-code server XADDs it: one field per key, '' for null. */
export function toFields(e: Envelope): string[] {
  return [
    'id', e.id, 'type', e.type, 'timestamp', e.timestamp, 'device_id', e.device_id, 'workspace_id', e.workspace_id,
    'session_id', e.session_id ?? '', 'data', JSON.stringify(e.data), 'blob_refs', JSON.stringify(e.blob_refs ?? []),
    'ingested_at', typeof e.ingested_at === 'string' ? e.ingested_at : '',
  ];
}

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

export function makePoison(count: number, seed: number, r: Rng, route: () => Route): Item[] {
  const out: Item[] = [];
  for (let n = 0; n < count; n++) {
    // Every kind at least once, then at random.
    const kind = n < POISON_KINDS.length ? (POISON_KINDS[n] as PoisonKind) : r.pick(POISON_KINDS);
    const id = r.nextId(EPOCH_MS + n * 1000);
    const base: Envelope = {
      id, type: 'git.commit', timestamp: new Date(EPOCH_MS + n * 1000).toISOString(), device_id: 'chaos-poison-device',
      workspace_id: 'github.com/chaos/poison', session_id: null,
      data: { hash: `p${n}`, message: `poison ${kind}`, author_name: 'P', branch: 'main', files_changed: 1, insertions: 0, deletions: 0, seed },
    };
    const withData = (extra: Record<string, unknown>) => JSON.stringify({ ...base, data: { ...base.data, ...extra } });
    let item: Omit<Item, 'seq'> = { json: '', route: route(), kind, id };
    switch (kind) {
      case 'malformed-json':
        item = { json: JSON.stringify(base).slice(0, -7 - (n % 5)), route: 'direct', kind }; // a JSON body cannot carry it
        break;
      case 'no-event-field':
        item = { json: `payload-without-event-field-${seed}-${n}`, route: 'direct', kind };
        break;
      case 'fields-bad-data': {
        const fields = toFields(base);
        fields[fields.indexOf('data') + 1] = '{"hash": "not json';
        item = { json: '', fields, route: 'direct', kind, id };
        break;
      }
      case 'bad-id':
        item = { json: JSON.stringify({ ...base, id: `not-a-ulid-${seed}-${n}` }), route: item.route, kind };
        break;
      case 'missing-field': {
        const { timestamp: _dropped, ...rest } = base;
        item.json = JSON.stringify(rest);
        break;
      }
      case 'nul':
        item.json = withData({ message: `nul\u0000inside ${n}` });
        break;
      case 'lone-surrogate':
        // JSON.stringify escapes it as \ud800: valid JSON that jsonb refuses.
        item.json = withData({ message: `half a pair \ud800 ${n}` });
        break;
      case 'too-deep':
        item.json = withData({ deep: nested(70) });
        break;
      case 'id-too-long':
        item.json = JSON.stringify({ ...base, workspace_id: `github.com/chaos/${'x'.repeat(513)}` });
        break;
      case 'bad-year':
        item.json = JSON.stringify({ ...base, timestamp: n % 2 === 0 ? '0000-06-01T00:00:00Z' : '1969-12-31T23:59:59Z' });
        break;
    }
    out.push({ seq: 0, ...item });
  }
  return out;
}
