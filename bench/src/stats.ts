import { readdirSync, readFileSync } from 'node:fs';

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

/** Postgres backends of one database, plus Postgres' and Redis' shared helpers (WAL writer, checkpointer, …). */
function serverPids(dbName: string): number[] {
  const pids: number[] = [];
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
    if (
      cmd.startsWith('redis-server') ||
      (cmd.startsWith('postgres: ') && (cmd.includes(` ${dbName} `) || /(walwriter|checkpointer|background writer|autovacuum launcher|logical replication launcher|stats collector)/.test(cmd)))
    ) {
      pids.push(Number(entry));
    }
  }
  return pids;
}

/**
 * CPU the rest of the machine used during a measured window: all busy time minus what the
 * bench, its children, this scenario's Postgres backends, Postgres' shared helpers and Redis
 * used. A percentage of all CPUs; undefined where /proc is not available.
 */
export function startCpuAccount(dbName: string, childPids: readonly number[]): () => number | undefined {
  const machine0 = machineTicks();
  const own0 = new Map<number, number>();
  for (const pid of [process.pid, ...childPids, ...serverPids(dbName)]) own0.set(pid, processTicks(pid) ?? 0);
  return () => {
    const machine1 = machineTicks();
    if (!machine0 || !machine1 || machine1.total <= machine0.total) return undefined;
    let own = 0;
    for (const pid of new Set([process.pid, ...childPids, ...serverPids(dbName), ...own0.keys()])) {
      const now = processTicks(pid);
      if (now === undefined) continue;
      own += now - (own0.get(pid) ?? 0);
    }
    const others = machine1.busy - machine0.busy - own;
    return Math.max(0, Math.round((others / (machine1.total - machine0.total)) * 1000) / 10);
  };
}
