import type Redis from 'ioredis';
import type { StreamEntry } from './entries';
import { LuaScript } from './lua-script';
import type { ConsumerRef } from './stream';

/*
 * Reads whose size is bounded in bytes as well as in entries. A plain XREADGROUP COUNT n
 * hands over n entries whatever their size (n × 10 MB at once), so these read inside Redis,
 * in one script, a few entries at a time:
 *  - an entry over maxEntryBytes is dead-lettered there and then (reason `invalid`, its
 *    `event` field byte for byte) and acknowledged in the same atomic step: its bytes never
 *    travel to the client, and a crash at any point leaves it either pending or dead-lettered;
 *  - the others are returned until `count` entries were looked at or maxBatchBytes reached.
 *    Each step reads only as many entries as could start within what is left of the budget
 *    if each were maxEntryBytes (at least one), so the entries returned add up to less than
 *    maxBatchBytes + maxEntryBytes, and the script itself holds at most that many at a time.
 *    (One entry per step would be exact too, but costs Redis several times the CPU.)
 * Sizes count every field name and value, as the client would receive them.
 *
 * The entries come back in one flat list (id, number of fields, names and values, …): as
 * nested tables, two per entry, each table costs Redis a deferred-length reply and probes for
 * the err/ok/map/… keys, and the client two arrays per entry. One string of all the bytes
 * (table.concat) cost Redis more than it saved.
 */
const PRELUDE = `
local stream, dlq = KEYS[1], KEYS[2]
local group, consumer = ARGV[1], ARGV[2]
local count, maxEntry, maxBatch = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local failedAt = ARGV[6]
local flat, oversized, seen, bytes, lastId = {}, {}, 0, 0, false

local function sizeOf(fields)
  local n = 0
  for i = 1, #fields do n = n + #fields[i] end
  return n
end

local function eventOf(fields)
  for i = 1, #fields - 1, 2 do
    if fields[i] == 'event' then return fields[i + 1] end
  end
  return ''
end

local function deliveries(id)
  local row = redis.call('XPENDING', stream, group, id, id, 1)[1]
  return row and row[4] or 1
end

-- A returned entry goes into the reply flat: its id, its number of fields (-1 when deleted),
-- then its field names and values.
local function keep(id, fields)
  local n = #flat
  flat[n + 1] = id
  if not fields then
    flat[n + 2] = -1
    return
  end
  flat[n + 2] = #fields
  for i = 1, #fields do flat[n + 2 + i] = fields[i] end
end

local function take(entry, attempts)
  local id, fields = entry[1], entry[2]
  lastId = id
  seen = seen + 1
  if not fields then
    keep(id, nil)
    return
  end
  local size = sizeOf(fields)
  bytes = bytes + size
  if size <= maxEntry then
    keep(id, fields)
    return
  end
  redis.call('XADD', dlq, '*', 'event', eventOf(fields), 'stream_id', id, 'reason', 'invalid',
    'error', 'entry is ' .. size .. ' bytes, over the limit of ' .. maxEntry .. ' bytes per entry',
    'attempts', tostring(attempts or deliveries(id)), 'consumer', consumer, 'failed_at', failedAt)
  redis.call('XACK', stream, group, id)
  oversized[#oversized + 1] = id
  oversized[#oversized + 1] = size
end

-- How many entries the next step may read: 0 when done. At most 1000, which Lua can unpack
-- into one XCLAIM.
local function step()
  if seen >= count or bytes >= maxBatch then return 0 end
  return math.min(count - seen, 1000, math.ceil((maxBatch - bytes) / maxEntry))
end

local function result()
  return {flat, oversized, lastId}
end
`;

/** New entries ('>'). */
const READ_NEW = new LuaScript(`${PRELUDE}
local k = step()
while k > 0 do
  local reply = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', k, 'STREAMS', stream, '>')
  local list = reply and reply[1][2] or {}
  for i = 1, #list do take(list[i], 1) end
  if #list < k then break end
  k = step()
end
return result()`);

/** This consumer's pending entries after ARGV[7], re-read (and so counted as a delivery). */
const READ_OWN_PENDING = new LuaScript(`${PRELUDE}
local cursor = ARGV[7]
local k = step()
while k > 0 do
  local list = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', k, 'STREAMS', stream, cursor)[1][2]
  for i = 1, #list do take(list[i], nil) end
  if #list < k then break end
  cursor = lastId
  k = step()
end
return result()`);

/*
 * Entries idle at least ARGV[7] ms in any consumer: XPENDING IDLE lists them (ids only), and
 * they are XCLAIMed a few at a time. An entry deleted from the stream meanwhile is dropped
 * from the group by XCLAIM itself (Redis 7) and counts as looked at.
 */
const CLAIM_IDLE = new LuaScript(`${PRELUDE}
local idle = redis.call('XPENDING', stream, group, 'IDLE', ARGV[7], '-', '+', count)
local delivered, next = {}, 1
for _, row in ipairs(idle) do delivered[row[1]] = row[4] end
local k = step()
while k > 0 and next <= #idle do
  local ids = {}
  for i = next, math.min(next + k - 1, #idle) do ids[#ids + 1] = idle[i][1] end
  next = next + #ids
  local claimed = redis.call('XCLAIM', stream, group, consumer, ARGV[7], unpack(ids))
  for i = 1, #claimed do take(claimed[i], delivered[claimed[i][1]] + 1) end
  seen = seen + #ids - #claimed
  lastId = ids[#ids]
  k = step()
end
return result()`);

export interface ByteLimits {
  /** An entry larger than this is dead-lettered as `invalid` instead of being returned. */
  maxEntryBytes: number;
  /** A read stops once the entries it looked at reach this many bytes. */
  maxBatchBytes: number;
}

export interface BoundedReadTarget extends ConsumerRef {
  /** Where an oversized entry goes (CONTRACT §2 fields, reason `invalid`). */
  deadLetterStream: string;
}

export interface OversizedEntry {
  id: string;
  bytes: number;
}

export interface BoundedRead {
  /** Entries for the batch, in order; a deleted-while-pending one has `deleted: true`. */
  entries: StreamEntry[];
  /** Entries dead-lettered and acknowledged inside Redis for being over maxEntryBytes. */
  oversized: OversizedEntry[];
  /** The last id looked at (returned or dead-lettered); undefined when there was none. */
  lastId: string | undefined;
}

export interface BoundedReadOptions extends ByteLimits {
  /** At most this many entries looked at. */
  count: number;
  /** The dead letters' failed_at (default now). */
  now?: Date;
}

/** Bytes of an entry as the client received it: every field name and value. */
export function entryBytes(entry: StreamEntry): number {
  let n = 0;
  for (const [name, value] of entry.fields) n += Buffer.byteLength(name) + value.length;
  return n;
}

/** The error text of an oversized entry's dead letter (the scripts write the same words). */
export function oversizedEntryError(bytes: number, maxEntryBytes: number): string {
  return `entry is ${bytes} bytes, over the limit of ${maxEntryBytes} bytes per entry`;
}

function text(value: unknown): string | undefined {
  if (Buffer.isBuffer(value)) return value.toString();
  return typeof value === 'string' ? value : undefined;
}

/** The entries of a script's flat reply (see keep() in the scripts). */
function entriesOfFlat(flat: readonly unknown[]): StreamEntry[] {
  const entries: StreamEntry[] = [];
  let i = 0;
  while (i + 1 < flat.length) {
    const id = text(flat[i]) ?? '';
    const count = Number(flat[i + 1]);
    const fields = new Map<string, Buffer>();
    for (let f = i + 2; f + 1 < i + 2 + count; f += 2) {
      const name = String(flat[f]);
      const value = flat[f + 1];
      // First occurrence wins if a producer wrote the same field twice.
      if (!fields.has(name)) fields.set(name, Buffer.isBuffer(value) ? value : Buffer.from(String(value)));
    }
    entries.push({ id, fields, deleted: count < 0 });
    i += 2 + Math.max(count, 0);
  }
  return entries;
}

function toBoundedRead(reply: unknown): BoundedRead {
  const [rawFlat, rawOversized, rawLastId] = Array.isArray(reply) ? (reply as unknown[]) : [];
  const entries = entriesOfFlat(Array.isArray(rawFlat) ? (rawFlat as unknown[]) : []);
  const oversized: OversizedEntry[] = [];
  const flat = Array.isArray(rawOversized) ? (rawOversized as unknown[]) : [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const id = text(flat[i]);
    if (id !== undefined) oversized.push({ id, bytes: Number(flat[i + 1]) });
  }
  return { entries, oversized, lastId: text(rawLastId) };
}

function run(redis: Redis, script: LuaScript, t: BoundedReadTarget, o: BoundedReadOptions, extra: (string | number)[]): Promise<BoundedRead> {
  if (o.count <= 0) return Promise.resolve({ entries: [], oversized: [], lastId: undefined });
  const args = [t.group, t.consumer, o.count, o.maxEntryBytes, o.maxBatchBytes, (o.now ?? new Date()).toISOString(), ...extra];
  return script.call(redis, [t.stream, t.deadLetterStream], args).then(toBoundedRead);
}

/** New entries for this consumer (non-blocking), bounded by count and bytes. */
export function readNewBounded(redis: Redis, t: BoundedReadTarget, o: BoundedReadOptions): Promise<BoundedRead> {
  return run(redis, READ_NEW, t, o, []);
}

/** This consumer's own pending entries after `afterId` (exclusive; '0' for all), bounded by count and bytes. */
export function readOwnPendingBounded(
  redis: Redis,
  t: BoundedReadTarget,
  o: BoundedReadOptions & { afterId: string },
): Promise<BoundedRead> {
  return run(redis, READ_OWN_PENDING, t, o, [o.afterId]);
}

/** Claim entries idle at least `minIdleMs` in any consumer of the group, bounded by count and bytes. */
export function claimIdleBounded(
  redis: Redis,
  t: BoundedReadTarget,
  o: BoundedReadOptions & { minIdleMs: number },
): Promise<BoundedRead> {
  return run(redis, CLAIM_IDLE, t, o, [o.minIdleMs]);
}
