import type Redis from 'ioredis';

export type DeadLetterReason = 'invalid' | 'failed';

export interface DeadLetter {
  /** The original `event` field, byte for byte; empty when the entry had none. */
  event: Buffer | string | undefined;
  streamId: string;
  reason: DeadLetterReason;
  error: string;
  attempts: number;
  consumer: string;
  failedAt?: Date;
}

/** XADD one dead letter with CONTRACT §2's fields. Returns its id in the dead-letter stream. */
export async function deadLetter(redis: Redis, deadLetterStream: string, d: DeadLetter): Promise<string> {
  const id = await redis.xadd(
    deadLetterStream,
    '*',
    'event', d.event ?? '',
    'stream_id', d.streamId,
    'reason', d.reason,
    'error', d.error,
    'attempts', String(d.attempts),
    'consumer', d.consumer,
    'failed_at', (d.failedAt ?? new Date()).toISOString(),
  );
  if (!id) throw new Error(`XADD to ${deadLetterStream} returned no id`);
  return id;
}
