import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { testRedisUrl } from './urls';

export interface TestStreamKeys {
  stream: string;
  group: string;
  deadLetter: string;
}

/** Stream, group and dead-letter keys that no other test uses. */
export function uniqueStreamKeys(label = 'test'): TestStreamKeys {
  const id = `${label}:${randomBytes(5).toString('hex')}`;
  return {
    stream: `test:${id}:events`,
    group: `test:${id}:group`,
    deadLetter: `test:${id}:dead-letter`,
  };
}

/** A plain client for the test's own reads and writes (not the one under test). */
export function createTestRedis(url = testRedisUrl()): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  return redis;
}

export async function deleteKeys(redis: Redis, keys: TestStreamKeys): Promise<void> {
  await redis.del(keys.stream, keys.deadLetter);
}
