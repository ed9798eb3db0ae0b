import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { toError } from '@fuel-code/core';
import { untilAborted } from '@fuel-code/runtime';
import { removeIdleConsumers, type RemovedConsumer } from '@fuel-code/stream';

export interface GroupCleanupDeps {
  redis: Redis;
  logger: Logger;
  stream: string;
  group: string;
  /** This worker's consumer name: never removed. */
  self: string;
  /** Consumers with nothing pending and idle longer than this are removed; 0 turns cleanup off. */
  idleMs: number;
  /** Time between passes before jitter; default cleanupIntervalMs(idleMs). */
  intervalMs?: number;
  /** [0, 1), for the jitter; Math.random by default. */
  random?: () => number;
  /** Called once per removed consumer (e.g. to count it). */
  onRemoved?: (removed: RemovedConsumer) => void;
}

export interface GroupCleanup {
  readonly enabled: boolean;
  /** One pass now: removes what qualifies (in chunks of REMOVALS_PER_CALL, at most MAX_CALLS_PER_PASS calls). */
  runOnce(): Promise<RemovedConsumer[]>;
  /** No further passes; waits (bounded) for a pass under way. Idempotent. */
  stop(): Promise<void>;
}

/** One script call removes at most this many, so it never holds Redis for long. */
const REMOVALS_PER_CALL = 100;
const MAX_CALLS_PER_PASS = 20;
const MAX_INTERVAL_MS = 15 * 60_000;
const STOP_WAIT_MS = 2000;

/**
 * A quarter of the idle threshold (at most 15 min): a dead consumer goes within 1.25× the
 * threshold, while a fleet of N workers sends N cheap scripts per interval. Every worker runs
 * it; that is safe (each removal is atomic and idempotent) and needs no leader.
 */
export function cleanupIntervalMs(idleMs: number): number {
  return Math.max(50, Math.min(MAX_INTERVAL_MS, Math.floor(idleMs / 4)));
}

/** One pass: remove what qualifies, a chunk per script call, until none is left or `stopped()`. */
async function removeDeadConsumers(deps: GroupCleanupDeps, log: Logger, stopped: () => boolean): Promise<RemovedConsumer[]> {
  const all: RemovedConsumer[] = [];
  for (let call = 0; call < MAX_CALLS_PER_PASS && !stopped(); call++) {
    const { removed, more } = await removeIdleConsumers(deps.redis, {
      stream: deps.stream,
      group: deps.group,
      self: deps.self,
      minIdleMs: deps.idleMs,
      maxRemovals: REMOVALS_PER_CALL,
    });
    for (const consumer of removed) {
      log.info({ removedConsumer: consumer.name, idleMs: consumer.idleMs }, `Removed consumer ${consumer.name} from the group: nothing pending, idle ${Math.round(consumer.idleMs / 1000)} s`);
      deps.onRemoved?.(consumer);
    }
    all.push(...removed);
    if (!more) break;
  }
  return all;
}

/**
 * Periodically remove the group's dead consumers: every restart under compose or Kubernetes
 * brings a new consumer name (hostname-pid), and the old ones would stay in the group, in
 * `status` and XINFO, for ever. Only consumers with no pending entries go (see
 * removeIdleConsumers); one with pending entries is left until reclaim has emptied it.
 * Each wait is jittered ±25 % so workers started together do not all scan at once.
 */
export function startGroupCleanup(deps: GroupCleanupDeps): GroupCleanup {
  const log = deps.logger.child({ component: 'group-cleanup' });
  const random = deps.random ?? Math.random;
  const interval = deps.intervalMs ?? cleanupIntervalMs(deps.idleMs);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const runOnce = () => removeDeadConsumers(deps, log, () => stopped);

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runOnce()
        .catch((err: unknown) => log.warn({ err: toError(err) }, 'Consumer group cleanup failed; trying again at the next pass'))
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, Math.round(interval * (0.75 + 0.5 * random())));
    timer.unref();
  }

  if (deps.idleMs > 0) {
    log.info({ idleMs: deps.idleMs, intervalMs: interval }, 'Consumer group cleanup on');
    schedule();
  } else {
    log.info('Consumer group cleanup off');
  }

  return {
    enabled: deps.idleMs > 0,
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      if (running) await untilAborted(running, AbortSignal.timeout(STOP_WAIT_MS)).catch(() => undefined);
    },
  };
}
