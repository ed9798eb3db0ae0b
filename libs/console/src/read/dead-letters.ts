import type Redis from 'ioredis';
import { toDeadLetterRecord, toStreamEntry, type DeadLetterRecord } from '@fuel-code/stream';

export interface DeadLetterFilter {
  reason?: string | undefined;
  type?: string | undefined;
}

/** A dead letter as a list shows it: the record without its bytes, with their type and size. */
export interface DeadLetterRow extends Omit<DeadLetterRecord, 'event'> {
  /** The event type read from the original bytes; undefined when they are not a JSON object with a string `type`. */
  type: string | undefined;
  bytes: number;
}

export interface DeadLetterPage {
  rows: DeadLetterRow[];
  /** Pass as `before` for the next (older) page; undefined at the end of the stream. */
  nextBefore: string | undefined;
  /** Entries read to fill this page (more than rows.length when a filter skipped some). */
  scanned: number;
  /** True when a filtered page stopped at the scan bound before the page was full or the stream ended. */
  scanLimitReached: boolean;
}

export interface PageOptions {
  /** Start after this id (exclusive), going back in time; newest first when undefined. */
  before?: string | undefined;
  pageSize: number;
  filter?: DeadLetterFilter;
  /** At most this many entries are read for one filtered page, so a rare filter costs a bounded time. */
  scanLimit: number;
}

/** The `type` of an envelope (event format) or of a fields-format entry kept as one JSON object. */
export function eventTypeOf(record: Pick<DeadLetterRecord, 'event'>): string | undefined {
  if (record.event.length === 0 || record.event[0] !== 0x7b /* { */) return undefined;
  try {
    const parsed: unknown = JSON.parse(record.event.toString('utf8'));
    const type = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['type'] : undefined;
    return typeof type === 'string' ? type : undefined;
  } catch {
    return undefined;
  }
}

export function toDeadLetterRow(r: DeadLetterRecord): DeadLetterRow {
  return {
    id: r.id,
    streamId: r.streamId,
    type: eventTypeOf(r),
    reason: r.reason,
    error: r.error,
    attempts: r.attempts,
    consumer: r.consumer,
    failedAt: r.failedAt,
    format: r.format,
    bytes: r.event.length,
  };
}

export function matchesFilter(row: DeadLetterRow, f: DeadLetterFilter | undefined): boolean {
  if (f?.reason && row.reason !== f.reason) return false;
  if (f?.type && row.type !== f.type) return false;
  return true;
}

/** XREVRANGE from `end` (inclusive, or exclusive with a leading '('), at most `count`, as records. */
async function newestFirst(redis: Redis, key: string, end: string, count: number): Promise<DeadLetterRecord[]> {
  const reply: unknown = await redis.callBuffer('XREVRANGE', key, end, '-', 'COUNT', count);
  const out: DeadLetterRecord[] = [];
  for (const raw of Array.isArray(reply) ? (reply as unknown[]) : []) {
    const entry = toStreamEntry(raw);
    if (entry) out.push(toDeadLetterRecord(entry));
  }
  return out;
}

const CHUNK = 500;

/**
 * One page of dead letters, newest first. Unfiltered it is one XREVRANGE of pageSize + 1
 * entries, whatever the length of the stream. Filtered, it reads back in chunks until the page
 * is full, the stream ends, or `scanLimit` entries were read; then the page says so and its
 * cursor lets the operator search further back.
 */
export async function readDeadLetterPage(redis: Redis, key: string, o: PageOptions): Promise<DeadLetterPage> {
  const filtered = Boolean(o.filter?.reason || o.filter?.type);
  const rows: DeadLetterRow[] = [];
  let end = o.before ? `(${o.before}` : '+';
  let scanned = 0;
  for (;;) {
    const want = filtered ? Math.min(CHUNK, o.scanLimit - scanned) : o.pageSize + 1 - rows.length;
    const chunk = await newestFirst(redis, key, end, want);
    for (const record of chunk) {
      scanned++;
      const row = toDeadLetterRow(record);
      if (!matchesFilter(row, o.filter)) continue;
      rows.push(row);
      if (rows.length > o.pageSize) {
        rows.pop();
        return { rows, nextBefore: rows[rows.length - 1]?.id, scanned, scanLimitReached: false };
      }
    }
    const last = chunk[chunk.length - 1];
    if (!last || chunk.length < want) return { rows, nextBefore: undefined, scanned, scanLimitReached: false };
    end = `(${last.id}`;
    if (filtered && scanned >= o.scanLimit) return { rows, nextBefore: last.id, scanned, scanLimitReached: true };
  }
}

export interface MatchingIds {
  ids: string[];
  /** True when the scan stopped at its bound: older entries were not looked at. */
  scanLimitReached: boolean;
}

/**
 * The ids of every dead letter matching a filter, newest first, reading at most `scanLimit`
 * entries: the set an operator confirms before a replay or purge of "everything matching".
 */
export async function matchingDeadLetterIds(redis: Redis, key: string, filter: DeadLetterFilter, scanLimit: number): Promise<MatchingIds> {
  const ids: string[] = [];
  let end = '+';
  let scanned = 0;
  while (scanned < scanLimit) {
    const want = Math.min(CHUNK, scanLimit - scanned);
    const chunk = await newestFirst(redis, key, end, want);
    for (const record of chunk) if (matchesFilter(toDeadLetterRow(record), filter)) ids.push(record.id);
    scanned += chunk.length;
    const last = chunk[chunk.length - 1];
    if (!last || chunk.length < want) return { ids, scanLimitReached: false };
    end = `(${last.id}`;
  }
  return { ids, scanLimitReached: true };
}
