import type Redis from 'ioredis';

/** One consumer group as XINFO GROUPS describes it. */
export interface GroupInfo {
  name: string;
  consumers: number;
  /** Entries delivered and not yet acknowledged (the PEL). */
  pending: number;
  lastDeliveredId: string;
  /** Entries the group has read; null when Redis cannot tell. */
  entriesRead: number | null;
  /** Entries not yet delivered to the group; null when Redis cannot tell (see XINFO GROUPS). */
  lag: number | null;
}

export interface ConsumerInfo {
  name: string;
  pending: number;
  /** Milliseconds since the consumer last read or claimed anything. */
  idleMs: number;
}

export interface PendingSummary {
  count: number;
  oldestId: string | undefined;
  newestId: string | undefined;
  /** Pending count per consumer. */
  consumers: Map<string, number>;
}

/** `[k1, v1, k2, v2, ...]` → a Map. */
function pairs(flat: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  if (!Array.isArray(flat)) return map;
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(String(flat[i]), flat[i + 1]);
  return map;
}

function num(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** True for the "no such key" error XINFO gives on a missing stream. */
export function isNoSuchKey(err: unknown): boolean {
  return err instanceof Error && /no such key/i.test(err.message);
}

/** XINFO GROUPS, parsed. A missing stream has no groups. */
export async function groupInfos(redis: Redis, stream: string): Promise<GroupInfo[]> {
  let reply: unknown;
  try {
    reply = await redis.xinfo('GROUPS', stream);
  } catch (err) {
    if (isNoSuchKey(err)) return [];
    throw err;
  }
  return parseGroupInfos(reply);
}

/** An XINFO GROUPS reply, parsed (for callers that send the command themselves, e.g. in a pipeline). */
export function parseGroupInfos(reply: unknown): GroupInfo[] {
  return (Array.isArray(reply) ? reply : []).map((flat): GroupInfo => {
    const g = pairs(flat);
    return {
      name: String(g.get('name')),
      consumers: num(g.get('consumers')) ?? 0,
      pending: num(g.get('pending')) ?? 0,
      lastDeliveredId: String(g.get('last-delivered-id') ?? '0-0'),
      entriesRead: num(g.get('entries-read')),
      lag: num(g.get('lag')),
    };
  });
}

/** XINFO CONSUMERS, parsed. */
export async function consumerInfos(redis: Redis, stream: string, group: string): Promise<ConsumerInfo[]> {
  const reply: unknown = await redis.xinfo('CONSUMERS', stream, group);
  return (Array.isArray(reply) ? reply : []).map((flat): ConsumerInfo => {
    const c = pairs(flat);
    return { name: String(c.get('name')), pending: num(c.get('pending')) ?? 0, idleMs: num(c.get('idle')) ?? 0 };
  });
}

/** The XPENDING summary form: count, oldest and newest pending id, per-consumer counts. */
export async function pendingSummary(redis: Redis, stream: string, group: string): Promise<PendingSummary> {
  const reply: unknown = await redis.xpending(stream, group);
  return parsePendingSummary(reply);
}

export function parsePendingSummary(reply: unknown): PendingSummary {
  const [count, oldest, newest, perConsumer] = Array.isArray(reply) ? (reply as unknown[]) : [];
  const consumers = new Map<string, number>();
  for (const row of Array.isArray(perConsumer) ? (perConsumer as unknown[]) : []) {
    if (Array.isArray(row)) consumers.set(String(row[0]), num(row[1]) ?? 0);
  }
  return {
    count: num(count) ?? 0,
    oldestId: typeof oldest === 'string' ? oldest : undefined,
    newestId: typeof newest === 'string' ? newest : undefined,
    consumers,
  };
}

export interface GroupStatus extends GroupInfo {
  oldestPendingId: string | undefined;
  consumerList: ConsumerInfo[];
}

export interface StreamStatus {
  stream: string;
  /** False when the key does not exist (nothing was ever published, or it was deleted). */
  exists: boolean;
  length: number;
  groups: GroupStatus[];
  deadLetterStream: string;
  deadLetters: number;
}

/** Everything `status` shows, read from Redis (no formatting here). */
export async function streamStatus(redis: Redis, o: { stream: string; deadLetterStream: string }): Promise<StreamStatus> {
  const [exists, length, deadLetters, groups] = await Promise.all([
    redis.exists(o.stream),
    redis.xlen(o.stream),
    redis.xlen(o.deadLetterStream),
    groupInfos(redis, o.stream),
  ]);
  const detailed = await Promise.all(
    groups.map(async (g): Promise<GroupStatus> => {
      const [summary, consumerList] = await Promise.all([pendingSummary(redis, o.stream, g.name), consumerInfos(redis, o.stream, g.name)]);
      return { ...g, oldestPendingId: summary.oldestId, consumerList };
    }),
  );
  return { stream: o.stream, exists: exists === 1, length, groups: detailed, deadLetterStream: o.deadLetterStream, deadLetters };
}
