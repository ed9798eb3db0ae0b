import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { recreateGroupIfLost, type GroupRef } from '@fuel-code/stream';
import { redisCall, retryTransient, type RetryDeps } from '../retry';

/** A Redis call of the loop: `what` names it in the outage log lines. */
export type CallRedis = <T>(what: string, fn: () => Promise<T>) => Promise<T>;

export interface RedisCallsDeps {
  redis: Redis;
  group: GroupRef;
  retry: RetryDeps;
  logger: Logger;
}

/**
 * The loop's Redis calls, retried through outages until stop; a lost group (Redis restarted
 * empty) is recreated before the retry, so the loop carries on by itself.
 */
export function createRedisCalls(deps: RedisCallsDeps): CallRedis {
  const onLost = () => deps.logger.warn('Consumer group is gone (NOGROUP): Redis lost its data; recreating the group');
  return (what, fn) => retryTransient(what, () => redisCall(() => recreateGroupIfLost(deps.redis, deps.group, fn, onLost)), deps.retry);
}
