/** Options of `npm run bench -- --api` (the ingest API beside a bare fastify route). */
export interface ApiBenchOptions {
  /** Seconds of load before each measured window, not counted. */
  warmupSeconds: number;
  /** Seconds of each measured window. */
  durationSeconds: number;
  connections: number;
  /** Each round measures the bare route, then ours. */
  rounds: number;
}

export const API_USAGE = `Usage: npm run bench -- --api [options]

Starts the built API (apps/api/dist/main.js, its own stream key on the local Redis) and a bare
fastify route answering 202, both as child processes, and loads each in turn with autocannon
(bare, ours, bare, ours, …): one client-shaped event per request, a distinct event id each.
Prints req/s, p50/p99 latency and non-2xx per window, the ratio ours/bare, the goal, whether
every accepted event is in the stream exactly once, and a BENCH_JSON line with an "api" section.

Options:
  --duration S       measured window per target and round (10)
  --warmup S         load before each window, not counted (3)
  --connections N    concurrent connections (50)
  --rounds N         rounds of bare + ours (2)
  --help

Environment: REDIS_URL (redis://127.0.0.1:6379).`;

export class ApiUsageError extends Error {
  readonly code = 'USAGE_INVALID' as const;
}

export function parseApiArgs(argv: readonly string[]): ApiBenchOptions | 'help' {
  const flags = new Map<string, string>([
    ['--duration', '10'],
    ['--warmup', '3'],
    ['--connections', '50'],
    ['--rounds', '2'],
  ]);
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return 'help';
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (!flags.has(flag)) throw new ApiUsageError(`unknown argument for --api: ${arg}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ApiUsageError(`${flag} needs a value`);
    given.set(flag, value);
  }
  const int = (flag: string, min: number, max: number): number => {
    const raw = given.get(flag) ?? flags.get(flag) ?? '';
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) throw new ApiUsageError(`${flag}: expected an integer from ${min} to ${max}, got "${raw}"`);
    return n;
  };
  return {
    durationSeconds: int('--duration', 1, 3600),
    warmupSeconds: int('--warmup', 0, 600),
    connections: int('--connections', 1, 10_000),
    rounds: int('--rounds', 1, 100),
  };
}
