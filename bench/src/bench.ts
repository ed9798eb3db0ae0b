#!/usr/bin/env node
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CONSUMER_CONFIG } from '@fuel-code/consumer';
import { parseArgs, USAGE, UsageError, type BenchOptions } from './args';
import { removeAllCgroupsSync } from './cgroup';
import { runApiBench } from './api-bench';
import { killAllChildrenNow, stopAllChildren } from './children';
import { runDrain, type DrainResult } from './drain-scenario';
import { checkShared, closeRun, containerNodeOptions, openShared, REFERENCE_JS, REPO_ROOT, runAllCleanups, WORKER_JS } from './infra';
import { runLatency, type LatencyResult } from './latency-scenario';
import { loadAvg, machineInfo } from './machine';
import { parseScalingArgs, SCALING_USAGE } from './scaling-args';
import { scalingMain } from './scaling-main';
import { benchJson, renderTable } from './output';
import { summarizeRun, type RunResults } from './summary';
import { generateBacklog, summarize, type WorkloadSummary } from './workload';

/*
 * `npm run bench`: the worker's throughput (batch-size curve, one vs two processes), latency
 * at a steady rate and peak RSS, next to the per-event reference loop on the same backlog.
 * Every scenario gets a fresh database and fresh stream keys, dropped and deleted at the end.
 * Progress goes to stderr; the table and the BENCH_JSON line go to stdout.
 */

const progress = (line: string) => process.stderr.write(`${line}\n`);

async function main(options: BenchOptions): Promise<number> {
  const runStarted = performance.now();
  for (const [what, file] of [
    ['worker', WORKER_JS],
    ['reference loop', REFERENCE_JS],
  ] as const) {
    if (!existsSync(file)) throw new Error(`${what} not built: ${file} is missing (npm run bench builds it; or run \`npx turbo run build --filter=@fuel-code/bench...\`)`);
  }
  // Resolved once, so the report prints what the workers really ran with.
  options.nodeOptions ??= containerNodeOptions();
  const shared = openShared(options.nodeOptions);
  try {
    await checkShared(shared);
    const machine = await machineInfo(shared);
    progress(
      `fuel-code bench (${options.quick ? 'quick' : 'full'}, seed ${options.seed}, run ${shared.runId}): ${machine.cpus} × ${machine.cpuModel}, ` +
        `node ${machine.node}, PostgreSQL ${machine.postgres}, Redis ${machine.redis}; worker NODE_OPTIONS "${shared.nodeOptions}"`,
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
    // The goals are judged on the worker as it ships: its default batch size, unless told otherwise.
    const batchSize = options.batchSize ?? DEFAULT_CONSUMER_CONFIG.batchSize;
    const chosen = curve.find((r) => r.batchSize === batchSize);
    progress(
      `batch size for the remaining scenarios: ${batchSize} (${options.batchSize !== undefined ? '--batch-size' : "the worker's default"})` +
        (best ? `; best of the curve: ${best.batchSize}` : ''),
    );

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
      progress(`• latency: ${kind === 'worker' ? 'one worker' : 'the reference loop'} (batch ${b}), ${options.latencyRate} events/s for ${options.latencyWarmupSeconds} s warm-up + ${options.latencySeconds} s…`);
      const r = await runLatency(shared, { kind, batchSize: b, rate: options.latencyRate, seconds: options.latencySeconds, warmupSeconds: options.latencyWarmupSeconds, seed: options.seed + 1 });
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

    const run: RunResults = {
      options,
      machine,
      workload,
      durationSeconds,
      drains,
      reference,
      curve,
      batchSize,
      chosen,
      one,
      two,
      latency,
      referenceLatency,
      latencies,
      rss,
    };
    const summary = summarizeRun(run);
    process.stdout.write(`${renderTable(run, summary)}\n\n`);

    const json = benchJson(run, summary);
    const line = JSON.stringify(json);
    process.stdout.write(`BENCH_JSON ${line}\n`);
    const dir = path.join(REPO_ROOT, 'bench-results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
    progress(`written to ${path.relative(process.cwd(), path.join(dir, 'latest.json')) || path.join(dir, 'latest.json')}`);
    return 0;
  } finally {
    await closeRun(shared);
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
  removeCgroups();
  await runAllCleanups();
  process.exit(130);
}
/** The scaling run's cgroups: emptied and removed on every way out, a second Ctrl-C included. */
function removeCgroups(): void {
  for (const e of removeAllCgroupsSync()) process.stderr.write(`cgroup cleanup failed: ${e}\n`);
}
process.on('SIGINT', (s) => void onSignal(s));
process.on('SIGTERM', (s) => void onSignal(s));
process.on('exit', () => {
  killAllChildrenNow();
  removeCgroups();
});

/** The default run, or `--scaling` (its own options), parsed; a usage error exits 2. */
function parseCommandLine(argv: readonly string[]): (() => Promise<number>) | undefined {
  // `--api` is a mode of its own (src/api-bench.ts), with its own options.
  if (argv.includes('--api')) return () => runApiBench(argv.filter((a) => a !== '--api'));
  const scaling = argv.includes('--scaling');
  const usage = scaling ? SCALING_USAGE : USAGE;
  try {
    const parsed = scaling ? parseScalingArgs(argv.filter((a) => a !== '--scaling')) : parseArgs(argv);
    if (parsed === 'help') {
      process.stdout.write(`${usage}\n`);
      return undefined;
    }
    return 'workers' in parsed ? () => scalingMain(parsed) : () => main(parsed);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n\n${usage}\n`);
    process.exit(2);
  }
}
const run = parseCommandLine(process.argv.slice(2));
if (!run) process.exit(0);
run().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Interrupted: the signal handler cleans up and exits; errors from the torn-down run are noise.
    if (interrupted) return;
    process.stderr.write(`\nbench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof Error && err.stack && !/^\s*---/m.test(err.message)) process.stderr.write(`${err.stack.split('\n').slice(1, 6).join('\n')}\n`);
    process.exit(1);
  },
);
