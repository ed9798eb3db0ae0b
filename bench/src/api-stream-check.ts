import type Redis from 'ioredis';

export interface StreamCheck {
  /** Entries in the API's stream after the run, once it stopped growing. */
  entries: number;
  /** Distinct event ids among them (every request carried a new id, so this should equal entries). */
  distinctIds: number;
  /** Entries whose event id an earlier entry already had: written twice. */
  duplicateEntries: number;
}

const EVENT_ID = /"id":"([^"]+)"/;

/** How often, and how long at most, XLEN is read until it stops changing. */
const SETTLE_POLL_MS = 200;
const SETTLE_TIMEOUT_MS = 10_000;

/**
 * Wait until XLEN stops changing: the requests in flight when the last window ended are still
 * being written (an XLEN read before them, and a pass over the entries after, disagree).
 */
async function settled(redis: Redis, stream: string): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let last = await redis.xlen(stream);
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    const now = await redis.xlen(stream);
    if (now === last) return;
    last = now;
  }
}

/** Once the stream settled, a pass over every entry (XRANGE by pages) counting them and their distinct event ids. */
export async function checkStream(redis: Redis, stream: string): Promise<StreamCheck> {
  await settled(redis, stream);
  let entries = 0;
  const ids = new Set<string>();
  let duplicateEntries = 0;
  let start = '-';
  for (;;) {
    const page = await redis.xrange(stream, start, '+', 'COUNT', 10_000);
    entries += page.length;
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
