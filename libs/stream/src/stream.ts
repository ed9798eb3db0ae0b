import type Redis from 'ioredis';
import { entriesOfReadReply, toStreamEntry, type StreamEntry } from './entries';

export interface GroupRef {
  stream: string;
  group: string;
}

export interface ConsumerRef extends GroupRef {
  consumer: string;
}

/** XADD with the contract's single field, `event`. Returns the entry id. */
export async function publish(redis: Redis, stream: string, eventJson: string | Buffer): Promise<string> {
  const id = await redis.xadd(stream, '*', 'event', eventJson);
  if (!id) throw new Error(`XADD to ${stream} returned no id`);
  return id;
}

export type PublishOutcome = { ok: true; id: string } | { ok: false; error: Error };

/** Many XADDs in one pipelined round trip; each outcome says whether that entry was written. */
export async function publishMany(redis: Redis, stream: string, eventJsons: readonly string[]): Promise<PublishOutcome[]> {
  if (eventJsons.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const json of eventJsons) pipeline.xadd(stream, '*', 'event', json);
  const replies = await pipeline.exec();
  return eventJsons.map((_, i): PublishOutcome => {
    const reply = replies?.[i];
    if (!reply) return { ok: false, error: new Error('no reply for this entry') };
    const [err, id] = reply;
    if (err) return { ok: false, error: err };
    return typeof id === 'string' ? { ok: true, id } : { ok: false, error: new Error('XADD returned no id') };
  });
}

/** Create the group at id 0 (and the stream with it). An existing group is fine. */
export async function ensureConsumerGroup(redis: Redis, { stream, group }: GroupRef): Promise<'created' | 'exists'> {
  try {
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    return 'created';
  } catch (err) {
    if (err instanceof Error && err.message.includes('BUSYGROUP')) return 'exists';
    throw err;
  }
}

/** Whether Redis refused a command because the consumer group (or its stream) does not exist. */
export function isNoGroupError(err: unknown): boolean {
  return err instanceof Error && /NOGROUP/.test(err.message);
}

/**
 * Run a consumer-group command; if the group is gone (NOGROUP: Redis restarted without its
 * data, or someone deleted the stream), recreate it before passing the error on, so the
 * caller's retry finds the group again. `onLost` is told first (to log it).
 */
export async function recreateGroupIfLost<T>(redis: Redis, ref: GroupRef, fn: () => Promise<T>, onLost?: () => void): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isNoGroupError(err)) {
      onLost?.();
      await ensureConsumerGroup(redis, ref);
    }
    throw err;
  }
}

export interface ReadOptions extends ConsumerRef {
  count: number;
  /** Block up to this long for new entries; omit for no blocking. */
  blockMs?: number;
}

/** XREADGROUP of new entries ('>'). Entries come back with their raw fields. */
export async function readFromStream(redis: Redis, o: ReadOptions): Promise<StreamEntry[]> {
  const block = o.blockMs === undefined ? [] : ['BLOCK', o.blockMs];
  // callBuffer: values stay raw bytes, so a dead letter can keep them byte for byte.
  const reply = await redis.callBuffer('XREADGROUP', 'GROUP', o.group, o.consumer, 'COUNT', o.count, ...block, 'STREAMS', o.stream, '>');
  return entriesOfReadReply(reply);
}

/** This consumer's own pending entries, oldest first, after `afterId` (exclusive). */
export async function readOwnPending(
  redis: Redis,
  o: ConsumerRef & { count: number; afterId?: string },
): Promise<StreamEntry[]> {
  const reply = await redis.callBuffer('XREADGROUP', 'GROUP', o.group, o.consumer, 'COUNT', o.count, 'STREAMS', o.stream, o.afterId ?? '0');
  return entriesOfReadReply(reply);
}

/**
 * XAUTOCLAIM entries idle for at least `minIdleMs`, following the cursor to the end (or
 * until `count` entries). Entries deleted from the stream while pending are dropped from the
 * PEL by Redis itself and are not returned.
 */
export async function claimPendingEntries(
  redis: Redis,
  o: ConsumerRef & { minIdleMs: number; count: number },
): Promise<StreamEntry[]> {
  const claimed: StreamEntry[] = [];
  if (o.count <= 0) return claimed; // XAUTOCLAIM rejects COUNT 0
  let cursor = '0-0';
  do {
    const reply: unknown = await redis.callBuffer(
      'XAUTOCLAIM', o.stream, o.group, o.consumer, o.minIdleMs, cursor, 'COUNT', Math.min(o.count - claimed.length, 1000),
    );
    if (!Array.isArray(reply)) break;
    const next: unknown = reply[0];
    cursor = Buffer.isBuffer(next) ? next.toString() : String(next);
    for (const raw of Array.isArray(reply[1]) ? (reply[1] as unknown[]) : []) {
      const entry = toStreamEntry(raw);
      if (entry) claimed.push(entry);
    }
  } while (cursor !== '0-0' && claimed.length < o.count);
  return claimed;
}

/** XACK many ids in one call. */
export async function acknowledge(redis: Redis, { stream, group }: GroupRef, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  return redis.xack(stream, group, ...ids);
}

/** Delivery counts of pending ids (Redis counts every read and claim of an entry). */
export async function deliveryCounts(redis: Redis, o: ConsumerRef, ids: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (ids.length === 0) return counts;
  // One exact-range XPENDING per id, pipelined: a single first..last range with COUNT ids.length
  // would stop at other pending entries of this consumer lying between the ids and miss some.
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.xpending(o.stream, o.group, id, id, 1, o.consumer);
  for (const [err, rows] of (await pipeline.exec()) ?? []) {
    if (err) throw err;
    for (const row of Array.isArray(rows) ? (rows as unknown[]) : []) {
      if (Array.isArray(row) && typeof row[0] === 'string' && typeof row[3] === 'number') counts.set(row[0], row[3]);
    }
  }
  return counts;
}

/*
 * XCLAIM alone would also take an entry back from a consumer that has since claimed it, so
 * each id is touched only while XPENDING still names this consumer as its owner, atomically.
 */
const TOUCH_OWN_PENDING = `
local touched = 0
for i = 3, #ARGV do
  local owned = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #owned == 1 then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    touched = touched + 1
  end
end
return touched`;

/**
 * Reset the idle time of entries this consumer still holds, so no one reclaims work in
 * progress. Leaves the delivery count alone; returns how many were touched.
 */
export async function touchPending(redis: Redis, o: ConsumerRef, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const touched: unknown = await redis.eval(TOUCH_OWN_PENDING, 1, o.stream, o.group, o.consumer, ...ids);
  return typeof touched === 'number' ? touched : 0;
}

/** The group's pending count (XPENDING summary). */
export async function pendingCount(redis: Redis, { stream, group }: GroupRef): Promise<number> {
  const summary: unknown = await redis.xpending(stream, group);
  return Array.isArray(summary) && typeof summary[0] === 'number' ? summary[0] : 0;
}

/** Compare stream ids `ms-seq` numerically. */
export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}
