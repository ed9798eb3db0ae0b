import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@fuel-code/testing';

/*
 * The two HTTP targets of `--api` as child processes. Each one's stdout goes to a file, not
 * through a pipe to the bench: the bench is also the load generator, and parsing the API's
 * log lines there would take CPU from the load. The file also gives the log lines per request.
 */

export interface HttpTarget {
  name: string;
  url: string;
  pid: number;
  /** Lines the target wrote to stdout since the last call (its log lines). */
  newLogLines(): number;
  /** CPU seconds (user + system) the target process has used so far; undefined without /proc. */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

const live = new Set<HttpTarget>();

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (100 on every common kernel). */
const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a process in seconds, from /proc/<pid>/stat; undefined once it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": state is field 0, utime field 11, stime field 12.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** SIGKILL every target still running: for process exit, when nothing can be awaited. */
export function killAllTargetsNow(): void {
  for (const t of live) {
    try {
      process.kill(t.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function getStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

async function waitHealthy(name: string, url: string, proc: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) break;
    if ((await getStatus(`${url}/api/health`)) === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = readFileSync(logFile, 'utf8').slice(-2000);
  throw new Error(`${name} did not answer 200 on /api/health within ${timeoutMs} ms (exit ${proc.exitCode ?? proc.signalCode ?? 'none'}); output:\n${tail}`);
}

export async function startTarget(name: string, script: string, env: NodeJS.ProcessEnv): Promise<HttpTarget> {
  const port = await freePort();
  const logFile = path.join(os.tmpdir(), `fc-bench-${name}-${process.pid}-${port}.log`);
  const fd = openSync(logFile, 'w');
  const proc = spawn(process.execPath, [script], { env: { ...env, PORT: String(port) }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (proc.pid === undefined) throw new Error(`could not start ${name} (${script})`);
  const { pid } = proc;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let readBytes = 0;
  let stopped = false;
  const target: HttpTarget = {
    name,
    url: `http://127.0.0.1:${port}`,
    pid: proc.pid,
    cpuSeconds: () => processCpuSeconds(pid),
    newLogLines() {
      const size = statSync(logFile).size;
      if (size <= readBytes) return 0;
      const fdr = openSync(logFile, 'r');
      try {
        const buf = Buffer.alloc(size - readBytes);
        let lines = 0;
        // Only what is new: the file grows by tens of MB per window.
        const n = readSync(fdr, buf, 0, buf.length, readBytes);
        for (let i = 0; i < n; i++) if (buf[i] === 10) lines++;
        readBytes += n;
        return lines;
      } finally {
        closeSync(fdr);
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      live.delete(target);
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(logFile, { force: true });
    },
  };
  live.add(target);
  try {
    await waitHealthy(name, target.url, proc, logFile, 20_000);
  } catch (err) {
    await target.stop();
    throw err;
  }
  return target;
}
