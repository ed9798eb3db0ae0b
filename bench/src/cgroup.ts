import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/*
 * CPU caps for the scaling run: one cgroup per worker process, with the kernel's CPU
 * bandwidth controller (v1 cpu.cfs_quota_us / cpu.cfs_period_us, or v2 cpu.max). A capped
 * worker is throttled exactly as a container with a CPU limit is.
 *
 * Everything here is synchronous on purpose: removal must also work from a process 'exit'
 * handler (a second Ctrl-C), where nothing asynchronous runs any more.
 */

export type CgroupVersion = 'v1' | 'v2';

/** A writable CPU controller: where worker cgroups are made. */
export interface CpuController {
  version: CgroupVersion;
  root: string;
}

export type Detection = { ok: true; controller: CpuController } | { ok: false; reason: string };

/** The mount points tried, in order, when no root is given. */
export const DEFAULT_ROOTS: readonly string[] = ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup', '/sys/fs/cgroup/unified'];

/** Prefix of every cgroup the bench makes; `<prefix><owner pid>-<label>`. */
export const BENCH_PREFIX = 'fc-bench-';

const PERIOD_US = 100_000;

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function versionOf(root: string): CgroupVersion | undefined {
  if (existsSync(path.join(root, 'cpu.cfs_quota_us'))) return 'v1';
  // A v2 root has no cpu.max itself; it offers the controller in cgroup.controllers.
  if (existsSync(path.join(root, 'cgroup.controllers'))) return 'v2';
  return undefined;
}

/** v2 only lets a child have cpu.max when the parent delegates `cpu` to its children. */
function enableV2Cpu(root: string): void {
  const controllers = readFileSync(path.join(root, 'cgroup.controllers'), 'utf8').split(/\s+/);
  if (!controllers.includes('cpu')) throw new Error(`the cpu controller is not available in ${root} (cgroup.controllers: "${controllers.join(' ').trim()}")`);
  const subtree = readFileSync(path.join(root, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
  if (!subtree.includes('cpu')) writeFileSync(path.join(root, 'cgroup.subtree_control'), '+cpu');
}

/**
 * Probe one root: it must be a cgroup CPU controller in which a group can be made and
 * capped. The probe group is made, capped and removed; the answer is true only if all worked.
 */
export function probeRoot(root: string): Detection {
  let version: CgroupVersion | undefined;
  try {
    if (!statSync(root).isDirectory()) return { ok: false, reason: `${root} is not a directory` };
    version = versionOf(root);
  } catch (err) {
    return { ok: false, reason: `${root}: ${message(err)}` };
  }
  if (!version) return { ok: false, reason: `${root} is not a cgroup CPU controller (no cpu.cfs_quota_us, no cgroup.controllers)` };
  const probe = path.join(root, `${BENCH_PREFIX}probe-${process.pid}`);
  try {
    if (version === 'v2') enableV2Cpu(root);
    mkdirSync(probe);
    writeCap(version, probe, 0.5);
    return { ok: true, controller: { version, root } };
  } catch (err) {
    return { ok: false, reason: `${root} (cgroup ${version}) is not writable: ${message(err)}` };
  } finally {
    try {
      if (existsSync(probe)) rmdirSync(probe);
    } catch {
      // A probe group without processes always goes; if not, the leftover sweep takes it.
    }
  }
}

/** The first writable CPU controller among `roots`, or why there is none. */
export function detectCpuController(roots: readonly string[] = DEFAULT_ROOTS): Detection {
  const reasons: string[] = [];
  for (const root of roots) {
    const d = probeRoot(root);
    if (d.ok) return d;
    reasons.push(d.reason);
  }
  return { ok: false, reason: reasons.join('; ') };
}

function writeCap(version: CgroupVersion, dir: string, cpus: number): void {
  const quota = Math.max(1000, Math.round(cpus * PERIOD_US));
  if (version === 'v1') {
    writeFileSync(path.join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(quota));
  } else {
    writeFileSync(path.join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`);
  }
}

/** The cap a group really has, as a number of CPUs, read back from the kernel. */
export function readCap(version: CgroupVersion, dir: string): number | null {
  if (version === 'v1') {
    const quota = Number(readFileSync(path.join(dir, 'cpu.cfs_quota_us'), 'utf8').trim());
    const period = Number(readFileSync(path.join(dir, 'cpu.cfs_period_us'), 'utf8').trim());
    return quota > 0 && period > 0 ? quota / period : null;
  }
  const [quota, period] = readFileSync(path.join(dir, 'cpu.max'), 'utf8').trim().split(/\s+/);
  return quota === 'max' || !period ? null : Number(quota) / Number(period);
}

/** Throttling counters of a group (cpu.stat): how often the cap held it back. */
export function readThrottling(dir: string): { periods: number; throttled: number } {
  const stat = new Map<string, number>();
  for (const line of readFileSync(path.join(dir, 'cpu.stat'), 'utf8').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v) stat.set(k, Number(v));
  }
  return { periods: stat.get('nr_periods') ?? 0, throttled: stat.get('nr_throttled') ?? 0 };
}

export function readPids(dir: string): number[] {
  return readFileSync(path.join(dir, 'cgroup.procs'), 'utf8')
    .split('\n')
    .filter((s) => /^\d+$/.test(s.trim()))
    .map(Number);
}

/** One capped group. `procsFile` is what a process writes its pid to, to join it. */
export interface CpuCgroup {
  name: string;
  dir: string;
  procsFile: string;
  cpus: number;
}

/**
 * Empty one group and remove it: every process still in it is moved to the root group (it
 * keeps running, uncapped, and is stopped by its owner), then rmdir. Retried briefly, since a
 * process forking at that moment can slip in. Throws if the group is still there after that.
 */
export function removeCgroupSync(root: string, dir: string): void {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 50; attempt++) {
    if (!existsSync(dir)) return;
    try {
      for (const pid of readPids(dir)) {
        try {
          writeFileSync(path.join(root, 'cgroup.procs'), String(pid));
        } catch {
          // Exited in the meantime: nothing to move.
        }
      }
      rmdirSync(dir);
      return;
    } catch (err) {
      lastErr = err;
    }
  }
  throw new Error(`could not remove cgroup ${dir}: ${message(lastErr)}`);
}

const ownerPid = (name: string, prefix: string): number | undefined => {
  const m = new RegExp(`^${prefix.replace(/[-.]/g, '\\$&')}(\\d+)-`).exec(name);
  return m?.[1] ? Number(m[1]) : undefined;
};

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Remove groups left by an earlier run that died without cleaning up (SIGKILL, power cut):
 * those carrying `prefix` whose owner process is gone. A live owner's groups are left alone.
 * Returns the names removed.
 */
export function sweepLeftovers(controller: CpuController, prefix = BENCH_PREFIX): string[] {
  const removed: string[] = [];
  for (const entry of readdirSync(controller.root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const owner = ownerPid(entry.name, prefix);
    if (owner === undefined || owner === process.pid || isAlive(owner)) continue;
    removeCgroupSync(controller.root, path.join(controller.root, entry.name));
    removed.push(entry.name);
  }
  return removed;
}

const live = new Set<CgroupSet>();

/**
 * The groups of one run, named `<prefix><this pid>-<label>`, all removed by `removeAll`
 * (idempotent; every group is tried even when one fails).
 */
export class CgroupSet {
  private readonly groups = new Map<string, CpuCgroup>();

  constructor(
    readonly controller: CpuController,
    readonly prefix = BENCH_PREFIX,
  ) {
    live.add(this);
  }

  create(label: string, cpus: number): CpuCgroup {
    if (!(cpus > 0)) throw new Error(`a CPU cap must be > 0, got ${cpus}`);
    const name = `${this.prefix}${process.pid}-${label}`;
    const dir = path.join(this.controller.root, name);
    mkdirSync(dir);
    const group: CpuCgroup = { name, dir, procsFile: path.join(dir, 'cgroup.procs'), cpus };
    this.groups.set(name, group);
    writeCap(this.controller.version, dir, cpus);
    const cap = readCap(this.controller.version, dir);
    if (cap === null || Math.abs(cap - cpus) > 0.01) throw new Error(`cgroup ${dir}: asked for a cap of ${cpus} CPU, the kernel reports ${cap ?? 'none'}`);
    return group;
  }

  /** Move a running process into the group (the spawn wrapper is the race-free way; this is for tests and strays). */
  add(group: CpuCgroup, pid: number): void {
    writeFileSync(group.procsFile, String(pid));
  }

  contains(group: CpuCgroup, pid: number): boolean {
    return readPids(group.dir).includes(pid);
  }

  remove(group: CpuCgroup): void {
    removeCgroupSync(this.controller.root, group.dir);
    this.groups.delete(group.name);
  }

  /** Remove every group made; returns the errors (empty when all went). */
  removeAll(): string[] {
    const errors: string[] = [];
    for (const group of [...this.groups.values()]) {
      try {
        this.remove(group);
      } catch (err) {
        errors.push(message(err));
      }
    }
    return errors;
  }

  dispose(): string[] {
    live.delete(this);
    return this.removeAll();
  }
}

/** Remove the groups of every CgroupSet still open (on Ctrl-C, on a crash, in an 'exit' handler). */
export function removeAllCgroupsSync(): string[] {
  return [...live].flatMap((set) => set.dispose());
}

/**
 * argv that joins `procsFile` and then execs `argv`: the process is in the capped group
 * before it runs a line of its own code, and keeps its pid (exec), so /proc accounting of
 * that pid is the worker's. If the join fails, the shell exits 1 without starting it.
 */
export function joinThenExec(procsFile: string, argv: readonly string[]): { command: string; args: string[] } {
  return { command: '/bin/sh', args: ['-c', 'echo $$ > "$0" && exec "$@"', procsFile, ...argv] };
}
