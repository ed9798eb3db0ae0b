import type Redis from 'ioredis';
import { isNoSuchKey } from './info';
import { LuaScript } from './lua-script';
import { isNoGroupError, type ConsumerRef, type GroupRef } from './stream';

export interface RemovedConsumer {
  name: string;
  /** XINFO CONSUMERS `idle` when it was removed (ms). */
  idleMs: number;
}

export interface RemoveIdleConsumersResult {
  removed: RemovedConsumer[];
  /** True when `maxRemovals` was reached: more may be removable (call again). */
  more: boolean;
}

/*
 * XGROUP DELCONSUMER drops the consumer's pending entries with it (they would never be
 * delivered again), so the pending count and idle time are checked and the consumer removed
 * in one script: nothing can be delivered to it between the check and the delete.
 *
 * In Redis 7.0, XINFO CONSUMERS `idle` is the time since the consumer's last read or claim
 * attempt (an XREADGROUP that returned nothing counts too); 7.2 adds `inactive` (last
 * successful one) and keeps `idle` as the attempt. So a live worker that keeps reading an
 * empty stream never grows idle beyond its block time: only a consumer no process uses does.
 *
 * ARGV: group, minIdleMs, self (never removed), maxRemovals.
 * Returns { name1, idle1, name2, idle2, ... , more (0|1) }.
 */
const REMOVE_IDLE_CONSUMERS = new LuaScript(`
local consumers = redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
local minIdle = tonumber(ARGV[2])
local maxRemovals = tonumber(ARGV[4])
local out = {}
local removed = 0
for _, flat in ipairs(consumers) do
  local c = {}
  for i = 1, #flat, 2 do c[flat[i]] = flat[i + 1] end
  if c['name'] ~= ARGV[3] and tonumber(c['pending']) == 0 and tonumber(c['idle']) > minIdle then
    if removed >= maxRemovals then
      out[#out + 1] = 1
      return out
    end
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], c['name'])
    out[#out + 1] = c['name']
    out[#out + 1] = c['idle']
    removed = removed + 1
  end
end
out[#out + 1] = 0
return out`);

const text = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString() : String(v));

/**
 * Remove the group's consumers that hold no pending entries and have been idle longer than
 * `minIdleMs`, never `self`, at most `maxRemovals` per call. A consumer with pending entries
 * is left alone (its entries are reclaimed as idle; it can go once they are). A missing
 * stream or group has nothing to remove.
 */
export async function removeIdleConsumers(
  redis: Redis,
  o: GroupRef & { self: string; minIdleMs: number; maxRemovals?: number },
): Promise<RemoveIdleConsumersResult> {
  let reply: unknown;
  try {
    reply = await REMOVE_IDLE_CONSUMERS.call(redis, [o.stream], [o.group, o.minIdleMs, o.self, o.maxRemovals ?? 100]);
  } catch (err) {
    if (isNoSuchKey(err) || isNoGroupError(err)) return { removed: [], more: false };
    throw err;
  }
  const flat = Array.isArray(reply) ? (reply as unknown[]) : [];
  const removed: RemovedConsumer[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) removed.push({ name: text(flat[i]), idleMs: Number(flat[i + 1]) });
  return { removed, more: Number(flat[flat.length - 1]) === 1 };
}

/** Beyond any real entry id: a history read from here returns nothing. */
const PAST_EVERY_ID = `${Number.MAX_SAFE_INTEGER}-0`;

/**
 * Mark this consumer as alive in the group: XINFO CONSUMERS `idle` restarts from 0. In Redis
 * 7.0 an XREADGROUP of new entries ('>') that finds none, blocking or not, leaves `idle`
 * growing (and does not even re-create a removed consumer), so a live worker on a quiet
 * stream would look dead. A read of its own history does count; this one starts past every
 * id, so it returns nothing and changes no delivery count or time.
 */
export async function refreshConsumer(redis: Redis, o: ConsumerRef): Promise<void> {
  await redis.xreadgroup('GROUP', o.group, o.consumer, 'COUNT', 1, 'STREAMS', o.stream, PAST_EVERY_ID);
}

/*
 * Each of this consumer's pending entries is re-claimed by itself with a large IDLE, so the
 * next XAUTOCLAIM of any other consumer takes it at once (Redis has no "un-claim"). JUSTID
 * leaves the delivery count alone: handing back is not a failed attempt. Only entries
 * XPENDING still names this consumer for are touched, in one script, so an entry another
 * consumer has meanwhile claimed is never taken back from it.
 *
 * ARGV: group, consumer, idleMs, count. Returns how many were handed back.
 */
const HAND_BACK_PENDING = new LuaScript(`
local rows = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', tonumber(ARGV[4]), ARGV[2])
for _, row in ipairs(rows) do
  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, row[1], 'IDLE', ARGV[3], 'JUSTID')
end
return #rows`);

/** Far beyond any claim-idle setting: a handed-back entry is idle enough for everyone. */
export const HAND_BACK_IDLE_MS = 365 * 24 * 3_600_000;

/**
 * Make all of this consumer's pending entries (up to `count` per call) claimable by any
 * other consumer's next idle scan, e.g. when it stops with entries it could not finish.
 * Returns how many were handed back.
 */
export async function handBackPending(redis: Redis, o: ConsumerRef & { count?: number }): Promise<number> {
  try {
    const n = await HAND_BACK_PENDING.call(redis, [o.stream], [o.group, o.consumer, HAND_BACK_IDLE_MS, o.count ?? 10_000]);
    return Number(n);
  } catch (err) {
    if (isNoSuchKey(err) || isNoGroupError(err)) return 0;
    throw err;
  }
}
