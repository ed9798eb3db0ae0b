import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '@fuel-code/testing';
import { BENCH_PREFIX, CgroupSet, detectCpuController, joinThenExec, readCap, readThrottling, removeAllCgroupsSync, sweepLeftovers, type CpuController } from '../src/cgroup';

/*
 * Against the machine's real cgroup CPU controller (v1 or v2, as root). Where none is
 * writable the real-cgroup tests are skipped, and the skip path itself is tested below.
 */

const TEST_PREFIX = 'fc-bench-test-';
const detection = detectCpuController();
const withCgroups = detection.ok ? describe : describe.skip;

/** Spawn through joinThenExec; resolves with the child's exit and its stdout. */
function runIn(procsFile: string, script: string): { pid: number; done: Promise<{ code: number | null; stdout: string }> } {
  const { command, args } = joinThenExec(procsFile, [process.execPath, '-e', script]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  const done = new Promise<{ code: number | null; stdout: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout })));
  if (child.pid === undefined) throw new Error('spawn failed');
  return { pid: child.pid, done };
}

const ownGroups = (controller: CpuController) => readdirSync(controller.root).filter((n) => n.startsWith(`${TEST_PREFIX}${process.pid}-`));

withCgroups('a real cgroup CPU controller', () => {
  const controller = (detection as { ok: true; controller: CpuController }).controller;
  afterAll(() => removeAllCgroupsSync());

  it('caps a process joined through the wrapper: it is in the group, throttled, and gets clearly less CPU than wall time', async () => {
    const set = new CgroupSet(controller, TEST_PREFIX);
    const group = set.create('busy', 0.2);
    expect(readCap(controller.version, group.dir)).toBeCloseTo(0.2, 3);
    // Busy for 1.5 s of wall time, then report its own CPU time and the cgroups it is in.
    const busy = `const fs=require('fs');const c0=process.cpuUsage();const t0=Date.now();while(Date.now()-t0<1500){}
      const c=process.cpuUsage(c0);console.log(JSON.stringify({cpuMs:(c.user+c.system)/1000,wallMs:Date.now()-t0,cgroups:fs.readFileSync('/proc/self/cgroup','utf8')}));`;
    const proc = runIn(group.procsFile, busy);
    await waitFor(() => set.contains(group, proc.pid) || !existsSync(`/proc/${proc.pid}`), 5000);
    const { code, stdout } = await proc.done;
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { cpuMs: number; wallMs: number; cgroups: string };
    expect(report.cgroups).toContain(group.name);
    expect(report.cpuMs / report.wallMs).toBeLessThan(0.5);
    expect(readThrottling(group.dir).throttled).toBeGreaterThan(0);
    expect(set.dispose()).toEqual([]);
    expect(existsSync(group.dir)).toBe(false);
  });

  it('the wrapper does not start the command when it cannot join the group', async () => {
    const proc = runIn(path.join(controller.root, `${TEST_PREFIX}${process.pid}-missing`, 'cgroup.procs'), 'console.log("ran")');
    const { code, stdout } = await proc.done;
    expect(code).not.toBe(0);
    expect(stdout).toBe('');
  });

  it('removal moves a still-running process out and leaves no group behind', async () => {
    const set = new CgroupSet(controller, TEST_PREFIX);
    const groups = [set.create('a', 0.2), set.create('b', 0.5)];
    const sleeper = runIn(groups[0]?.procsFile ?? '', 'setInterval(() => {}, 1000)');
    await waitFor(() => groups[0] !== undefined && set.contains(groups[0], sleeper.pid), 5000);
    expect(ownGroups(controller)).toHaveLength(2);
    expect(removeAllCgroupsSync()).toEqual([]);
    expect(ownGroups(controller)).toEqual([]);
    // Moved out, not killed: stopping it is its owner's job.
    expect(existsSync(`/proc/${sleeper.pid}`)).toBe(true);
    process.kill(sleeper.pid, 'SIGKILL');
    await sleeper.done;
    expect(set.dispose()).toEqual([]);
  });

  it('sweeps the groups of a dead owner that carry the prefix, and leaves a live owner\'s alone', async () => {
    const dead = runIn('/dev/null', 'process.exit(0)');
    await dead.done;
    const alive = runIn('/dev/null', 'setInterval(() => {}, 1000)');
    const deadDir = path.join(controller.root, `${TEST_PREFIX}${dead.pid}-leftover`);
    const aliveDir = path.join(controller.root, `${TEST_PREFIX}${alive.pid}-inuse`);
    mkdirSync(deadDir);
    mkdirSync(aliveDir);
    try {
      const swept = sweepLeftovers(controller, TEST_PREFIX);
      expect(swept).toContain(path.basename(deadDir));
      expect(swept).not.toContain(path.basename(aliveDir));
      expect(existsSync(deadDir)).toBe(false);
      expect(existsSync(aliveDir)).toBe(true);
    } finally {
      process.kill(alive.pid, 'SIGKILL');
      await alive.done;
      for (const d of [deadDir, aliveDir]) if (existsSync(d)) rmdirSync(d);
    }
  });
});

describe('where no CPU controller is writable', () => {
  it('says why for a root that does not exist', () => {
    const d = detectCpuController(['/nonexistent/fc-bench-cgroup']);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.reason).toMatch(/\/nonexistent\/fc-bench-cgroup: .*ENOENT/);
  });

  it('says why for a directory that is not a cgroup controller, and for a read-only one', () => {
    const plain = mkdtempSync(path.join(tmpdir(), 'fc-bench-cg-'));
    try {
      const d = detectCpuController([plain, '/proc/self']);
      expect(d.ok).toBe(false);
      if (!d.ok) {
        expect(d.reason).toContain(`${plain} is not a cgroup CPU controller`);
        expect(d.reason).toContain('/proc/self is not a cgroup CPU controller');
      }
      expect(readdirSync(plain)).toEqual([]);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });

  it('the bench\'s prefix is distinct from the tests\' one, so a sweep of one never takes the other\'s groups', () => {
    expect(`${TEST_PREFIX}1-x`.startsWith(BENCH_PREFIX)).toBe(true);
    expect(new RegExp(`^${BENCH_PREFIX}(\\d+)-`).test(`${TEST_PREFIX}1-x`)).toBe(false);
  });
});
