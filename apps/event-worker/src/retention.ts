import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { toError } from '@fuel-code/core';
import { trimStream, type TrimResult } from '@fuel-code/stream';

export interface RetentionOptions {
  redis: Redis;
  stream: string;
  intervalMs: number;
  logger: Logger;
  onTrim?: (result: TrimResult) => void;
}

export interface Retention {
  /** Run one pass now (waits for a pass already running instead of starting another). */
  runOnce(): Promise<TrimResult | undefined>;
  stop(): void;
}

/**
 * Keep the stream bounded: right away and then every `intervalMs`, XTRIM MINID to the oldest
 * entry any consumer group still needs (pending or undelivered). Every worker runs it; the
 * passes are idempotent. A failed pass (Redis away) is logged and retried next interval.
 */
export function startRetention(o: RetentionOptions): Retention {
  let running: Promise<TrimResult | undefined> | undefined;
  let failing = false;

  const pass = async (): Promise<TrimResult | undefined> => {
    try {
      const result = await trimStream(o.redis, o.stream);
      o.onTrim?.(result);
      if (failing) o.logger.info('Stream retention recovered');
      failing = false;
      if (result.status === 'trimmed' && result.removed > 0) {
        o.logger.info({ stream: o.stream, minId: result.minId, removed: result.removed }, `Trimmed ${result.removed} processed entries from ${o.stream}`);
      } else {
        o.logger.debug({ stream: o.stream, result }, 'Stream retention pass');
      }
      return result;
    } catch (err) {
      if (!failing) o.logger.warn({ err: toError(err), stream: o.stream }, `Stream retention failed: ${toError(err).message}`);
      failing = true;
      return undefined;
    }
  };

  const runOnce = (): Promise<TrimResult | undefined> => {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  };

  void runOnce();
  const timer = setInterval(() => void runOnce(), o.intervalMs);
  timer.unref();
  return { runOnce, stop: () => clearInterval(timer) };
}
