import { generateEvents, type Envelope, type StoredAs } from './client-gen';
import { makePoison, toFields, type Item, type Route } from './poison';
import { makeRng } from './rng';

/**
 * The chaos workload, all derived from the seed: the client-shaped events of client-gen.ts
 * (every one of them must be stored), ~3% of the direct ones in the fuel-code server's fields
 * format, deliberate re-publishes of the same event, and ~1% poison (poison.ts). Each item
 * says where it goes (the API or a direct XADD) and what must become of it.
 */

export type { Envelope, StoredAs } from './client-gen';
export { API_REJECTS, POISON_KINDS, type Item, type PoisonKind, type Route } from './poison';

export interface Workload {
  items: Item[];
  /** Every event that must be stored, by id (duplicates share their original's entry). */
  valid: Map<string, Envelope>;
  /** What the worker does with each: handle it, or only store it (unknown type, off-schema payload). */
  storedAs: Map<string, StoredAs>;
  poison: Item[];
}

/** The key under which the audit records an entry: its `event` bytes, else its fields. */
export function entryKey(fields: readonly string[]): string | undefined {
  if (fields.length === 2 && fields[0] === 'event') return fields[1] as string;
  if (fields.length === 2 && fields[0] === 'payload') return `payload:${fields[1] as string}`;
  if (fields.length >= 4 && fields[0] === 'id') return `fields:${JSON.stringify(fields)}`;
  return undefined;
}

/** The audit key of an item: what entryKey gives for the entry it is published as. */
export function auditKey(item: Item): string {
  if (item.fields) return `fields:${JSON.stringify(item.fields)}`;
  return item.kind === 'no-event-field' ? `payload:${item.json}` : item.json;
}

export function generateWorkload(total: number, seed: number): Workload {
  const r = makeRng(seed);
  const generated = generateEvents(Math.round(total * 0.985), seed, r);

  // Local shuffle: events of one session may be published out of order (end before start).
  for (let i = generated.length - 1; i > 0; i--) {
    const j = Math.max(0, i - r.int(0, 60));
    [generated[i], generated[j]] = [generated[j] as (typeof generated)[number], generated[i] as (typeof generated)[number]];
  }

  const valid = new Map<string, Envelope>();
  const storedAs = new Map<string, StoredAs>();
  const items: Item[] = [];
  const route = (): Route => (r.chance(0.5) ? 'api' : 'direct');
  for (const { envelope: e, storedAs: as } of generated) {
    valid.set(e.id, e);
    storedAs.set(e.id, as);
    const way = route();
    const asFields = way === 'direct' && r.chance(0.06);
    items.push({ seq: 0, json: JSON.stringify(e), ...(asFields ? { fields: toFields(e) } : {}), route: way, kind: 'valid', id: e.id });
  }
  // Deliberate duplicates (0.5%): the same event again, later, on either route (a fields-format
  // one in its own format, straight to the stream). Poison goes anywhere. Order by a sort
  // key: an extra's key puts it between two originals.
  const keyed = items.map((item, k) => ({ k, item }));
  for (let n = Math.round(total * 0.005); n > 0; n--) {
    const at = r.int(0, items.length - 1);
    const original = items[at] as Item;
    keyed.push({ k: r.int(at, items.length - 1) + 0.5, item: { ...original, kind: 'duplicate', route: original.fields ? 'direct' : route() } });
  }
  const poison = makePoison(Math.max(10, Math.round(total * 0.01)), seed, r, route);
  for (const p of poison) keyed.push({ k: r.int(0, items.length - 1) + 0.25, item: p });
  keyed.sort((a, b) => a.k - b.k);
  const ordered = keyed.map(({ item }, seq) => ({ ...item, seq }));
  return { items: ordered, valid, storedAs, poison: ordered.filter((i) => i.kind !== 'valid' && i.kind !== 'duplicate') };
}
