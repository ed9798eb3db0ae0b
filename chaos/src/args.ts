/** Command-line options of `npm run chaos`. */

export interface ChaosOptions {
  mode: 'chaos' | 'soak';
  short: boolean;
  seed: number;
  /** Events to publish (valid + poison + deliberate duplicates, about). */
  events: number;
  /** How long the producer spreads its publishing over. */
  publishSeconds: number;
  /** Soak: minutes to run, events/s, worker count. */
  minutes: number;
  rate: number;
  soakWorkers: number;
  /** Keep the database and redis dir after the run (debugging). */
  keep: boolean;
}

export const USAGE = `Usage: npm run chaos -- [options]

Starts a private redis-server (appendonly), a fresh database behind a TCP proxy, the API and
three workers; publishes all 21 fuel-code event types (plus unknown types and off-schema
payloads, which are stored, and ~1% poison, which is not) through the API and straight to the
stream while it kills, stops and cuts things and brings the quiet faults (silent Redis
connections, a read-only database, disk full, a stall inside a transaction); then verifies
nothing was lost or doubled and every table matches a model of the published events.

Options:
  --short          20k events over 75 s, a shorter plan with each fault once (about 2 minutes)
  --seed N         seed of the workload and of the chaos schedule (default: random, printed)
  --events N       events to publish (100000; 20000 with --short)
  --publish-seconds S   spread publishing over S seconds (180; 75 with --short)
  --minutes N      soak mode: a steady rate for N minutes, no chaos; samples RSS and
                   event-loop lag every minute and fails on unbounded memory growth
  --rate R         soak mode: events per second (500)
  --workers N      soak mode: worker processes, 1 or 2 (2)
  --keep           do not drop the database (its name is printed), and keep the children's
                   logs and the backlog samples (always kept when a check fails)
  --help

Environment: DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres; its user must be
allowed to CREATE DATABASE). Redis is always a private redis-server on a free port.`;

export class UsageError extends Error {
  readonly code = 'USAGE_INVALID' as const;
}

function int(flag: string, raw: string | undefined, min: number, max: number): number {
  if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`${flag} needs an integer from ${min} to ${max}, got ${JSON.stringify(raw ?? '')}`);
  }
  return Number(raw);
}

export function parseArgs(argv: readonly string[]): ChaosOptions | 'help' {
  let short = false;
  let keep = false;
  const values = new Map<string, string | undefined>();
  const valued = ['--seed', '--events', '--publish-seconds', '--minutes', '--rate', '--workers'];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--short') short = true;
    else if (arg === '--keep') keep = true;
    else {
      const eq = arg.indexOf('=');
      const flag = eq > 0 ? arg.slice(0, eq) : arg;
      if (!valued.includes(flag)) throw new UsageError(`unknown option ${arg}`);
      values.set(flag, eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    }
  }
  const get = (flag: string, fallback: number, min: number, max: number): number =>
    values.has(flag) ? int(flag, values.get(flag), min, max) : fallback;
  const seed = get('--seed', Math.floor(Math.random() * 2 ** 31), 0, 2 ** 31 - 1);
  const minutes = get('--minutes', 0, 1, 24 * 60);
  return {
    mode: values.has('--minutes') ? 'soak' : 'chaos',
    short,
    seed,
    events: get('--events', short ? 20_000 : 100_000, 100, 10_000_000),
    publishSeconds: get('--publish-seconds', short ? 75 : 180, 1, 3600),
    minutes,
    rate: get('--rate', 500, 1, 100_000),
    soakWorkers: get('--workers', 2, 1, 2),
    keep,
  };
}
