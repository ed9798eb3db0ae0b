import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { trackChild } from './child-registry';

/** One stdout line: the parsed JSON object (pino), or `{ msg: raw }` when it is not JSON. */
export interface ProcessLine {
  msg?: unknown;
  [key: string]: unknown;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** The child's whole environment (pass `{ ...process.env, X: '1' }` to extend). Default: this process's. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface SpawnedProcess {
  child: ChildProcess;
  /** Every stdout line so far, in order. */
  lines: ProcessLine[];
  /** Everything written to stderr so far. */
  readonly stderr: string;
  /**
   * The first line (already seen or still to come) whose `msg` contains `match` (a string) or
   * matches it (a RegExp). Rejects when the process exits without one, or after `timeoutMs`.
   */
  waitForLine(match: string | RegExp, timeoutMs?: number): Promise<ProcessLine>;
  /** Settles once the process has exited and its output has been read to the end. */
  exited: Promise<ProcessExit>;
  /** Send a signal (default SIGTERM) and wait for the exit. */
  kill(signal?: NodeJS.Signals): Promise<ProcessExit>;
}

function parseLine(raw: string): ProcessLine {
  try {
    const value: unknown = JSON.parse(raw);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as ProcessLine;
  } catch {
    // not JSON
  }
  return { msg: raw };
}

function lineMatches(line: ProcessLine, match: string | RegExp): boolean {
  const msg = typeof line.msg === 'string' ? line.msg : JSON.stringify(line);
  return typeof match === 'string' ? msg.includes(match) : match.test(msg);
}

/** A child's output as it arrives: stdout parsed line by line, stderr kept whole. */
class ProcessOutput {
  readonly lines: ProcessLine[] = [];
  stderr = '';
  /** Called with every new stdout line. */
  readonly listeners = new Set<(line: ProcessLine) => void>();

  constructor(child: ChildProcess & { stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream }) {
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (raw) => {
      if (raw === '') return;
      const line = parseLine(raw);
      this.lines.push(line);
      for (const listener of [...this.listeners]) listener(line);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
  }
}

/** Settles once `child` has exited and its output has been read to the end; rejects only if it could not start. */
function exitedOf(child: ChildProcess): Promise<ProcessExit> {
  const exited = new Promise<ProcessExit>((resolve, reject) => {
    // 'close' comes after 'exit' and after stdout/stderr ended, so every line is in by then.
    child.once('close', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => {
      if (child.pid === undefined) reject(err); // could not start at all
    });
  });
  exited.catch(() => undefined); // a caller that never awaits it must not see an unhandled rejection
  return exited;
}

/** The first line of `output` matching `match`; rejects when the process exits first, or once `timeoutMs` have passed. */
function waitForLine(output: ProcessOutput, exited: Promise<ProcessExit>, match: string | RegExp, timeoutMs: number): Promise<ProcessLine> {
  const seen = output.lines.find((l) => lineMatches(l, match));
  if (seen) return Promise.resolve(seen);
  return new Promise<ProcessLine>((resolve, reject) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const cleanup = (): void => {
      deadline.removeEventListener('abort', onDeadline);
      output.listeners.delete(listener);
    };
    const fail = (why: string): void => {
      cleanup();
      reject(new Error(`no line matching ${String(match)} ${why}; stderr: ${output.stderr.slice(-2000)}`));
    };
    const listener = (line: ProcessLine): void => {
      if (!lineMatches(line, match)) return;
      cleanup();
      resolve(line);
    };
    const onDeadline = (): void => fail(`within ${timeoutMs} ms`);
    deadline.addEventListener('abort', onDeadline, { once: true });
    output.listeners.add(listener);
    const onExit = (r: ProcessExit): void => {
      if (output.listeners.has(listener)) fail(`before the process exited (code ${r.code}, signal ${r.signal})`);
    };
    exited.then(onExit, (err: Error) => fail(`because the process failed to start (${err.message})`));
  });
}

/**
 * Run a daemon under test and watch its pino JSON log lines on stdout. The child is
 * SIGKILLed when the test process exits, if it is still running then.
 */
export function spawnProcess(command: string, args: readonly string[], options: SpawnOptions = {}): SpawnedProcess {
  const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  const output = new ProcessOutput(child);
  const exited = exitedOf(child);
  return {
    child,
    lines: output.lines,
    get stderr() {
      return output.stderr;
    },
    waitForLine: (match, timeoutMs = 10_000) => waitForLine(output, exited, match, timeoutMs),
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
