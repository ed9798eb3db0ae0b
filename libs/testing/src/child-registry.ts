import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { runInThisContext } from 'node:vm';

/**
 * Children (and temp dirs) this test process started, SIGKILLed (removed) when it exits, so
 * none outlives it even when a test forgets to stop one. Signal handlers are installed only
 * while a child is alive and re-raise the signal, keeping Node's default behaviour.
 *
 * The handlers go on the real process object: under jest, `process` in a test file is a copy
 * whose 'exit' listeners never fire; the main context's global `process` is the real one.
 */
const realProcess = runInThisContext('process') as NodeJS.Process;
const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let installed = false;
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function killAll(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAll();
  uninstall();
  if (realProcess.listenerCount(signal) === 0) realProcess.kill(realProcess.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  realProcess.on('exit', killAll);
  for (const s of SIGNALS) realProcess.on(s, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  realProcess.off('exit', killAll);
  for (const s of SIGNALS) realProcess.off(s, onSignal);
}

/** Kill `child` with this process if it is still running then. */
export function trackChild(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  live.add(child);
  install();
  child.once('exit', () => {
    live.delete(child);
    if (live.size === 0 && dirs.size === 0) uninstall();
  });
}

/** Remove `dir` when this process exits. */
export function trackTempDir(dir: string): void {
  dirs.add(dir);
  install();
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * On Linux with util-linux's setpriv, the command line that runs `command` with a parent-death
 * signal: the kernel SIGKILLs it when this process dies, even by SIGKILL (when no exit handler
 * runs). setpriv execs the command, so the pid is the command's own. Elsewhere: unchanged.
 */
export function tiedToThisProcess(command: string, args: readonly string[]): [string, string[]] {
  const setpriv = process.platform === 'linux' ? onPath('setpriv') : undefined;
  return setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, [...args]];
}
