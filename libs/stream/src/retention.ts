import type Redis from 'ioredis';
import { groupInfos, pendingSummary } from './info';
import { compareIds } from './stream';

/** Where one consumer group stands: what it still needs from the stream. */
export interface GroupPosition {
  name: string;
  /** XINFO GROUPS `last-delivered-id`: everything after it is still to be delivered. */
  lastDeliveredId: string;
  /** The oldest id in the group's PEL (XPENDING summary); undefined when nothing is pending. */
  oldestPendingId: string | undefined;
}

const MAX_U64 = (1n << 64n) - 1n;

/** The smallest stream id greater than `id` (`ms-seq` → `ms-(seq+1)`, carrying into ms). */
export function nextStreamId(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  const s = BigInt(seq);
  return s >= MAX_U64 ? `${BigInt(ms) + 1n}-0` : `${ms}-${s + 1n}`;
}

/**
 * The MINID to trim the stream to: the oldest id that any group still needs. A group needs
 * its oldest pending entry (delivered, not acknowledged) and everything after its
 * last-delivered-id (not delivered yet), so its first needed id is the smaller of its oldest
 * pending id and the id right after last-delivered-id. XTRIM MINID keeps ids >= MINID, so
 * trimming to the minimum over all groups removes only entries every group is done with.
 *
 * Undefined when the stream has no group: then nobody has said what is done, and nothing
 * may be trimmed.
 */
export function safeTrimMinId(groups: readonly GroupPosition[]): string | undefined {
  let min: string | undefined;
  for (const g of groups) {
    const undelivered = nextStreamId(g.lastDeliveredId);
    const needed = g.oldestPendingId !== undefined && compareIds(g.oldestPendingId, undelivered) < 0 ? g.oldestPendingId : undelivered;
    if (min === undefined || compareIds(needed, min) < 0) min = needed;
  }
  return min;
}

/** Every group's position, read with XINFO GROUPS and one XPENDING summary per group. */
export async function readGroupPositions(redis: Redis, stream: string): Promise<GroupPosition[]> {
  const groups = await groupInfos(redis, stream);
  return Promise.all(
    groups.map(async (g): Promise<GroupPosition> => ({
      name: g.name,
      lastDeliveredId: g.lastDeliveredId,
      oldestPendingId: (await pendingSummary(redis, stream, g.name)).oldestId,
    })),
  );
}

/*
 * Trim to MINID only if, at the moment of the trim, it is still safe: the groups are the ones
 * the MINID was computed from (none created meanwhile) and none has a pending or undelivered
 * entry below MINID (no XGROUP SETID backwards meanwhile). Consumers only ever move forward,
 * so under normal operation the check passes; if an operator changed the groups, the trim is
 * skipped and the next round recomputes. Returns the number of entries removed, or -1.
 */
const GUARDED_TRIM = `
local minid = ARGV[1]
local known = {}
for i = 2, #ARGV do known[ARGV[i]] = true end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups ~= #ARGV - 1 then return -1 end
for _, g in ipairs(groups) do
  local name, last
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then last = g[i + 1] end
  end
  if not known[name] then return -1 end
  if #redis.call('XPENDING', KEYS[1], name, '-', '(' .. minid, 1) > 0 then return -1 end
  if #redis.call('XRANGE', KEYS[1], '(' .. last, '(' .. minid, 'COUNT', 1) > 0 then return -1 end
end
return redis.call('XTRIM', KEYS[1], 'MINID', minid)`;

export type TrimResult =
  | { status: 'trimmed'; minId: string; removed: number }
  /** The stream does not exist, or has no consumer group: nothing is trimmed. */
  | { status: 'skipped'; reason: 'no-stream' | 'no-groups' }
  /** The groups changed between reading them and trimming: nothing was trimmed this time. */
  | { status: 'changed'; minId: string };

/**
 * XTRIM MINID the stream to the oldest id any of its groups still needs (safeTrimMinId),
 * atomically re-checking that this is still safe at the moment of the trim.
 */
export async function trimStream(redis: Redis, stream: string): Promise<TrimResult> {
  const positions = await readGroupPositions(redis, stream);
  if (positions.length === 0) return { status: 'skipped', reason: (await redis.exists(stream)) ? 'no-groups' : 'no-stream' };
  const minId = safeTrimMinId(positions);
  if (minId === undefined) return { status: 'skipped', reason: 'no-groups' };
  const removed = Number(await redis.eval(GUARDED_TRIM, 1, stream, minId, ...positions.map((p) => p.name)));
  return removed < 0 ? { status: 'changed', minId } : { status: 'trimmed', minId, removed };
}
