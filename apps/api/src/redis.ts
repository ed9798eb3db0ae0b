import Redis from 'ioredis';
import type { Logger } from 'pino';

/** How long one command (or each command of a pipeline) may take before it fails. */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;

/**
 * The API's Redis client. Tuned so a request fails fast instead of hanging when Redis
 * is down or stuck, because a 503 the client can retry beats a request that never ends:
 *  - enableOfflineQueue false: while disconnected, commands reject at once instead of
 *    queueing until a reconnect that may never come.
 *  - commandTimeout: a connection that is open but unanswered (Redis paused, network
 *    black hole) still fails the command after REDIS_COMMAND_TIMEOUT_MS.
 *  - maxRetriesPerRequest 1: a command is not replayed on reconnect more than once
 *    (mostly moot without the offline queue, kept as a bound).
 *  - reconnects forever with capped backoff, so the API heals on its own when Redis returns.
 * The 'error' listener keeps a connection error from crashing the process; errors are
 * logged once per distinct message so a long outage does not flood the log.
 */
export function createRedisClient(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  });
  const log = logger.child({ component: 'redis' });
  let lastError: string | undefined;
  redis.on('error', (err: Error) => {
    if (err.message === lastError) return;
    lastError = err.message;
    // The message only: the URL (which may hold a password) is never logged.
    log.warn({ error: err.message }, 'Redis connection error');
  });
  redis.on('ready', () => {
    if (lastError !== undefined) log.info('Redis connection restored');
    lastError = undefined;
  });
  return redis;
}

/** QUIT when connected, so replies in flight arrive; otherwise just drop the socket. */
export async function closeRedisClient(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // Fall through: the connection went away while quitting.
    }
  }
  redis.disconnect();
}

/** True once the client is ready, false if it is not within `timeoutMs`. */
export async function waitUntilReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise<boolean>((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
  });
}
