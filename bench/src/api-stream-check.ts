import type Redis from 'ioredis';

export interface StreamCheck {
  /** XLEN of the API's stream after the run. */
  entries: number;
  /** Distinct event ids among them (every request carried a new id, so this should equal entries). */
  distinctIds: number;
  /** Entries whose event id an earlier entry already had: written twice. */
  duplicateEntries: number;
}

const EVENT_ID = /"id":"([^"]+)"/;

/** XLEN, and a pass over every entry (XRANGE by pages) counting distinct event ids. */
export async function checkStream(redis: Redis, stream: string): Promise<StreamCheck> {
  const entries = await redis.xlen(stream);
  const ids = new Set<string>();
  let duplicateEntries = 0;
  let start = '-';
  for (;;) {
    const page = await redis.xrange(stream, start, '+', 'COUNT', 10_000);
    for (const [, fields] of page) {
      const id = EVENT_ID.exec(fields[1] ?? '')?.[1] ?? '';
      if (ids.has(id)) duplicateEntries++;
      ids.add(id);
    }
    const last = page[page.length - 1];
    if (!last || page.length < 10_000) break;
    start = `(${last[0]}`;
  }
  return { entries, distinctIds: ids.size, duplicateEntries };
}
