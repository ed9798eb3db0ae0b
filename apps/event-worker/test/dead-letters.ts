import type Redis from 'ioredis';
import { deadLetterAndAck, ensureConsumerGroup, readFromStream } from '@fuel-code/stream';

export interface TestDeadLetter {
  event: string | undefined;
  streamId: string;
  reason?: 'invalid' | 'failed';
  error?: string;
  attempts?: number;
  consumer?: string;
}

/**
 * A dead letter written the way a worker writes one: the entry is put on a scratch source
 * stream under `streamId`, read through a group, then moved by the real dead-letter script.
 */
export async function addDeadLetter(redis: Redis, deadLetterStream: string, letter: TestDeadLetter): Promise<string> {
  const { event, streamId, reason = 'failed', attempts = 3, consumer = 'w1' } = letter;
  const source = { stream: `${deadLetterStream}:source:${streamId}`, group: 'source' };
  try {
    await redis.xadd(source.stream, streamId, 'event', event ?? '');
    await ensureConsumerGroup(redis, source);
    await readFromStream(redis, { ...source, consumer, count: 1 });
    const written = { event, streamId, reason, error: letter.error ?? `${reason}: boom`, attempts, consumer };
    const id = await deadLetterAndAck(redis, { ...source, deadLetterStream }, written);
    if (id === undefined) throw new Error(`dead letter for ${streamId} was not written`);
    return id;
  } finally {
    await redis.del(source.stream);
  }
}
