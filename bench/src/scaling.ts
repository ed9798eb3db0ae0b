import type { Child } from './children';
import { CgroupSet, joinThenExec, readThrottling, type CpuCgroup, type CpuController } from './cgroup';
import { runDrain, type DrainResult } from './drain-scenario';
import type { Shared } from './infra';
import type { ScalingOptions } from './scaling-args';

/*
 * The scaling run: N capped worker processes drain the same backlog, for each N in turn.
 * Each worker runs in its own cgroup, joined before exec, so it never runs uncapped; the
 * bench checks every worker is in its group before the clock starts and reads the groups'
 * throttling counters after the drain.
 */

export interface ScalingDrain {
  workers: number;
  /** 1-based repetition. */
  round: number;
  drain: DrainResult;
  /** The cap each worker had (CPUs), read back from the kernel. */
  capCpus: number;
  /** Per worker: CFS periods it ran in, and in how many the cap held it back. */
  throttling: { periods: number; throttled: number }[];
}

export interface ScalingRow {
  workers: number;
  runs: number;
  /** Medians over the runs. */
  eventsPerSecond: number;
  eventsPerSecondRange: [number, number];
  speedup: number | null;
  efficiency: number | null;
  cpuMsPer1k: { consumers: number | null; postgres: number | null; redis: number | null };
  /** Share of all CPUs idle while the clock ran, %. */
  idlePct: number | null;
  busyBeforePct: number | null;
  othersDuringPct: number | null;
  /** Share of CFS periods in which the cap held a worker back, %. */
  throttledPct: number | null;
}

export interface ScalingGoal {
  what: string;
  value: string;
  goal: string;
  met: boolean | null;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? null) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Throws unless every worker is inside its own group: uncapped figures are never reported as capped. */
function assertCapped(set: CgroupSet, groups: readonly CpuCgroup[], children: readonly Child[]): void {
  children.forEach((c, i) => {
    const g = groups[i];
    if (!g || !set.contains(g, c.pid)) throw new Error(`${c.name} (pid ${c.pid}) is not in its cgroup ${g?.dir ?? '(none)'}: refusing to report uncapped figures as capped`);
  });
}

/** The worker's command line, with the bench's --in-flight-batches when one was given. */
export function withInFlight(argv: readonly string[], inFlightBatches: number | undefined): readonly string[] {
  return inFlightBatches === undefined ? argv : [...argv, '--in-flight-batches', String(inFlightBatches)];
}

async function drainCapped(shared: Shared, controller: CpuController, o: ScalingOptions, backlog: readonly string[], workers: number, round: number, batchSize: number): Promise<ScalingDrain> {
  const set = new CgroupSet(controller);
  let outcome: { ok: true; value: ScalingDrain } | { ok: false; err: unknown };
  try {
    const groups = Array.from({ length: workers }, (_, i) => set.create(`n${workers}-r${round}-w${i + 1}`, o.cpuQuota));
    const label = `${workers} worker${workers > 1 ? 's' : ''} × ${o.cpuQuota} CPU${o.repeat > 1 ? `, run ${round}` : ''}`;
    const warmUp = o.warmUpEvents > 0 ? ` (the first ${o.warmUpEvents.toLocaleString('en-US')} a warm-up)` : '';
    log(`• ${label}: ${backlog.length.toLocaleString('en-US')} events${warmUp}, batch ${batchSize}…`);
    const drain = await runDrain(shared, {
      label,
      kind: 'worker',
      backlog,
      processes: workers,
      batchSize,
      launcher: (i) => (argv) => joinThenExec(groups[i]?.procsFile ?? '/nonexistent', withInFlight(argv, o.inFlightBatches)),
      onStarted: (children) => assertCapped(set, groups, children),
      warmUpEvents: o.warmUpEvents,
    });
    const throttling = groups.map((g) => readThrottling(g.dir));
    log(`  ${drain.seconds.toFixed(2)} s, ${drain.eventsPerSecond.toLocaleString('en-US')} events/s, machine idle ${drain.cpu ? (100 - drain.cpu.machineBusyPct).toFixed(0) : '?'}%`);
    outcome = { ok: true, value: { workers, round, drain, capCpus: o.cpuQuota, throttling } };
  } catch (err) {
    outcome = { ok: false, err };
  }
  // runDrain has stopped the workers by now; the groups go whether the drain worked or not.
  const errors = set.dispose();
  if (!outcome.ok) throw outcome.err;
  if (errors.length > 0) throw new Error(`cgroup cleanup failed: ${errors.join('; ')}`);
  return outcome.value;
}

/** Every count once per round, rounds one after another, so drift on the machine hits all counts alike. */
export async function runScaling(shared: Shared, controller: CpuController, o: ScalingOptions, backlog: readonly string[], batchSize: number): Promise<ScalingDrain[]> {
  const runs: ScalingDrain[] = [];
  for (let round = 1; round <= o.repeat; round++) {
    for (const n of o.workers) runs.push(await drainCapped(shared, controller, o, backlog, n, round, batchSize));
  }
  return runs;
}

const round1 = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);

export function scalingRows(runs: readonly ScalingDrain[], workerCounts: readonly number[]): ScalingRow[] {
  const rows = workerCounts.map((workers): ScalingRow => {
    const mine = runs.filter((r) => r.workers === workers);
    const rates = mine.map((r) => r.drain.eventsPerSecond);
    const per1k = (pick: (ms: { consumers: number; postgres: number; redis: number }) => number) =>
      round1(median(mine.flatMap((r) => (r.drain.cpu && r.drain.events > 0 ? [(pick(r.drain.cpu.ms) * 1000) / r.drain.events] : []))));
    const periods = mine.flatMap((r) => r.throttling).reduce((a, t) => ({ p: a.p + t.periods, t: a.t + t.throttled }), { p: 0, t: 0 });
    const max = (xs: (number | null)[]) => {
      const v = xs.filter((x): x is number => x !== null);
      return v.length ? Math.max(...v) : null;
    };
    return {
      workers,
      runs: mine.length,
      eventsPerSecond: Math.round(median(rates) ?? 0),
      eventsPerSecondRange: [Math.min(...rates), Math.max(...rates)] as [number, number],
      speedup: null,
      efficiency: null,
      cpuMsPer1k: { consumers: per1k((m) => m.consumers), postgres: per1k((m) => m.postgres), redis: per1k((m) => m.redis) },
      idlePct: round1(median(mine.flatMap((r) => (r.drain.cpu ? [100 - r.drain.cpu.machineBusyPct] : [])))),
      busyBeforePct: max(mine.map((r) => r.drain.busyBeforePct)),
      othersDuringPct: max(mine.map((r) => r.drain.othersDuringPct)),
      throttledPct: periods.p > 0 ? round1((periods.t / periods.p) * 100) : null,
    };
  });
  const base = rows[0];
  for (const r of rows) {
    if (!base || base.eventsPerSecond <= 0) continue;
    r.speedup = Math.round((r.eventsPerSecond / base.eventsPerSecond) * 100) / 100;
    r.efficiency = Math.round(((r.eventsPerSecond / base.eventsPerSecond) * base.workers * 100) / r.workers) / 100;
  }
  return rows;
}

/** Issue 15's goals, judged where the counts they name were run (against N = 1). */
export function scalingGoals(rows: readonly ScalingRow[]): ScalingGoal[] {
  const at = (n: number) => rows.find((r) => r.workers === n);
  const one = rows[0]?.workers === 1 ? rows[0] : undefined;
  const speedupGoal = (n: number, min: number): ScalingGoal => {
    const r = at(n);
    const v = one && r?.speedup != null ? r.speedup : null;
    return { what: `speedup at N=${n} against N=1`, value: v === null ? '—' : `${v.toFixed(2)}×`, goal: `≥ ${min}×`, met: v === null ? null : v >= min };
  };
  const c1 = one?.cpuMsPer1k.consumers ?? null;
  const c4 = at(4)?.cpuMsPer1k.consumers ?? null;
  const ratio = c1 !== null && c4 !== null && c1 > 0 ? c4 / c1 : null;
  return [
    speedupGoal(2, 1.8),
    speedupGoal(4, 3.4),
    {
      what: 'consumer CPU per event, N=4 against N=1',
      value: ratio === null ? '—' : `${c4} vs ${c1} ms/1k (${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(0)}%)`,
      goal: 'within 10%',
      met: ratio === null ? null : Math.abs(ratio - 1) <= 0.1,
    },
  ];
}
