export const SCENARIOS = ['reference', 'curve', 'two', 'latency', 'reference-latency', 'rss'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchOptions {
  quick: boolean;
  seed: number;
  /** The backlog of the reference loop and the batch-size curve. */
  events: number;
  /** The reference loop drains the first N of the backlog. */
  referenceEvents: number;
  batchSizes: number[];
  /** Batch size for the later scenarios instead of the worker's default. */
  batchSize: number | undefined;
  twoProcessEvents: number;
  latencySeconds: number;
  /** Published at the rate before the measured window, not counted: startup is not steady state. */
  latencyWarmupSeconds: number;
  latencyRate: number;
  rssEvents: number;
  skip: Set<Scenario>;
  /** NODE_OPTIONS for the worker and reference processes; undefined = what Dockerfile.worker sets. */
  nodeOptions: string | undefined;
}

export const USAGE = `Usage: npm run bench -- [options]

Fills fresh streams and databases, runs the real worker (apps/event-worker/dist/worker.js)
and a per-event reference loop over the same mixed backlog, and prints a table and a JSON
line (BENCH_JSON …, also written to bench-results/latest.json).

Options:
  --quick                  small sizes for a smoke run (5k backlog, reference on 2k,
                           curve 10/200/1000, latency 3 s, RSS backlog 20k)
  --events N               backlog of the reference loop and the batch-size curve (30000)
  --reference-events N     the reference loop drains only the first N of that backlog
  --batch-sizes A,B,…      the curve (10,50,100,200,500,1000,2000)
  --batch-size N           use N for the later scenarios instead of the worker's default (500)
  --two-process-events N   backlog of the one- vs two-process comparison (2 × --events)
  --latency-seconds S      length of the steady-rate latency run (10)
  --latency-warmup-seconds S  published at the same rate first and not counted (2); its p99 is printed apart
  --latency-rate R         events/s of the latency run (2000)
  --rss-events N           backlog of the peak-RSS run (100000)
  --seed N                 workload seed (1)
  --node-options S         NODE_OPTIONS for the worker processes (default: what Dockerfile.worker
                           sets, so the worker is measured as deployed; '' for none)
  --skip a,b               skip scenarios: ${SCENARIOS.join(', ')}
  --api                    instead: the ingest API beside a bare fastify route (--api --help)
  --help

Environment: REDIS_URL (redis://127.0.0.1:6379), DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres;
its user must be allowed to CREATE DATABASE).`;

export class UsageError extends Error {
  readonly code = 'USAGE_INVALID' as const;
}

export function parseArgs(argv: readonly string[]): BenchOptions | 'help' {
  const values = new Map<string, string>();
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--quick') {
      quick = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const known = [
      '--events',
      '--reference-events',
      '--batch-sizes',
      '--batch-size',
      '--two-process-events',
      '--latency-seconds',
      '--latency-warmup-seconds',
      '--latency-rate',
      '--rss-events',
      '--seed',
      '--skip',
      '--node-options',
    ];
    if (!known.includes(flag)) throw new UsageError(`unknown argument: ${arg}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    values.set(flag, value);
  }

  const int = (flag: string, fallback: number, min = 1): number => {
    const raw = values.get(flag);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag}: expected an integer ≥ ${min}, got "${raw}"`);
    return n;
  };
  const events = int('--events', quick ? 5000 : 30_000);
  const referenceEvents = int('--reference-events', quick ? Math.min(2000, events) : events);
  if (referenceEvents > events) throw new UsageError(`--reference-events (${referenceEvents}) cannot exceed --events (${events})`);
  const rawSizes = values.get('--batch-sizes');
  const batchSizes = rawSizes === undefined ? (quick ? [10, 200, 1000] : [10, 50, 100, 200, 500, 1000, 2000]) : rawSizes.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isSafeInteger(n) || n < 1 || n > 10_000) throw new UsageError(`--batch-sizes: "${s}" is not an integer from 1 to 10000`);
    return n;
  });
  const skip = new Set<Scenario>();
  for (const s of (values.get('--skip') ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    if (!(SCENARIOS as readonly string[]).includes(s)) throw new UsageError(`--skip: unknown scenario "${s}" (one of ${SCENARIOS.join(', ')})`);
    skip.add(s as Scenario);
  }
  const batchSize = values.has('--batch-size') ? int('--batch-size', 0) : undefined;
  if (batchSize !== undefined && batchSize > 10_000) throw new UsageError('--batch-size: at most 10000');
  return {
    quick,
    seed: int('--seed', 1, 0),
    events,
    referenceEvents,
    batchSizes,
    batchSize,
    twoProcessEvents: int('--two-process-events', 2 * events),
    latencySeconds: int('--latency-seconds', quick ? 3 : 10),
    latencyWarmupSeconds: int('--latency-warmup-seconds', quick ? 1 : 2, 0),
    latencyRate: int('--latency-rate', 2000),
    rssEvents: int('--rss-events', quick ? 20_000 : 100_000),
    skip,
    nodeOptions: values.get('--node-options'),
  };
}
