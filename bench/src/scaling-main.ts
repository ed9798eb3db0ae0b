import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CONSUMER_CONFIG } from '@fuel-code/consumer';
import { DEFAULT_ROOTS, detectCpuController, sweepLeftovers, type Detection } from './cgroup';
import { checkShared, closeRun, containerNodeOptions, openShared, REPO_ROOT, WORKER_JS } from './infra';
import { loadAvg, machineInfo } from './machine';
import { fmt, fmtInt, fmtRatio, table } from './report';
import type { ScalingOptions } from './scaling-args';
import { runScaling, scalingGoals, scalingRows, type ScalingDrain } from './scaling';
import { findAnomalies } from './summary';
import { generateBacklog, summarize } from './workload';

/* `npm run bench -- --scaling`: the scaling curve under per-worker CPU caps. */

/** Exit code when no cgroup CPU controller is writable and nothing was run. */
export const SKIPPED_EXIT_CODE = 3;

const progress = (line: string) => process.stderr.write(`${line}\n`);

/** Where the caps would go, or why there are none. Runs nothing and connects to nothing. */
export function scalingPreflight(o: Pick<ScalingOptions, 'cgroupRoot'>): Detection {
  return detectCpuController(o.cgroupRoot === undefined ? DEFAULT_ROOTS : [o.cgroupRoot]);
}

export function skipReport(reason: string): { text: string; json: object } {
  return {
    text:
      `scaling run SKIPPED: no writable cgroup CPU controller, so the workers cannot be capped (${reason}). ` +
      'Nothing was measured; uncapped figures are not reported as capped. Run as root on a host with cgroup v1 ' +
      '(/sys/fs/cgroup/cpu) or v2 with the cpu controller, or pass --cgroup-root.',
    json: { bench: 'fuel-code', version: 1, mode: 'scaling', scaling: { skipped: true, reason } },
  };
}

function anomaliesOf(runs: readonly ScalingDrain[]): string[] {
  const anomalies = findAnomalies(
    runs.map((r) => r.drain),
    [],
  );
  for (const r of runs) {
    const never = r.throttling.filter((t) => t.throttled === 0).length;
    if (never > 0) anomalies.push(`${r.drain.label}: ${never} worker(s) were never held back by the cap: that drain was not bound by the workers' CPU`);
  }
  return anomalies;
}

export async function scalingMain(o: ScalingOptions): Promise<number> {
  const detection = scalingPreflight(o);
  if (!detection.ok) {
    const skip = skipReport(detection.reason);
    progress(skip.text);
    process.stdout.write(`${skip.text}\nBENCH_JSON ${JSON.stringify(skip.json)}\n`);
    return SKIPPED_EXIT_CODE;
  }
  const controller = detection.controller;
  const swept = sweepLeftovers(controller);
  if (swept.length > 0) progress(`removed ${swept.length} cgroup(s) left by an earlier run: ${swept.join(', ')}`);
  if (!existsSync(WORKER_JS)) throw new Error(`worker not built: ${WORKER_JS} is missing (npm run bench builds it)`);

  const runStarted = performance.now();
  const nodeOptions = o.nodeOptions ?? containerNodeOptions();
  const shared = openShared(nodeOptions);
  try {
    await checkShared(shared);
    const machine = await machineInfo(shared);
    const batchSize = o.batchSize ?? DEFAULT_CONSUMER_CONFIG.batchSize;
    progress(
      `fuel-code bench --scaling (seed ${o.seed}, run ${shared.runId}): ${machine.cpus} × ${machine.cpuModel}; cgroup ${controller.version} at ${controller.root}; ` +
        `workers ${o.workers.join(', ')} × ${o.cpuQuota} CPU each, ${o.repeat} round(s)`,
    );
    const backlog = generateBacklog(o.events + o.warmUpEvents, o.seed);
    const runs = await runScaling(shared, controller, o, backlog, batchSize);
    machine.loadAvg1mAtEnd = loadAvg();
    const rows = scalingRows(runs, o.workers);
    const goals = scalingGoals(rows);
    const anomalies = anomaliesOf(runs);
    const durationSeconds = Math.round((performance.now() - runStarted) / 100) / 10;

    const out: string[] = [''];
    const warmUp = o.warmUpEvents > 0 ? ` after a ${fmtInt(o.warmUpEvents)}-event warm-up` : '';
    out.push(`fuel-code bench --scaling — seed ${o.seed}, ${durationSeconds} s, ${fmtInt(o.events)}-event backlog${warmUp}, batch ${batchSize}${o.inFlightBatches === undefined ? '' : `, ${o.inFlightBatches} in flight`}, ${o.repeat} round(s)`);
    out.push(`machine: ${machine.cpus} × ${machine.cpuModel}; node ${machine.node}; PostgreSQL ${machine.postgres}; Redis ${machine.redis}; load average ${machine.loadAvg1mAtStart} at start, ${machine.loadAvg1mAtEnd} at end`);
    out.push(`caps: each worker in its own cgroup (${controller.version}, ${controller.root}) at ${o.cpuQuota} CPU; PostgreSQL, Redis and the bench uncapped`);
    out.push(`workload: ${fmtInt(summarize(backlog).events)} events; worker NODE_OPTIONS="${nodeOptions}"`);
    out.push('');
    const clockFrom = o.warmUpEvents > 0 ? `the warm-up's ${fmtInt(o.warmUpEvents)} entries acked` : 'workers booted';
    out.push(`Scaling under CPU caps (clock: ${clockFrom} → every entry stored and acked; medians over the rounds; CPU ms/1k = CPU time`);
    out.push(' per 1,000 events of the consumers / their PostgreSQL backends with PostgreSQL\'s helpers / Redis, from /proc; idle % = share of');
    out.push(' all CPUs idle while the clock ran; throttled % = CFS periods in which the cap held a worker back)');
    out.push(
      table(
        ['workers', 'events/s', 'range', 'speedup', 'efficiency', 'CPU ms/1k consumer/PG/Redis', 'idle %', 'throttled %', 'busy before %', 'others during %'],
        rows.map((r) => [
          String(r.workers),
          fmtInt(r.eventsPerSecond),
          `${fmtInt(r.eventsPerSecondRange[0])}–${fmtInt(r.eventsPerSecondRange[1])}`,
          fmtRatio(r.speedup),
          r.efficiency === null ? '—' : `${Math.round(r.efficiency * 100)}%`,
          `${fmtInt(r.cpuMsPer1k.consumers)} / ${fmtInt(r.cpuMsPer1k.postgres)} / ${fmtInt(r.cpuMsPer1k.redis)}`,
          fmt(r.idlePct, 0),
          fmt(r.throttledPct, 0),
          fmt(r.busyBeforePct, 0),
          fmt(r.othersDuringPct, 0),
        ]),
      ),
    );
    out.push('');
    out.push('Goals (issue 15)');
    out.push(table(['figure', 'value', 'goal', 'met'], goals.map((g) => [g.what, g.value, g.goal, g.met === null ? 'not run' : g.met ? 'yes' : 'NO'])));
    out.push('');
    out.push(anomalies.length === 0 ? 'Checks: every drain stored all events exactly once (equal tables), no dead letters, clean exits; every worker was throttled by its cap.' : `Anomalies:\n${anomalies.map((a) => `  - ${a}`).join('\n')}`);
    process.stdout.write(`${out.join('\n')}\n\n`);

    const json = {
      bench: 'fuel-code',
      version: 1,
      mode: 'scaling',
      startedAt: new Date(Date.now() - durationSeconds * 1000).toISOString(),
      durationSeconds,
      options: o,
      machine,
      scaling: { cgroup: controller, cpuQuota: o.cpuQuota, events: o.events, warmUpEvents: o.warmUpEvents, batchSize, inFlightBatches: o.inFlightBatches ?? null, rows, goals, anomalies, runs },
    };
    process.stdout.write(`BENCH_JSON ${JSON.stringify(json)}\n`);
    const dir = path.join(REPO_ROOT, 'bench-results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'scaling-latest.json'), `${JSON.stringify(json, null, 2)}\n`);
    return 0;
  } finally {
    await closeRun(shared);
  }
}
