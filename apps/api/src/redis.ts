import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { createRedisConnection } from '@fuel-code/stream';

/** How long one command (or each command of a pipeline) may take before it fails. */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;

/**
 * The API's Redis client. Tuned so a request fails fast instead of hanging when Redis
 * is down, stuck or silent, because a 503 the client can retry beats a request that never ends:
 *  - no offline queue: while disconnected, commands reject at once instead of queueing
 *    until a reconnect that may never come;
 *  - a command unanswered after REDIS_COMMAND_TIMEOUT_MS fails (Redis paused, network
 *    black hole), and a connection that leaves two in a row unanswered is dropped and
 *    replaced, so a silent connection heals in seconds (see createRedisConnection);
 *  - a command that timed out is never re-sent on the new connection: its request
 *    already answered 503;
 *  - reconnects forever with capped backoff, so the API heals on its own when Redis returns;
 *  - auto-pipelining, so a busy API sends its commands in batches, not one write per request.
 */
export function createRedisClient(url: string, logger: Logger): Redis {
  return createRedisConnection({
    url,
    logger: logger.child({ component: 'redis' }),
    connectionName: 'fuel-code-api',
    commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
    queueWhileDisconnected: false,
    connectTimeoutMs: 5_000,
    reconnectDelayMs: (attempt) => Math.min(attempt * 100, 2_000),
    // Concurrent requests' XADDs share a write and a round trip instead of one each; every
    // request still gets its own reply (see publishEach).
    autoPipelining: true,
  });
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
