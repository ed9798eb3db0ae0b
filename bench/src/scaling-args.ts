import { UsageError } from './args';

/** Options of `npm run bench -- --scaling`. */
export interface ScalingOptions {
  seed: number;
  /** Backlog of every drain, after the warm-up. */
  events: number;
  /**
   * Entries published ahead of the measured backlog in every drain: the clock and the CPU
   * accounting start only once this many are acked, so the figures leave out each worker's
   * first batches (V8 compiling the hot paths, the heap growing, new Postgres sessions). 0 =
   * the clock starts when the workers have booted.
   */
  warmUpEvents: number;
  /** Worker counts, in order; the first is the baseline of the speedups (normally 1). */
  workers: number[];
  /** CPU cap of each worker process, in CPUs (0.2 = a fifth of one CPU). */
  cpuQuota: number;
  /** Each worker count is drained this many times, the counts interleaved; medians are reported. */
  repeat: number;
  /** undefined = the worker's default. */
  batchSize: number | undefined;
  /** The workers' --in-flight-batches; undefined = the worker's default. */
  inFlightBatches: number | undefined;
  /** undefined = what Dockerfile.worker sets. */
  nodeOptions: string | undefined;
  /** Only this cgroup CPU controller root instead of the usual mount points. */
  cgroupRoot: string | undefined;
}

export const SCALING_USAGE = `Usage: npm run bench -- --scaling [options]

Drains the same mixed backlog with N = 1, 2, 4 real worker processes, each capped at a fixed
CPU quota with its own cgroup (v1 cpu.cfs_quota_us under /sys/fs/cgroup/cpu, or v2 cpu.max),
so that the workers are the bottleneck and PostgreSQL and Redis keep headroom. Prints events/s,
speedup against the first N, efficiency, CPU per 1,000 events and the machine's idle share, and
a BENCH_JSON line with a "scaling" section. Needs root (or a delegated cgroup): where no CPU
controller is writable it says so and exits with code 3, without running anything.

Options:
  --events N          backlog of each drain (20000)
  --warm-up-events W  publish W more entries ahead of the backlog and start the clock and the CPU
                      accounting only once W are acked: steady-state figures, without the workers'
                      warm-up (0: the clock starts when the workers have booted)
  --workers A,B,…     worker counts (1,2,4); speedups are against the first
  --cpu-quota C       CPU cap of each worker, in CPUs, 0.01 to 64 (0.2)
  --repeat R          drain each count R times, interleaved, and report medians (1)
  --batch-size N      the workers' --batch-size (the worker's default, 500)
  --in-flight-batches N  the workers' --in-flight-batches, 1 to 8 (the worker's default, 4)
  --seed N            workload seed (1)
  --node-options S    NODE_OPTIONS of the workers (default: what Dockerfile.worker sets)
  --cgroup-root DIR   use only this cgroup CPU controller root (default: /sys/fs/cgroup/cpu,
                      then /sys/fs/cgroup, then /sys/fs/cgroup/unified)
  --help`;

const FLAGS = ['--events', '--warm-up-events', '--workers', '--cpu-quota', '--repeat', '--batch-size', '--in-flight-batches', '--seed', '--node-options', '--cgroup-root'] as const;

function intValue(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag}: expected an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

/** argv without the `--scaling` switch itself. */
export function parseScalingArgs(argv: readonly string[]): ScalingOptions | 'help' {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return 'help';
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (!(FLAGS as readonly string[]).includes(flag)) throw new UsageError(`unknown argument for --scaling: ${arg}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    values.set(flag, value);
  }
  const get = (flag: (typeof FLAGS)[number]) => values.get(flag);

  const workersRaw = get('--workers');
  const workers = workersRaw === undefined ? [1, 2, 4] : workersRaw.split(',').map((s) => intValue('--workers', s.trim(), 1, 64));
  if (new Set(workers).size !== workers.length) throw new UsageError(`--workers: each count once, got "${workersRaw ?? ''}"`);

  const quotaRaw = get('--cpu-quota');
  const cpuQuota = quotaRaw === undefined ? 0.2 : Number(quotaRaw);
  if (quotaRaw !== undefined && (!/^\d*\.?\d+$/.test(quotaRaw) || !(cpuQuota >= 0.01 && cpuQuota <= 64))) {
    throw new UsageError(`--cpu-quota: expected a number of CPUs from 0.01 to 64, got "${quotaRaw}"`);
  }
  const raw = (flag: (typeof FLAGS)[number], fallback: number, min: number, max: number) => {
    const v = get(flag);
    return v === undefined ? fallback : intValue(flag, v, min, max);
  };
  const batch = get('--batch-size');
  const inFlight = get('--in-flight-batches');
  const root = get('--cgroup-root');
  if (root !== undefined && root.trim() === '') throw new UsageError('--cgroup-root: expected a directory');
  return {
    seed: raw('--seed', 1, 0, Number.MAX_SAFE_INTEGER),
    events: raw('--events', 20_000, 1, 10_000_000),
    warmUpEvents: raw('--warm-up-events', 0, 0, 10_000_000),
    workers,
    cpuQuota,
    repeat: raw('--repeat', 1, 1, 20),
    batchSize: batch === undefined ? undefined : intValue('--batch-size', batch, 1, 10_000),
    inFlightBatches: inFlight === undefined ? undefined : intValue('--in-flight-batches', inFlight, 1, 8),
    nodeOptions: get('--node-options'),
    cgroupRoot: root,
  };
}
