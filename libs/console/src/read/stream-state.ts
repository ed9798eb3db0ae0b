import type Redis from 'ioredis';
import { groupInfos, isNoSuchKey, pendingSummary } from '@fuel-code/stream';

export interface StreamTarget {
  stream: string;
  group: string;
  deadLetterStream: string;
}

/** The figures at the top of the overview; every one is a constant-time Redis read. */
export interface StreamState {
  length: number;
  /** False when the group does not exist (no worker ever started on this stream). */
  groupExists: boolean;
  /** Entries not yet delivered to the group; null when Redis cannot tell (see XINFO GROUPS). */
  lag: number | null;
  pending: number;
  oldestPendingId: string | undefined;
  /** How long the oldest pending entry has been waiting since it was first added to the stream. */
  oldestPendingAgeMs: number | undefined;
  deadLetters: number;
  consumers: number;
}

/** The ms part of a stream id: when the entry was added (for ids Redis made with `*`). */
export function idTimeMs(id: string): number {
  return Number(id.split('-')[0]);
}

export async function readStreamState(redis: Redis, t: StreamTarget, now: number = Date.now()): Promise<StreamState> {
  const [length, deadLetters, groups] = await Promise.all([redis.xlen(t.stream), redis.xlen(t.deadLetterStream), groupInfos(redis, t.stream)]);
  const group = groups.find((g) => g.name === t.group);
  if (!group) {
    return { length, groupExists: false, lag: null, pending: 0, oldestPendingId: undefined, oldestPendingAgeMs: undefined, deadLetters, consumers: 0 };
  }
  const summary = group.pending > 0 ? await pendingSummary(redis, t.stream, t.group) : undefined;
  const oldest = summary?.oldestId;
  return {
    length,
    groupExists: true,
    lag: group.lag,
    pending: group.pending,
    oldestPendingId: oldest,
    oldestPendingAgeMs: oldest === undefined ? undefined : Math.max(0, now - idTimeMs(oldest)),
    deadLetters,
    consumers: group.consumers,
  };
}

export interface ConsumerRow {
  name: string;
  pending: number;
  /** Since the consumer last read or claimed (XINFO CONSUMERS `idle`). */
  idleMs: number;
  /**
   * Since the consumer was last handed entries: `inactive` on Redis 7.2+; on older Redis the
   * youngest delivery among its oldest pending entries (approximate, see `lastDeliveryExact`);
   * undefined when neither tells.
   */
  lastDeliveryMs: number | undefined;
  lastDeliveryExact: boolean;
}

function pairs(flat: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  if (Array.isArray(flat)) for (let i = 0; i + 1 < flat.length; i += 2) map.set(String(flat[i]), flat[i + 1]);
  return map;
}

const asNumber = (v: unknown): number | undefined => (v === undefined || v === null || !Number.isFinite(Number(v)) ? undefined : Number(v));

/** How many of a consumer's pending entries are read to estimate its last delivery on Redis < 7.2. */
const PENDING_SAMPLE = 10;

/** Youngest delivery among a consumer's first pending entries (XPENDING extended form). */
async function approxLastDelivery(redis: Redis, t: StreamTarget, consumer: string): Promise<number | undefined> {
  const reply: unknown = await redis.xpending(t.stream, t.group, '-', '+', PENDING_SAMPLE, consumer);
  let min: number | undefined;
  for (const row of Array.isArray(reply) ? (reply as unknown[]) : []) {
    const idle = Array.isArray(row) ? asNumber(row[2]) : undefined;
    if (idle !== undefined && (min === undefined || idle < min)) min = idle;
  }
  return min;
}

/** Every consumer of the group (XINFO CONSUMERS), one bounded XPENDING each on Redis < 7.2. */
export async function readConsumers(redis: Redis, t: StreamTarget): Promise<ConsumerRow[]> {
  let reply: unknown;
  try {
    reply = await redis.xinfo('CONSUMERS', t.stream, t.group);
  } catch (err) {
    if (isNoSuchKey(err) || /NOGROUP/i.test(String(err))) return [];
    throw err;
  }
  const rows = (Array.isArray(reply) ? (reply as unknown[]) : []).map(pairs);
  return Promise.all(
    rows.map(async (c): Promise<ConsumerRow> => {
      const name = String(c.get('name'));
      const pending = asNumber(c.get('pending')) ?? 0;
      const inactive = asNumber(c.get('inactive'));
      if (inactive !== undefined) {
        return { name, pending, idleMs: asNumber(c.get('idle')) ?? 0, lastDeliveryMs: inactive >= 0 ? inactive : undefined, lastDeliveryExact: true };
      }
      const approx = pending > 0 ? await approxLastDelivery(redis, t, name) : undefined;
      return { name, pending, idleMs: asNumber(c.get('idle')) ?? 0, lastDeliveryMs: approx, lastDeliveryExact: false };
    }),
  );
}
