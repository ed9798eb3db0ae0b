#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs, USAGE, UsageError, type BenchOptions } from './args';
import { killAllChildrenNow, stopAllChildren } from './children';
import {
  DATABASE_URL,
  openRedis,
  openSql,
  redactUrl,
  REDIS_URL,
  REFERENCE_JS,
  REPO_ROOT,
  runAllCleanups,
  WORKER_JS,
  type Shared,
} from './infra';
import { fmt, fmtInt, fmtRatio, table } from './report';
import { loadAvg, runDrain, runLatency, type DrainResult, type LatencyResult } from './scenarios';
import { generateBacklog, summarize, type WorkloadSummary } from './workload';

/*
 * `npm run bench`: the worker's throughput (batch-size curve, one vs two processes), latency
 * at a steady rate and peak RSS, next to the per-event reference loop on the same backlog.
 * Every scenario gets a fresh database and fresh stream keys, dropped and deleted at the end.
 * Progress goes to stderr; the table and the BENCH_JSON line go to stdout.
 */

/** CPU busy % (bench idle) above which a scenario's figures are flagged as disturbed. */
const BUSY_PCT = 15;
const LATENCY_POLL_LABEL = '2 ms';

const progress = (line: string) => process.stderr.write(`${line}\n`);

interface MachineInfo {
  cpus: number;
  cpuModel: string;
  totalMemMb: number;
  platform: string;
  node: string;
  postgres: string;
  postgresSettings: Record<string, string>;
  redis: string;
  loadAvg1mAtStart: number;
  loadAvg1mAtEnd?: number;
}

async function machineInfo(shared: Shared): Promise<MachineInfo> {
  const cpus = os.cpus();
  const [version] = await shared.admin<{ server_version: string }[]>`SHOW server_version`;
  const settings = await shared.admin<{ name: string; setting: string; unit: string | null }[]>`
    SELECT name, setting, unit FROM pg_settings
    WHERE name IN ('shared_buffers', 'synchronous_commit', 'fsync', 'wal_level', 'max_wal_size', 'work_mem', 'max_connections')
    ORDER BY name`;
  const info = await shared.redis.info('server');
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemMb: Math.round(os.totalmem() / 1024 / 1024),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: version?.server_version ?? 'unknown',
    postgresSettings: Object.fromEntries(settings.map((s) => [s.name, s.unit ? `${s.setting} (${s.unit})` : s.setting])),
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    loadAvg1mAtStart: loadAvg(),
  };
}

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
    fmt(r.busyBeforePct, 0),
    fmt(r.othersDuringPct, 0),
  ];
}

interface Goal {
  what: string;
  value: string;
  goal: string;
  met: boolean | null;
}

async function main(options: BenchOptions): Promise<number> {
  const runStarted = performance.now();
  for (const [what, file] of [
    ['worker', WORKER_JS],
    ['reference loop', REFERENCE_JS],
  ] as const) {
    if (!existsSync(file)) throw new Error(`${what} not built: ${file} is missing (npm run bench builds it; or run \`npx turbo run build --filter=@fuel-code/bench...\`)`);
  }
  const shared: Shared = { admin: openSql(DATABASE_URL, 1), redis: openRedis(), runId: randomBytes(3).toString('hex') };
  try {
    try {
      await shared.admin`SELECT 1`;
    } catch (err) {
      throw new Error(`PostgreSQL at ${redactUrl(DATABASE_URL)} does not answer: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      await shared.redis.ping();
    } catch (err) {
      throw new Error(`Redis at ${redactUrl(REDIS_URL)} does not answer: ${err instanceof Error ? err.message : String(err)}`);
    }
    const machine = await machineInfo(shared);
    progress(
      `fuel-code bench (${options.quick ? 'quick' : 'full'}, seed ${options.seed}, run ${shared.runId}): ${machine.cpus} × ${machine.cpuModel}, ` +
        `node ${machine.node}, PostgreSQL ${machine.postgres}, Redis ${machine.redis}`,
    );

    const largest = Math.max(options.events, options.skip.has('two') ? 0 : options.twoProcessEvents, options.skip.has('rss') ? 0 : options.rssEvents);
    progress(`generating a ${largest.toLocaleString('en-US')}-event backlog…`);
    const backlog = generateBacklog(largest, options.seed);
    const mainBacklog = backlog.slice(0, options.events);
    const workload: WorkloadSummary = summarize(mainBacklog);

    const drains: DrainResult[] = [];
    const drain = async (o: Parameters<typeof runDrain>[1]) => {
      progress(`• ${o.label}: ${o.backlog.length.toLocaleString('en-US')} events, ${o.processes} process(es), batch ${o.batchSize}…`);
      const r = await runDrain(shared, o);
      progress(`  ${r.seconds.toFixed(2)} s, ${r.eventsPerSecond.toLocaleString('en-US')} events/s, peak RSS ${r.peakRssMb ?? '?'} MB`);
      drains.push(r);
      return r;
    };

    // a. The per-event reference loop, the yardstick.
    let reference: DrainResult | undefined;
    if (!options.skip.has('reference')) {
      const label = options.referenceEvents < options.events ? `reference loop (first ${options.referenceEvents})` : 'reference loop (per event)';
      reference = await drain({ label, kind: 'reference', backlog: mainBacklog.slice(0, options.referenceEvents), processes: 1, batchSize: 10 });
    }

    // b. The worker, one process: the batch-size curve.
    const curve: DrainResult[] = [];
    const sizes = [...options.batchSizes];
    if (options.batchSize !== undefined && !sizes.includes(options.batchSize)) sizes.push(options.batchSize);
    if (!options.skip.has('curve')) {
      for (const b of sizes) curve.push(await drain({ label: `worker, batch ${b}`, kind: 'worker', backlog: mainBacklog, processes: 1, batchSize: b }));
    }
    const best = curve.reduce<DrainResult | undefined>((a, r) => (!a || r.eventsPerSecond > a.eventsPerSecond ? r : a), undefined);
    const batchSize = options.batchSize ?? best?.batchSize ?? 1000;
    const chosen = curve.find((r) => r.batchSize === batchSize);
    progress(`batch size for the remaining scenarios: ${batchSize}${options.batchSize !== undefined ? ' (--batch-size)' : best ? ' (best of the curve)' : ' (no curve run)'}`);

    // c. Two processes vs one on the same larger backlog.
    let one: DrainResult | undefined;
    let two: DrainResult | undefined;
    if (!options.skip.has('two')) {
      const big = backlog.slice(0, options.twoProcessEvents);
      one = await drain({ label: `worker ×1, ${big.length / 1000}k`, kind: 'worker', backlog: big, processes: 1, batchSize });
      two = await drain({ label: `worker ×2, ${big.length / 1000}k`, kind: 'worker', backlog: big, processes: 2, batchSize });
    }

    // d. Latency at a steady rate: the worker, then the reference loop under the same load.
    let latency: LatencyResult | undefined;
    let referenceLatency: LatencyResult | undefined;
    const latencyRun = async (kind: 'worker' | 'reference', b: number) => {
      progress(`• latency: ${kind === 'worker' ? 'one worker' : 'the reference loop'} (batch ${b}), ${options.latencyRate} events/s for ${options.latencySeconds} s…`);
      const r = await runLatency(shared, { kind, batchSize: b, rate: options.latencyRate, seconds: options.latencySeconds, seed: options.seed + 1 });
      progress(`  p50 ${r.p50Ms} ms, p95 ${r.p95Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms (${r.seen} rows, stored at ${r.consumedRate}/s)`);
      return r;
    };
    if (!options.skip.has('latency')) latency = await latencyRun('worker', batchSize);
    if (!options.skip.has('reference-latency')) referenceLatency = await latencyRun('reference', 10);
    const latencies = [latency, referenceLatency].filter((r): r is LatencyResult => r !== undefined);

    // e. Peak RSS with a large backlog.
    let rss: DrainResult | undefined;
    if (!options.skip.has('rss')) {
      rss = await drain({ label: `worker, ${options.rssEvents / 1000}k backlog (RSS)`, kind: 'worker', backlog: backlog.slice(0, options.rssEvents), processes: 1, batchSize });
    }

    machine.loadAvg1mAtEnd = loadAvg();
    const durationSeconds = Math.round((performance.now() - runStarted) / 100) / 10;

    // Equal backlogs must leave equal tables (digests ignore server-made ids and clock columns).
    const anomalies: string[] = [];
    const byEvents = new Map<number, DrainResult[]>();
    for (const r of drains) byEvents.set(r.events, [...(byEvents.get(r.events) ?? []), r]);
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
      const expected = 'events' in r ? r.events : r.published;
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
        what: `p99 publish → visible at ${options.latencyRate}/s`,
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

    // ---- the table ----
    const out: string[] = [];
    out.push('');
    out.push(`fuel-code bench — ${options.quick ? 'quick' : 'full'} run, seed ${options.seed}, ${durationSeconds} s`);
    out.push(
      `machine: ${machine.cpus} × ${machine.cpuModel}, ${fmtInt(machine.totalMemMb)} MB RAM, ${machine.platform}; node ${machine.node}; ` +
        `PostgreSQL ${machine.postgres}; Redis ${machine.redis}; load average ${machine.loadAvg1mAtStart} at start, ${machine.loadAvg1mAtEnd} at end`,
    );
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
    out.push(' processes than the bench, its workers, their Postgres backends and Redis while the clock ran; both % of all CPUs)');
    out.push(
      table(
        ['scenario', 'events', 'procs', 'batch', 'seconds', 'events/s', 'vs reference', 'peak RSS MB', 'busy before %', 'others during %'],
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
        `Latency at a steady ${options.latencyRate} events/s for ${options.latencySeconds} s, one process ` +
          `(publish → visible to a reader; conservative: includes up to one ${LATENCY_POLL_LABEL} poll interval;`,
      );
      out.push(' pick-up = publish → the consumer\'s transaction start, events.ingested_at)');
      out.push(
        table(
          ['consumer', 'batch', 'events', 'published/s', 'stored/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'mean ms', 'pick-up p50/p99 ms', 'peak RSS MB', 'busy before %', 'others during %'],
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
    out.push('');
    out.push(anomalies.length === 0 ? 'Checks: every run stored all events, no dead letters, no handler failures, clean exits; equal backlogs left equal tables.' : `Anomalies:\n${anomalies.map((a) => `  - ${a}`).join('\n')}`);
    process.stdout.write(`${out.join('\n')}\n\n`);

    // ---- the JSON ----
    const json = {
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
      goals,
      anomalies,
      drains,
    };
    const line = JSON.stringify(json);
    process.stdout.write(`BENCH_JSON ${line}\n`);
    const dir = path.join(REPO_ROOT, 'bench-results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
    progress(`written to ${path.relative(process.cwd(), path.join(dir, 'latest.json')) || path.join(dir, 'latest.json')}`);
    return 0;
  } finally {
    await stopAllChildren();
    await runAllCleanups();
    shared.redis.disconnect();
    await shared.admin.end({ timeout: 2 }).catch(() => undefined);
  }
}

let interrupted = false;
async function onSignal(signal: NodeJS.Signals): Promise<void> {
  if (interrupted) {
    killAllChildrenNow();
    process.exit(130);
  }
  interrupted = true;
  progress(`\n${signal}: stopping the workers, dropping the databases, deleting the keys… (again to force)`);
  await stopAllChildren(3000);
  await runAllCleanups();
  process.exit(130);
}
process.on('SIGINT', (s) => void onSignal(s));
process.on('SIGTERM', (s) => void onSignal(s));
process.on('exit', () => killAllChildrenNow());

let parsed: ReturnType<typeof parseArgs>;
try {
  parsed = parseArgs(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (parsed === 'help') {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
main(parsed).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Interrupted: the signal handler cleans up and exits; errors from the torn-down run are noise.
    if (interrupted) return;
    process.stderr.write(`\nbench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof Error && err.stack && !/^\s*---/m.test(err.message)) process.stderr.write(`${err.stack.split('\n').slice(1, 6).join('\n')}\n`);
    process.exit(1);
  },
);
