import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

/**
 * A worker (or the reference loop) as a child process: its pino JSON lines are parsed as
 * they come, the moment it logs `Event consumer started` is taken with performance.now(),
 * warnings and errors are kept, and stderr keeps a tail for error messages. Every child is
 * registered so an interrupted bench can still stop them all.
 */

export interface LogLine {
  level: number;
  msg: string;
  raw: string;
}

const live = new Set<Child>();

/** Turns a command line (node, script, args) into the one to spawn. */
export type Launcher = (argv: readonly string[]) => { command: string; args: string[] };

export class Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** performance.now() when `Event consumer started` was logged. */
  readonly started: Promise<number>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Log lines at warn level or above (capped), and how many there were. */
  readonly problems: LogLine[] = [];
  problemCount = 0;
  /** Non-JSON stdout lines (capped). */
  readonly otherStdout: string[] = [];
  private stderr = '';
  private stdoutTail: string[] = [];

  constructor(
    readonly name: string,
    script: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv,
    /** Wraps the command line, e.g. to join a cgroup before exec (the pid stays the worker's). */
    launcher?: Launcher,
  ) {
    const argv = [process.execPath, script, ...args];
    const { command, args: commandArgs } = launcher ? launcher(argv) : { command: process.execPath, args: argv.slice(1) };
    this.proc = spawn(command, commandArgs, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (this.proc.pid === undefined) throw new Error(`could not start ${name} (${script})`);
    this.pid = this.proc.pid;
    live.add(this);
    let onStarted: (t: number) => void = () => undefined;
    let onNoStart: (err: Error) => void = () => undefined;
    this.started = new Promise<number>((resolve, reject) => {
      onStarted = resolve;
      onNoStart = reject;
    });
    this.started.catch(() => undefined);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        onNoStart(new Error(`${name} exited (${describeExit(this.exitInfo)}) before logging "Event consumer started"${this.tails()}`));
        resolve(this.exitInfo);
      });
    });
    this.proc.on('error', (err) => onNoStart(err));
    this.proc.stderr?.setEncoding('utf8');
    this.proc.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-8000);
    });
    const lines = createInterface({ input: this.proc.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const now = performance.now();
      this.stdoutTail.push(line);
      if (this.stdoutTail.length > 20) this.stdoutTail.shift();
      let parsed: { level?: unknown; msg?: unknown } | undefined;
      try {
        parsed = JSON.parse(line) as { level?: unknown; msg?: unknown };
      } catch {
        parsed = undefined;
      }
      if (!parsed || typeof parsed !== 'object') {
        if (this.otherStdout.length < 20) this.otherStdout.push(line);
        return;
      }
      const msg = typeof parsed.msg === 'string' ? parsed.msg : '';
      const level = typeof parsed.level === 'number' ? parsed.level : 30;
      if (msg === 'Event consumer started') onStarted(now);
      if (level >= 40) {
        this.problemCount++;
        if (this.problems.length < 50) this.problems.push({ level, msg, raw: line.slice(0, 2000) });
      }
    });
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  stderrText(): string {
    return this.stderr;
  }

  /** The last stderr and stdout lines, for an error message. */
  tails(): string {
    const err = this.stderr.trim().split('\n').slice(-30).join('\n');
    const out = this.stdoutTail.slice(-10).join('\n');
    return `${err ? `\n--- ${this.name} stderr (tail) ---\n${err}` : ''}${out ? `\n--- ${this.name} stdout (tail) ---\n${out}` : ''}`;
  }

  /** Peak resident set (VmHWM) in kB, from /proc; undefined once the process is gone. */
  peakRssKb(): number | undefined {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
      return m?.[1] ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves with how long the exit took. */
  async stop(graceMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; stopMs: number; killed: boolean }> {
    const t0 = performance.now();
    let killed = false;
    if (this.running) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => {
        killed = true;
        this.proc.kill('SIGKILL');
      }, graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    const info = await this.exited;
    return { ...info, stopMs: performance.now() - t0, killed };
  }
}

export function describeExit(info: { code: number | null; signal: NodeJS.Signals | null }): string {
  return info.signal ? `signal ${info.signal}` : `code ${info.code}`;
}

/** Kill every child still running (used on Ctrl-C and on a crash of the bench). */
export async function stopAllChildren(graceMs = 5000): Promise<void> {
  await Promise.allSettled([...live].map((c) => c.stop(graceMs)));
}

export function killAllChildrenNow(): void {
  for (const c of live) c.proc.kill('SIGKILL');
}

/** Run a short command (e.g. `worker.js migrate`) to completion, bounded in time. */
export async function runToCompletion(
  name: string,
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<string> {
  const child = new Child(name, script, args, env);
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), timeoutMs);
  const info = await child.exited;
  clearTimeout(timer);
  if (info.code !== 0) {
    throw new Error(`${name} failed (${describeExit(info)}${info.signal === 'SIGKILL' ? `, killed after ${timeoutMs} ms` : ''})${child.tails()}`);
  }
  return child.otherStdout.join('\n');
}
