import type Redis from 'ioredis';

export type DeadLetterReason = 'invalid' | 'failed';

export interface DeadLetter {
  /** The original `event` field, byte for byte; empty when the entry had none. For an entry in the fields format, its fields as one JSON object. */
  event: Buffer | string | undefined;
  /** 'fields' when `event` holds a fields-format entry's fields (docs/contract.md §2). */
  format?: 'fields';
  streamId: string;
  reason: DeadLetterReason;
  error: string;
  attempts: number;
  consumer: string;
  failedAt?: Date;
}

/*
 * Dead-letter an entry and acknowledge it as one atomic step, and only while the entry is
 * still pending in the group: if another consumer already took care of it (it was
 * reclaimed while this one worked), nothing is written, so each failed input gets exactly
 * one dead letter. The dead letter is written before the acknowledgement, so a failed XADD
 * leaves the entry pending rather than acknowledged without a trace.
 */
const DEAD_LETTER_AND_ACK = `
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #pending == 0 then return false end
local fields = {'event', ARGV[3], 'stream_id', ARGV[2], 'reason', ARGV[4],
  'error', ARGV[5], 'attempts', ARGV[6], 'consumer', ARGV[7], 'failed_at', ARGV[8]}
if ARGV[9] ~= '' then
  table.insert(fields, 'format')
  table.insert(fields, ARGV[9])
end
local id = redis.call('XADD', KEYS[2], '*', unpack(fields))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return id`;

export interface DeadLetterTarget {
  stream: string;
  group: string;
  deadLetterStream: string;
}

/** Returns the dead letter's id, or undefined when the entry was no longer pending (handled elsewhere). */
export async function deadLetterAndAck(redis: Redis, t: DeadLetterTarget, d: DeadLetter): Promise<string | undefined> {
  const id: unknown = await redis.eval(
    DEAD_LETTER_AND_ACK,
    2,
    t.stream,
    t.deadLetterStream,
    t.group,
    d.streamId,
    d.event ?? '',
    d.reason,
    d.error,
    String(d.attempts),
    d.consumer,
    (d.failedAt ?? new Date()).toISOString(),
    d.format ?? '',
  );
  return typeof id === 'string' ? id : undefined;
}
