import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { toError } from '@fuel-code/core';
import { acknowledge, type GroupRef } from '@fuel-code/stream';
import { StoppedError } from '../retry';
import { InFlight } from './in-flight';
import type { CallRedis } from './redis-calls';

export interface AckerDeps {
  redis: Redis;
  group: GroupRef;
  callRedis: CallRedis;
  logger: Logger;
}

/**
 * XACKs go out without holding up the next read. A failed XACK after the commit is harmless:
 * the entry is read again and is a duplicate.
 */
export function createAcker(deps: AckerDeps) {
  const running = new InFlight();
  return {
    ack(ids: readonly string[]): void {
      if (ids.length === 0) return;
      running.start(async () => {
        try {
          await deps.callRedis('XACK', () => acknowledge(deps.redis, deps.group, ids));
        } catch (err) {
          if (!(err instanceof StoppedError)) deps.logger.warn({ err: toError(err), count: ids.length }, 'XACK failed; the entries will be read again as duplicates');
        }
      });
    },
    /** Resolves when every XACK sent has been answered (or given up). */
    settle: () => running.settle(),
  };
}

export type Acker = ReturnType<typeof createAcker>;
