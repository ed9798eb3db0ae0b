/** One stream entry as read, fields kept as the raw bytes Redis holds. */
export interface StreamEntry {
  id: string;
  /** Field name → raw value. Empty when the entry was deleted while still pending. */
  fields: Map<string, Buffer>;
  /** True when Redis still lists the id as pending but the entry itself is gone (trimmed/deleted). */
  deleted: boolean;
}

/** The `event` field: the envelope as JSON, the format this project's API writes. */
export function eventField(entry: StreamEntry): Buffer | undefined {
  return entry.fields.get('event');
}

/**
 * What an entry holds, in either stream format (docs/contract.md §2):
 *  - `event`: one field, `event`, the envelope as JSON;
 *  - `fields`: the fuel-code server's format, one field per envelope key (`data` and
 *    `blob_refs` as JSON, '' meaning null), recognised by its `id` and `type` fields;
 *  - `none`: neither (a dead letter, reason invalid).
 */
export type EntryBody =
  | { format: 'event'; json: Buffer }
  | { format: 'fields'; fields: Record<string, string> }
  | { format: 'none' };

export function entryBody(entry: StreamEntry): EntryBody {
  const json = entry.fields.get('event');
  if (json !== undefined) return { format: 'event', json };
  if (!entry.fields.has('id') || !entry.fields.has('type')) return { format: 'none' };
  const fields: Record<string, string> = {};
  for (const [name, value] of entry.fields) fields[name] = value.toString('utf8');
  return { format: 'fields', fields };
}

/**
 * The bytes a dead letter keeps of an entry: the `event` field as it was, or for an entry
 * in the fields format all its fields as one JSON object (with `format` = 'fields', so a
 * replay can write them back as fields).
 */
export function deadLetterBody(entry: StreamEntry): { event: Buffer | undefined; format?: 'fields' } {
  const body = entryBody(entry);
  if (body.format === 'fields') return { event: Buffer.from(JSON.stringify(body.fields)), format: 'fields' };
  return { event: entry.fields.get('event') };
}

/**
 * Turn one raw `[id, [field, value, ...] | null]` reply into a StreamEntry. Never throws:
 * an odd shape becomes an entry with no fields, which the consumer dead-letters.
 */
export function toStreamEntry(raw: unknown): StreamEntry | undefined {
  if (!Array.isArray(raw) || raw.length < 1) return undefined;
  const [rawId, rawFields] = raw as [unknown, unknown];
  const id = Buffer.isBuffer(rawId) ? rawId.toString() : typeof rawId === 'string' ? rawId : undefined;
  if (!id) return undefined;
  const fields = new Map<string, Buffer>();
  if (!Array.isArray(rawFields)) return { id, fields, deleted: rawFields === null };
  for (let i = 0; i + 1 < rawFields.length; i += 2) {
    const name: unknown = rawFields[i];
    const value: unknown = rawFields[i + 1];
    const key = Buffer.isBuffer(name) ? name.toString() : String(name);
    // First occurrence wins if a producer wrote the same field twice.
    if (fields.has(key)) continue;
    fields.set(key, Buffer.isBuffer(value) ? value : Buffer.from(String(value)));
  }
  return { id, fields, deleted: false };
}

/** XREAD/XREADGROUP reply: `[[stream, [entry, ...]], ...]` or null on timeout. */
export function entriesOfReadReply(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: StreamEntry[] = [];
  for (const perStream of reply) {
    if (!Array.isArray(perStream) || !Array.isArray(perStream[1])) continue;
    for (const raw of perStream[1] as unknown[]) {
      const entry = toStreamEntry(raw);
      if (entry) entries.push(entry);
    }
  }
  return entries;
}
