import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

const cpuCount = () => Math.max(1, cpus().length);

/** Nearest-rank percentile of an ascending array (0 when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? 0;
}

function cpuTimes(): { idle: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { idle, total: fields.reduce((a, b) => a + b, 0) };
  } catch {
    return undefined;
  }
}

/**
 * How busy the machine is while the bench itself sits idle: percent of all CPUs busy over
 * `ms` (from /proc/stat). Anything well above zero is someone else's work competing with the
 * scenario about to run. Undefined where /proc/stat is not available.
 */
export async function busyWhileIdle(ms = 300): Promise<number | undefined> {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  if (!a || !b || b.total <= a.total) return undefined;
  return Math.round((1 - (b.idle - a.idle) / (b.total - a.total)) * 1000) / 10;
}

/** utime + stime of a process, in clock ticks; undefined once it is gone. */
function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ": state is field 0, utime field 11, stime field 12.
    return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  } catch {
    return undefined;
  }
}

function machineTicks(): { busy: number; total: number } | undefined {
  const t = cpuTimes();
  return t ? { busy: t.total - t.idle, total: t.total } : undefined;
}

type Role = 'postgres' | 'redis';

/**
 * The pid of the redis-server the bench talks to (INFO server), so only its CPU is counted:
 * other redis-servers on the machine (other users' private ones) are not the bench's.
 * Undefined when Redis does not say (then every local redis-server is counted).
 */
export async function redisServerPid(redis: { info(section: 'server'): Promise<string> }): Promise<number | undefined> {
  const pid = /^process_id:(\d+)\r?$/m.exec(await redis.info('server'))?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/** Postgres backends of one database, Postgres' shared helpers (WAL writer, checkpointer, …) and the Redis server. */
function serverPids(dbName: string, redisPid: number | undefined): Map<number, Role> {
  const pids = new Map<number, Role>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (cmd.startsWith('redis-server')) {
      if (redisPid === undefined || Number(entry) === redisPid) pids.set(Number(entry), 'redis');
    }
    else if (cmd.startsWith('postgres: ') && (cmd.includes(` ${dbName} `) || /(walwriter|checkpointer|background writer|autovacuum launcher|logical replication launcher|stats collector)/.test(cmd))) {
      pids.set(Number(entry), 'postgres');
    }
  }
  return pids;
}

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in hundredths of a second. */
const TICK_MS = 10;

/** Where the CPU went while a scenario's clock ran. */
export interface CpuReport {
  /** Busy time of the whole machine, % of all CPUs. */
  machineBusyPct: number;
  /** The same as a number of CPUs kept busy. */
  coresBusy: number;
  /** CPU used by the rest of the machine (not the bench, its children, this database's backends, Postgres' helpers or Redis), % of all CPUs. */
  othersPct: number;
  /** CPU time, ms: the consumer processes, their Postgres backends with Postgres' shared helpers, Redis. */
  ms: { consumers: number; postgres: number; redis: number };
}

/**
 * Start accounting CPU for a measured window: machine-wide from /proc/stat, per process
 * from /proc/<pid>/stat for the consumers (`childPids`), this database's Postgres backends,
 * Postgres' helpers and Redis. Undefined where /proc is not available.
 */
export function startCpuAccount(dbName: string, childPids: readonly number[], redisPid: number | undefined): () => CpuReport | undefined {
  const machine0 = machineTicks();
  const ticks0 = new Map<number, number>();
  const server0 = serverPids(dbName, redisPid);
  for (const pid of [process.pid, ...childPids, ...server0.keys()]) ticks0.set(pid, processTicks(pid) ?? 0);
  return () => {
    const machine1 = machineTicks();
    if (!machine0 || !machine1 || machine1.total <= machine0.total) return undefined;
    const roles = new Map<number, Role | 'consumers' | 'bench'>([...server0, ...serverPids(dbName, redisPid)]);
    for (const pid of childPids) roles.set(pid, 'consumers');
    roles.set(process.pid, 'bench');
    const used = { consumers: 0, postgres: 0, redis: 0, bench: 0 };
    for (const [pid, role] of roles) {
      const now = processTicks(pid);
      if (now === undefined) continue;
      used[role] += now - (ticks0.get(pid) ?? 0);
    }
    const window = machine1.total - machine0.total;
    const busy = machine1.busy - machine0.busy;
    const others = busy - used.consumers - used.postgres - used.redis - used.bench;
    const cpus = cpuCount();
    const pct = (n: number) => Math.round((n / window) * 1000) / 10;
    return {
      machineBusyPct: pct(busy),
      coresBusy: Math.round((busy / window) * cpus * 100) / 100,
      othersPct: Math.max(0, pct(others)),
      ms: { consumers: used.consumers * TICK_MS, postgres: used.postgres * TICK_MS, redis: used.redis * TICK_MS },
    };
  };
}
