import type { DrainResult } from './drain-scenario';
import { fmt, fmtInt, fmtRatio, table } from './report';
import type { RunResults, RunSummary } from './summary';

/* The run's output: the plain-text table for stdout and the BENCH_JSON object. */

function drainRow(r: DrainResult, reference: DrainResult | undefined): string[] {
  return [
    r.label,
    fmtInt(r.events),
    String(r.processes),
    String(r.batchSize),
    fmt(r.seconds, 2),
    fmtInt(r.eventsPerSecond),
    reference ? fmtRatio(r.eventsPerSecond / reference.eventsPerSecond) : '—',
    fmt(r.peakRssMb),
    fmt(r.cpu?.coresBusy, 2),
    cpuPer1000(r),
    fmt(r.busyBeforePct, 0),
    fmt(r.othersDuringPct, 0),
  ];
}

/** CPU ms per 1,000 events: consumers / their Postgres backends / Redis. */
function cpuPer1000(r: DrainResult): string {
  if (!r.cpu || r.events === 0) return '—';
  const per = (ms: number) => fmtInt((ms * 1000) / r.events);
  return `${per(r.cpu.ms.consumers)} / ${per(r.cpu.ms.postgres)} / ${per(r.cpu.ms.redis)}`;
}

/** The table printed on stdout (without the trailing blank line). */
export function renderTable(run: RunResults, summary: RunSummary): string {
  const { options, machine, workload, durationSeconds, drains, reference, curve, latencies } = run;
  const { goals, anomalies } = summary;
  const out: string[] = [];
  out.push('');
  out.push(`fuel-code bench — ${options.quick ? 'quick' : 'full'} run, seed ${options.seed}, ${durationSeconds} s`);
  out.push(
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${fmtInt(machine.totalMemMb)} MB RAM, ${machine.platform}; node ${machine.node}; ` +
      `PostgreSQL ${machine.postgres}; Redis ${machine.redis}; load average ${machine.loadAvg1mAtStart} at start, ${machine.loadAvg1mAtEnd} at end`,
  );
  out.push(`worker processes run with NODE_OPTIONS="${options.nodeOptions ?? ''}" (by default what Dockerfile.worker sets)`);
  out.push(
    `workload: ${fmtInt(workload.events)} events, ${fmtInt(workload.sessions)} sessions, ${workload.workspaces} workspaces, ${workload.devices} devices (` +
      Object.entries(workload.byType)
        .sort()
        .map(([t, n]) => `${fmtInt(n)} ${t}`)
        .join(', ') +
      ')',
  );
  out.push('');
  out.push('Drain a backlog (clock: first "Event consumer started" → every entry stored and acked; peak RSS = VmHWM;');
  out.push(' busy before % = CPU busy while the bench sat idle just before the run; others during % = CPU used by other');
  out.push(' processes than the bench, its workers, their Postgres backends and Redis while the clock ran; both % of all CPUs;');
  out.push(` cores busy = CPUs the whole machine kept busy meanwhile, of ${machine.cpus}; CPU ms/1k = CPU time per 1,000 events of the`);
  out.push(' consumer processes / their Postgres backends with Postgres\' helpers / Redis, from /proc, 10 ms resolution)');
  out.push(
    table(
      ['scenario', 'events', 'procs', 'batch', 'seconds', 'events/s', 'vs reference', 'peak RSS MB', 'cores busy', 'CPU ms/1k consumer/PG/Redis', 'busy before %', 'others during %'],
      drains.map((r) => drainRow(r, reference)),
    ),
  );
  if (curve.length > 0) {
    out.push('');
    out.push(`Batch-size curve (1 process, ${fmtInt(options.events)} events): ` + curve.map((r) => `${r.batchSize} → ${fmtInt(r.eventsPerSecond)}/s`).join(', '));
  }
  if (latencies.length > 0) {
    out.push('');
    out.push(
      `Latency at a steady ${options.latencyRate} events/s for ${options.latencySeconds} s after ${options.latencyWarmupSeconds} s of warm-up at that rate, one process ` +
        '(publish → committed: when the commit\'s NOTIFY reaches a listener;',
    );
    out.push(' pick-up = publish → the consumer\'s transaction start, events.ingested_at; warm-up = the uncounted first seconds, p50/p99/max)');
    out.push(
      table(
        ['consumer', 'batch', 'events', 'published/s', 'stored/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'mean ms', 'pick-up p50/p99 ms', 'warm-up p50/p99/max ms', 'peak RSS MB', 'busy before %', 'others during %'],
        latencies.map((r) => [
          r.kind === 'worker' ? 'worker' : 'reference loop',
          String(r.batchSize),
          fmtInt(r.seen),
          fmtInt(r.achievedRate),
          fmtInt(r.consumedRate),
          fmtInt(r.p50Ms),
          fmtInt(r.p95Ms),
          fmtInt(r.p99Ms),
          fmtInt(r.maxMs),
          fmt(r.meanMs),
          `${fmt(r.pickupMs.p50)} / ${fmt(r.pickupMs.p99)}`,
          `${fmtInt(r.warmup.p50Ms)} / ${fmtInt(r.warmup.p99Ms)} / ${fmtInt(r.warmup.maxMs)}`,
          fmt(r.peakRssMb),
          fmt(r.busyBeforePct, 0),
          fmt(r.othersDuringPct, 0),
        ]),
      ),
    );
  }
  out.push('');
  out.push('Goals (issue 5)');
  out.push(table(['figure', 'value', 'goal', 'met'], goals.map((g) => [g.what, g.value, g.goal, g.met === null ? 'not run' : g.met ? 'yes' : 'NO'])));
  if (summary.scalingBound) {
    const b = summary.scalingBound;
    out.push(
      `One process kept ${fmt(b.coresBusy, 2)} of ${b.cpus} CPUs busy (${b.label}): at its CPU per event, more processes on this ` +
        `machine can reach at most ${fmtRatio(b.bound)} of one; more consumers scale on more cores.`,
    );
  }
  out.push('');
  out.push(anomalies.length === 0 ? 'Checks: every run stored all events, no dead letters, no handler failures, clean exits; equal backlogs left equal tables.' : `Anomalies:\n${anomalies.map((a) => `  - ${a}`).join('\n')}`);
  return out.join('\n');
}

/** The BENCH_JSON object (also written, pretty-printed, to bench-results/latest.json). */
export function benchJson(run: RunResults, summary: RunSummary) {
  const { options, machine, workload, durationSeconds, drains, reference, curve, batchSize, chosen, one, two, latency, referenceLatency, rss } = run;
  const { workerVsReference, twoVsOne, goals, anomalies, scalingBound } = summary;
  return {
    bench: 'fuel-code',
    version: 1,
    mode: options.quick ? 'quick' : 'full',
    startedAt: new Date(Date.now() - durationSeconds * 1000).toISOString(),
    durationSeconds,
    options: { ...options, skip: [...options.skip] },
    machine,
    workload,
    reference: reference ?? null,
    batchCurve: curve.map((r) => ({ batchSize: r.batchSize, events: r.events, seconds: r.seconds, eventsPerSecond: r.eventsPerSecond, peakRssMb: r.peakRssMb })),
    chosenBatchSize: batchSize,
    worker: chosen ?? null,
    oneProcess: one ?? null,
    twoProcesses: two ?? null,
    latency: latency ?? null,
    referenceLatency: referenceLatency ?? null,
    rss: rss ?? null,
    ratios: { workerVsReference, twoVsOne },
    scalingBound,
    goals,
    anomalies,
    drains,
  };
}
