import type Redis from 'ioredis';

/*
 * Count dead letters per hour and reason inside Redis, newest first back to a minimum id, at
 * most ARGV[2] entries: only the counts cross the network, never the payloads. The bound
 * keeps the script short enough that the workers sharing this Redis do not notice it.
 */
const COUNT_BY_HOUR_AND_REASON = `
local key, minId, maxScan = KEYS[1], ARGV[1], tonumber(ARGV[2])
local counts, scanned, last = {}, 0, '+'
while scanned < maxScan do
  local n = math.min(500, maxScan - scanned)
  local entries = redis.call('XREVRANGE', key, last, minId, 'COUNT', n)
  for _, e in ipairs(entries) do
    local f, reason = e[2], ''
    for j = 1, #f, 2 do if f[j] == 'reason' then reason = f[j + 1] break end end
    local hour = math.floor(tonumber(string.match(e[1], '^(%d+)')) / 3600000)
    local k = hour .. '|' .. reason
    counts[k] = (counts[k] or 0) + 1
  end
  scanned = scanned + #entries
  if #entries < n then break end
  last = '(' .. entries[#entries][1]
end
local out = {tostring(scanned)}
for k, v in pairs(counts) do table.insert(out, k) table.insert(out, tostring(v)) end
return out`;

export interface HourlyDeadLetters {
  /** Start of each hour (ms since epoch), oldest first, covering the whole window. */
  hours: number[];
  /** reason → count per hour, aligned with `hours`. */
  byReason: Map<string, number[]>;
  scanned: number;
  /** True when more dead letters fell in the window than the bound let the script count. */
  truncated: boolean;
}

const HOUR_MS = 3_600_000;

export async function readDeadLettersPerHour(
  redis: Redis,
  key: string,
  o: { hours: number; maxScan: number; now?: number },
): Promise<HourlyDeadLetters> {
  const now = o.now ?? Date.now();
  const firstHour = Math.floor(now / HOUR_MS) - (o.hours - 1);
  const reply = (await redis.eval(COUNT_BY_HOUR_AND_REASON, 1, key, `${firstHour * HOUR_MS}-0`, String(o.maxScan))) as unknown[];
  const scanned = Number(reply[0] ?? 0);
  const hours = Array.from({ length: o.hours }, (_, i) => (firstHour + i) * HOUR_MS);
  const byReason = new Map<string, number[]>();
  for (let i = 1; i + 1 < reply.length; i += 2) {
    const [hourText = '', reason = ''] = String(reply[i]).split('|');
    const index = Number(hourText) - firstHour;
    if (index < 0 || index >= o.hours) continue;
    const label = reason || '(none)';
    const counts = byReason.get(label) ?? new Array<number>(o.hours).fill(0);
    counts[index] = (counts[index] ?? 0) + Number(reply[i + 1]);
    byReason.set(label, counts);
  }
  return { hours, byReason, scanned, truncated: scanned >= o.maxScan };
}
