import type Redis from 'ioredis';
import type { Sql } from 'postgres';
import { toError } from '@fuel-code/core';
import { recycleSqlClient } from '@fuel-code/db';
import { within } from '@fuel-code/runtime';
import type { ConsumerHealth } from '@fuel-code/consumer';

export interface Probe {
  ok: boolean;
  body: Record<string, unknown>;
}

export interface LivenessOptions {
  /** The consumer's health; undefined while the worker is still booting (migrations). */
  health: () => ConsumerHealth | undefined;
  /** Other signs of progress (a batch or an event handled), ms since epoch. */
  lastActivityAt?: () => number;
  /** Stuck when nothing progressed for this long: the read's block time plus a margin. */
  staleAfterMs: number;
  /** Since when the command connection's commands go unanswered (a silent connection). */
  redisUnansweredSince?: () => number | undefined;
  now?: () => number;
}

/**
 * `/healthz`: is the consume loop making progress? Not a Redis PING: a loop that is hung
 * (or has been waiting on a dependency longer than the threshold) is reported as stuck even
 * when Redis answers.
 */
export function liveness(o: LivenessOptions): Probe {
  const health = o.health();
  const now = (o.now ?? Date.now)();
  if (!health) return { ok: false, body: { status: 'starting' } };
  if (!health.running) return { ok: false, body: { status: 'stopped' } };
  // A silent connection is replaced within seconds, well before staleAfterMs: say so while it lasts.
  const unanswered = o.redisUnansweredSince?.();
  if (unanswered !== undefined) return { ok: false, body: { status: 'redis-unanswered', sinceMs: now - unanswered } };
  const last = Math.max(health.lastProgressAt, o.lastActivityAt?.() ?? 0);
  const body = { lastProgressAt: new Date(last).toISOString(), sinceMs: now - last, thresholdMs: o.staleAfterMs };
  return now - last <= o.staleAfterMs ? { ok: true, body: { status: 'ok', ...body } } : { ok: false, body: { status: 'stuck', ...body } };
}

async function check(fn: () => Promise<unknown>, timeoutMs: number): Promise<string> {
  try {
    await within(fn(), timeoutMs);
    return 'ok';
  } catch (err) {
    return toError(err).message || 'error';
  }
}

export interface ReadinessOptions {
  redis: Redis;
  /**
   * Best a pool of its own, so probes never queue behind (or starve) the consumer's queries.
   * Its sessions are recycled while they report read-only (see postgresWritable).
   */
  sql: Sql;
  timeoutMs?: number;
}

/**
 * Can this database take the worker's writes? A read-only database (default_transaction_read_only,
 * a hot standby) answers SELECT 1 happily while refusing every write, so readiness asks. A session
 * keeps the read-only default it started with, so a read-only answer also recycles the probe's
 * sessions: the next probe sees what a new session would, and turns ready once writes are back.
 */
async function postgresWritable(sql: Sql): Promise<void> {
  const [row] = await sql<{ readOnly: string; inRecovery: boolean }[]>`
    SELECT current_setting('transaction_read_only') AS "readOnly", pg_is_in_recovery() AS "inRecovery"`;
  const refusal = row?.inRecovery ? 'in recovery (a standby): read-only' : row?.readOnly !== 'off' ? 'read-only' : undefined;
  if (refusal === undefined) return;
  // Not awaited: the probe answers now; the sessions end once idle.
  recycleSqlClient(sql).catch(() => undefined);
  throw new Error(refusal);
}

/**
 * `/readyz`: Redis answers PING, and PostgreSQL answers and takes writes (neither read-only nor
 * in recovery), each within the timeout. The body says which is not ready, and why.
 */
export function readiness(o: ReadinessOptions): () => Promise<Probe> {
  const timeoutMs = o.timeoutMs ?? 1000;
  return async () => {
    const [redis, postgres] = await Promise.all([check(() => o.redis.ping(), timeoutMs), check(() => postgresWritable(o.sql), timeoutMs)]);
    const ok = redis === 'ok' && postgres === 'ok';
    return { ok, body: { status: ok ? 'ready' : 'not ready', redis, postgres } };
  };
}
