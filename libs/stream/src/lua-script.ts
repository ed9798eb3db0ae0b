import { createHash } from 'node:crypto';
import type Redis from 'ioredis';

/**
 * A Lua script run by EVALSHA, falling back to EVAL when the server does not have it cached
 * (first use, or after a restart or SCRIPT FLUSH). Replies keep bulk strings as raw bytes.
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async call(redis: Redis, keys: readonly string[], args: readonly (string | number | Buffer)[]): Promise<unknown> {
    try {
      return await redis.callBuffer('EVALSHA', this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.callBuffer('EVAL', this.source, keys.length, ...keys, ...args);
    }
  }
}
