import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import { databaseState } from './read/database';
import { readConsumers, readStreamState, type ConsumerRow, type StreamTarget } from './read/stream-state';
import type { Sample } from './status';
import { toError } from '@fuel-code/core';

export interface SamplerDeps {
  redis: Redis;
  sql: Sql;
  logger: Logger;
  target: StreamTarget;
  intervalMs: number;
  deadConsumerIdleMs: number;
  /** How much history to keep (enough for the longest status rule). */
  keepMs?: number;
  now?: () => number;
}

export interface Sampler {
  /** Samples oldest first. */
  history(): readonly Sample[];
  /** Take a sample now (a page load): recorded when the last one is at least half an interval old. */
  sampleNow(): Promise<Sample>;
  stop(): void;
}

export function isDeadConsumer(c: Pick<ConsumerRow, 'idleMs'>, deadConsumerIdleMs: number): boolean {
  return c.idleMs > deadConsumerIdleMs;
}

/** Read one sample; a dependency that fails is recorded as unreachable, never thrown. */
export async function takeSample(d: Pick<SamplerDeps, 'redis' | 'sql' | 'target' | 'deadConsumerIdleMs'>, now: number): Promise<Sample> {
  const [redisPart, db] = await Promise.all([
    Promise.all([readStreamState(d.redis, d.target, now), readConsumers(d.redis, d.target)]).catch(() => undefined),
    databaseState(d.sql),
  ]);
  if (!redisPart) {
    return { at: now, redis: 'unreachable', database: db.state, groupExists: false, lag: null, pending: 0, oldestPendingAgeMs: undefined, deadLetters: 0, consumers: 0, liveConsumers: 0 };
  }
  const [state, consumers] = redisPart;
  return {
    at: now,
    redis: 'ok',
    database: db.state,
    groupExists: state.groupExists,
    lag: state.lag,
    pending: state.pending,
    oldestPendingAgeMs: state.oldestPendingAgeMs,
    deadLetters: state.deadLetters,
    consumers: consumers.length,
    liveConsumers: consumers.filter((c) => !isDeadConsumer(c, d.deadConsumerIdleMs)).length,
  };
}

/** Samples every interval in the background, so the status rules can see how things moved. */
export function startSampler(d: SamplerDeps): Sampler {
  const now = d.now ?? Date.now;
  const keepMs = d.keepMs ?? 30 * 60_000;
  const samples: Sample[] = [];
  const log = d.logger.child({ component: 'console-sampler' });
  const record = (s: Sample): void => {
    samples.push(s);
    while (samples.length > 0 && (samples[0] as Sample).at < s.at - keepMs) samples.shift();
  };
  const sampleNow = async (): Promise<Sample> => {
    const s = await takeSample(d, now());
    const last = samples[samples.length - 1];
    if (!last || s.at - last.at >= d.intervalMs / 2) record(s);
    return s;
  };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sampleNow()
      .catch((err: unknown) => log.warn({ err: toError(err) }, 'Status sample failed'))
      .finally(() => {
        running = false;
      });
  }, d.intervalMs);
  timer.unref();
  void sampleNow().catch((err: unknown) => log.warn({ err: toError(err) }, 'Status sample failed'));
  return {
    history: () => samples,
    sampleNow,
    stop: () => clearInterval(timer),
  };
}
