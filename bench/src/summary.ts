import type { BenchOptions } from './args';
import type { DrainResult } from './drain-scenario';
import type { LatencyResult } from './latency-scenario';
import type { MachineInfo } from './machine';
import { fmt, fmtInt, fmtRatio } from './report';
import type { WorkloadSummary } from './workload';

/* After the scenarios: the store/process checks (anomalies), the ratios and the goals. */

/** CPU busy % (bench idle) above which a scenario's figures are flagged as disturbed. */
const BUSY_PCT = 15;

/** What one run measured, as main() collected it. */
export interface RunResults {
  options: BenchOptions;
  machine: MachineInfo;
  workload: WorkloadSummary;
  durationSeconds: number;
  drains: DrainResult[];
  reference: DrainResult | undefined;
  curve: DrainResult[];
  batchSize: number;
  chosen: DrainResult | undefined;
  one: DrainResult | undefined;
  two: DrainResult | undefined;
  latency: LatencyResult | undefined;
  referenceLatency: LatencyResult | undefined;
  latencies: LatencyResult[];
  rss: DrainResult | undefined;
}

export interface Goal {
  what: string;
  value: string;
  goal: string;
  met: boolean | null;
}

/**
 * CPUs ÷ CPUs one process's drain kept busy: with CPU per event unchanged, the most that
 * any number of processes on this machine can drain, relative to one.
 */
export interface ScalingBound {
  label: string;
  cpus: number;
  coresBusy: number;
  bound: number;
}

export interface RunSummary {
  anomalies: string[];
  workerVsReference: number | null;
  twoVsOne: number | null;
  scalingBound: ScalingBound | null;
  goals: Goal[];
}

export function findAnomalies(drains: readonly DrainResult[], latencies: readonly LatencyResult[]): string[] {
  // Equal backlogs must leave equal tables (digests ignore server-made ids and clock columns).
  const anomalies: string[] = [];
  const byEvents = new Map<number, DrainResult[]>();
  for (const r of drains) byEvents.set(r.backlog, [...(byEvents.get(r.backlog) ?? []), r]);
  for (const group of byEvents.values()) {
    const [first, ...rest] = group;
    for (const r of rest) {
      if (!first) break;
      for (const name of Object.keys(first.checks.digest)) {
        if (first.checks.digest[name] !== r.checks.digest[name]) anomalies.push(`${name} differ between "${first.label}" and "${r.label}" (same backlog)`);
      }
    }
  }
  for (const r of [...drains, ...latencies]) {
    const label = r.label;
    const expected = 'backlog' in r ? r.backlog : r.published + r.warmup.events;
    if (r.checks.events !== expected) anomalies.push(`${label}: ${r.checks.events} rows in events, expected ${expected}`);
    if (r.checks.deadLetters > 0) anomalies.push(`${label}: ${r.checks.deadLetters} dead letters`);
    if (r.checks.handlerFailures > 0) anomalies.push(`${label}: ${r.checks.handlerFailures} rows in event_handler_failures`);
    for (const p of r.processReports) {
      if (p.exit !== 'code 0') anomalies.push(`${label}: ${p.name} exited with ${p.exit}`);
      if (p.stopMs > 10_000) anomalies.push(`${label}: ${p.name} took ${p.stopMs} ms to exit after SIGTERM`);
      if (p.warnings > 0) anomalies.push(`${label}: ${p.name} logged ${p.warnings} warning/error line(s), e.g. ${p.warningSamples[0] ?? ''}`);
      if (p.stderr) anomalies.push(`${label}: ${p.name} wrote to stderr: ${p.stderr.slice(0, 300)}`);
    }
  }
  const busy = [...drains, ...latencies].filter((r) => Math.max(r.busyBeforePct ?? 0, r.othersDuringPct ?? 0) > BUSY_PCT);
  if (busy.length > 0) {
    anomalies.push(
      `other work was using more than ${BUSY_PCT}% of the CPUs before or during ${busy
        .map((r) => `"${r.label}" (${r.busyBeforePct ?? '?'}% before, ${r.othersDuringPct ?? '?'}% during)`)
        .join(', ')}: those figures are disturbed (throughput low, latency high)`,
    );
  }
  for (const r of latencies) {
    if (r.lateTicks > 0) anomalies.push(`${r.label}: ${r.lateTicks} publisher ticks ran more than ${2 * 5} ms late (bench-side jitter)`);
  }
  return anomalies;
}

export function summarizeRun(run: RunResults): RunSummary {
  const { options, drains, reference, batchSize, chosen, one, two, latency, latencies, rss } = run;
  const anomalies = findAnomalies(drains, latencies);
  const workerVsReference = chosen && reference ? chosen.eventsPerSecond / reference.eventsPerSecond : null;
  const twoVsOne = one && two ? two.eventsPerSecond / one.eventsPerSecond : null;
  const goals: Goal[] = [
    {
      what: `worker (1 process, batch ${batchSize}) / reference loop`,
      value: fmtRatio(workerVsReference),
      goal: '≥ 30×',
      met: workerVsReference === null ? null : workerVsReference >= 30,
    },
    {
      what: `worker events/s, ${fmtInt(options.events)} backlog, batch ${batchSize}`,
      value: fmtInt(chosen?.eventsPerSecond),
      goal: '≥ 35,000',
      met: chosen ? chosen.eventsPerSecond >= 35_000 : null,
    },
    { what: `2 processes / 1 process (${fmtInt(options.twoProcessEvents)} backlog)`, value: fmtRatio(twoVsOne), goal: '≥ 1.3×', met: twoVsOne === null ? null : twoVsOne >= 1.3 },
    {
      what: `p99 publish → committed at ${options.latencyRate}/s`,
      value: latency ? `${latency.p99Ms} ms` : '—',
      goal: '≤ 10 ms',
      met: latency ? latency.p99Ms <= 10 : null,
    },
    {
      what: `peak RSS, ${fmtInt(options.rssEvents)} backlog`,
      value: rss?.peakRssMb != null ? `${fmt(rss.peakRssMb)} MB` : '—',
      goal: '≤ 150 MB',
      met: rss?.peakRssMb != null ? rss.peakRssMb <= 150 : null,
    },
  ];
  const busy = one?.cpu?.coresBusy;
  const scalingBound = one && busy ? { label: one.label, cpus: run.machine.cpus, coresBusy: busy, bound: run.machine.cpus / busy } : null;
  return { anomalies, workerVsReference, twoVsOne, scalingBound, goals };
}
