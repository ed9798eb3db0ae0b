import { performance } from 'node:perf_hooks';
import type { Sql } from 'postgres';
import type { Child, Launcher } from './children';
import { createScenario, groupState, publishBacklog, sleep, startReference, startWorker, type GroupState, type ScenarioKeys, type Shared } from './infra';
import { assertAlive, START_TIMEOUT_MS, stopAll, storeChecks, waitStarted, type ScenarioOutcome } from './scenario-common';
import { busyWhileIdle, redisServerPid, startCpuAccount, type CpuReport } from './stats';

export interface DrainResult extends ScenarioOutcome {
  label: string;
  kind: 'reference' | 'worker';
  /** Entries drained while the clock ran: the backlog less those acked in the warm-up. */
  events: number;
  /** Every entry published, warm-up included: what the tables must hold. */
  backlog: number;
  processes: number;
  batchSize: number;
  seconds: number;
  eventsPerSecond: number;
  /** Between the first and the last process logging `Event consumer started`. */
  startSpreadMs: number;
}

const POLL_MS = 20;
/** A drain that makes no progress this long has failed. */
const STALL_MS = 60_000;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function countEvents(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM events`;
  return row?.n ?? 0;
}

export interface DrainOptions {
  label: string;
  kind: 'reference' | 'worker';
  backlog: readonly string[];
  processes: number;
  batchSize: number;
  /** How worker i (from 0) is launched, e.g. inside its own capped cgroup; plain spawn when absent. */
  launcher?: (index: number) => Launcher;
  /** Called once every process has started, before the clock starts: may throw to refuse the run. */
  onStarted?: (children: readonly Child[]) => void;
  /** Start the clock only once this many entries are acked (the backlog's first ones are the warm-up). */
  warmUpEvents?: number;
}

/** Entries delivered and acked so far; null before the group's first read. */
export const ackedOf = (state: GroupState) => (state.entriesRead === null ? null : state.entriesRead - state.pending);

/**
 * Poll the group every POLL_MS until `done` says so; throws if a process dies or nothing is
 * acked for STALL_MS. Returns the state that satisfied `done` and when it was read.
 */
export async function pollGroup(
  redis: Shared['redis'],
  keys: ScenarioKeys,
  children: readonly Child[],
  o: { label: string; total: number; since: number },
  done: (state: GroupState) => boolean,
): Promise<{ state: GroupState; at: number }> {
  let lastProgress: number | null = -1;
  let lastProgressAt = performance.now();
  let lastReport = performance.now();
  for (;;) {
    assertAlive(children, `draining ${o.label}`);
    const state = await groupState(redis, keys);
    const now = performance.now();
    if (done(state)) return { state, at: now };
    const progress = ackedOf(state);
    if (progress !== lastProgress || progress === null) {
      lastProgress = progress;
      lastProgressAt = now;
    } else if (now - lastProgressAt > STALL_MS) {
      throw new Error(
        `${o.label}: no progress for ${STALL_MS / 1000} s (${progress} of ${o.total} acked, ${state.pending} pending)${children.map((c) => c.tails()).join('')}`,
      );
    }
    if (now - lastReport > 10_000) {
      lastReport = now;
      log(`    … ${progress ?? 0} of ${o.total} acked after ${((now - o.since) / 1000).toFixed(0)} s`);
    }
    await sleep(POLL_MS);
  }
}

/**
 * Fill a fresh stream with the backlog, start the process(es), and time from the first
 * `Event consumer started` (or, with a warm-up, from the moment that many entries are acked)
 * to the moment the group has every entry delivered and acked
 * (XINFO GROUPS: last-delivered-id = the last id written and pending = 0, polled every
 * 20 ms). Entries are acked only after their transaction commits, so at that moment every
 * row is in; `SELECT count(*) FROM events` then confirms it equals the backlog.
 */
export async function runDrain(shared: Shared, o: DrainOptions): Promise<DrainResult> {
  const res = await createScenario(shared, o.label);
  const children: Child[] = [];
  try {
    const lastId = await publishBacklog(shared.redis, res.keys.stream, o.backlog);
    // Start every scenario from a clean checkpoint, so one does not pay for the last one's writes.
    await shared.admin`CHECKPOINT`;
    const redisPid = await redisServerPid(shared.redis);
    const busyBeforePct = (await busyWhileIdle()) ?? null;
    for (let i = 0; i < o.processes; i++) {
      const name = `bench-${o.kind}-${i + 1}`;
      children.push(o.kind === 'worker' ? startWorker(res, name, o.batchSize, o.launcher?.(i)) : startReference(res, name, o.batchSize));
    }
    const starts = await waitStarted(children, START_TIMEOUT_MS);
    o.onStarted?.(children);
    const booted = Math.min(...starts);
    const startSpreadMs = Math.max(...starts) - booted;
    const poll = { label: o.label, total: o.backlog.length, since: booted };
    const warmUp = o.warmUpEvents ?? 0;
    const warmed = warmUp > 0 ? await pollGroup(shared.redis, res.keys, children, poll, (s) => (ackedOf(s) ?? 0) >= warmUp) : undefined;
    const t0 = warmed?.at ?? booted;
    const ackedBefore = warmed ? (ackedOf(warmed.state) ?? 0) : 0;
    const cpuDuring = startCpuAccount(res.dbName, children.map((c) => c.pid), redisPid);
    const finished = await pollGroup(shared.redis, res.keys, children, poll, (s) => s.pending === 0 && s.lastDeliveredId === lastId);
    const cpu: CpuReport | null = cpuDuring() ?? null;
    const t1 = finished.at;
    const stored = await countEvents(res.sql);
    const processReports = await stopAll(children);
    const checks = await storeChecks(res, shared.redis);
    if (stored !== o.backlog.length) {
      log(`    ! ${o.label}: all entries acked but ${stored} of ${o.backlog.length} rows in events (${checks.deadLetters} dead letters)`);
    }
    const seconds = (t1 - t0) / 1000;
    const measured = o.backlog.length - ackedBefore;
    const rss = processReports.map((p) => p.peakRssMb).filter((v): v is number => v !== null);
    return {
      label: o.label,
      kind: o.kind,
      events: measured,
      backlog: o.backlog.length,
      processes: o.processes,
      batchSize: o.batchSize,
      seconds: Math.round(seconds * 1000) / 1000,
      eventsPerSecond: Math.round((stored - ackedBefore) / seconds),
      startSpreadMs: Math.round(startSpreadMs),
      peakRssMb: rss.length ? Math.max(...rss) : null,
      processReports,
      checks,
      busyBeforePct,
      othersDuringPct: cpu?.othersPct ?? null,
      cpu,
    };
  } finally {
    await Promise.allSettled(children.map((c) => c.stop(5000)));
    await res.dispose();
  }
}
