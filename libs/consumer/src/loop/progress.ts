import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { toError } from '@fuel-code/core';
import { pendingCount, type GroupRef } from '@fuel-code/stream';
import { statsMessage, type ConsumerCounters } from '../stats';

export interface ConsumerHealth {
  /** When the loop last finished an iteration (ms since epoch). */
  lastProgressAt: number;
  running: boolean;
}

export interface ProgressDeps {
  redis: Redis;
  group: GroupRef;
  counters: ConsumerCounters;
  statsIntervalMs: number;
  logger: Logger;
}

/** What the loop tells the outside about itself: health for /healthz, and a stats line on an interval. */
export function createProgress(deps: ProgressDeps) {
  const health: ConsumerHealth = { lastProgressAt: Date.now(), running: true };
  const { counters } = deps;
  const statsTimer = setInterval(() => {
    pendingCount(deps.redis, deps.group)
      .then((pending) => deps.logger.info({ ...counters, pending }, statsMessage(counters, pending)))
      .catch((err: unknown) => deps.logger.info({ ...counters, err: toError(err) }, statsMessage(counters, 'unknown')));
  }, deps.statsIntervalMs);
  statsTimer.unref();
  return {
    /** An iteration of the loop finished. */
    tick(): void {
      health.lastProgressAt = Date.now();
    },
    health: (): ConsumerHealth => ({ ...health }),
    /** The loop has ended. */
    ended(): void {
      health.running = false;
      clearInterval(statsTimer);
    },
  };
}
