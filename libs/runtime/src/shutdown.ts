import type { Logger } from 'pino';
import { toError } from '@fuel-code/core';
import { untilAborted, WaitAbortedError } from './abort';

/**
 * The exit policy, the same for the API and the worker:
 *  - 0: every step finished, none failed, before the deadline;
 *  - 1: a step failed, or the deadline passed (whatever was still running was left behind),
 *    or a second SIGTERM/SIGINT asked to exit without waiting.
 * A non-zero code tells an orchestrator (or an operator's shell) that this stop was not
 * clean and that something may have been left behind (a batch pending, a socket unclosed).
 */
export const EXIT_CLEAN = 0;
export const EXIT_UNCLEAN = 1;

/** The contract promises exit within 10 s of SIGTERM; an orchestrator's own kill comes at 10 s. */
export const DEFAULT_SHUTDOWN_DEADLINE_MS = 9_000;

export interface ShutdownStep {
  /** Named in the log line when the step fails or is cut at the deadline. */
  name: string;
  /**
   * Release one thing. `signal` aborts at the deadline: a step that can cut its work short
   * (drop sockets instead of waiting for replies) listens to it. A step still running then is
   * no longer waited for.
   */
  run(signal: AbortSignal): Promise<unknown> | void;
}

export type ShutdownOutcome = 'clean' | 'failed' | 'timeout';

export interface ShutdownDeps {
  logger: Logger;
  /** Run one after another, in this order (stop taking work, finish it, close clients). */
  steps: readonly ShutdownStep[];
  deadlineMs?: number;
  /** `process.exit` in the apps (tests pass a recorder), called with EXIT_CLEAN or EXIT_UNCLEAN. */
  exit: (code: number) => void;
  /** The last line of a clean stop (default "Shut down cleanly"). */
  cleanMessage?: string;
}

export interface Shutdown {
  /** Start the shutdown, or join the one under way: idempotent. Resolves once `exit` was called. */
  run(reason: string): Promise<ShutdownOutcome>;
  /** For `process.on('SIGTERM' | 'SIGINT', …)`: the first signal starts run(), a second exits 1 at once. */
  onSignal(signal: NodeJS.Signals): void;
  /** Aborted when the shutdown starts: boot work (migrations, a first connect) stops waiting on it. */
  readonly signal: AbortSignal;
}

/** A step started after the deadline: it runs (its cut-short part, e.g. dropping a socket), unwaited. */
function startUnwaited(step: ShutdownStep, deadline: AbortSignal, log: Logger): void {
  const logFailure = (err: unknown) => log.warn({ err: toError(err), step: step.name }, `Shutdown step "${step.name}" failed`);
  try {
    Promise.resolve(step.run(deadline)).catch(logFailure);
  } catch (err) {
    logFailure(err);
  }
}

/** Every step runs, in order, whatever the ones before it did; the worst outcome wins. */
async function runSteps(steps: readonly ShutdownStep[], deadline: AbortSignal, deadlineMs: number, log: Logger): Promise<ShutdownOutcome> {
  let outcome: ShutdownOutcome = 'clean';
  for (const step of steps) {
    if (deadline.aborted) {
      startUnwaited(step, deadline, log);
      continue;
    }
    try {
      await untilAborted(Promise.resolve().then(() => step.run(deadline)), deadline);
    } catch (err) {
      if (err instanceof WaitAbortedError) {
        log.error({ step: step.name, deadlineMs }, `Shutdown step "${step.name}" did not finish within ${deadlineMs} ms: no longer waiting for it`);
        outcome = 'timeout';
      } else {
        log.error({ err: toError(err), step: step.name }, `Shutdown step "${step.name}" failed`);
        if (outcome === 'clean') outcome = 'failed';
      }
    }
  }
  return outcome;
}

/**
 * One shutdown sequence for a process: idempotent, bounded by `deadlineMs` (AbortSignal.timeout),
 * every step run even when one before it failed or hung, one exit code policy (EXIT_CLEAN /
 * EXIT_UNCLEAN above). The app installs the signal handlers: `process.on('SIGTERM', s.onSignal)`.
 */
export function createShutdown(deps: ShutdownDeps): Shutdown {
  const { logger: log, exit } = deps;
  const deadlineMs = deps.deadlineMs ?? DEFAULT_SHUTDOWN_DEADLINE_MS;
  const started = new AbortController();
  let running: Promise<ShutdownOutcome> | undefined;

  const run = (reason: string): Promise<ShutdownOutcome> => {
    running ??= (async () => {
      log.info({ reason, deadlineMs }, `Shutting down (${reason})`);
      started.abort(new Error(`shutting down (${reason})`));
      const outcome = await runSteps(deps.steps, AbortSignal.timeout(deadlineMs), deadlineMs, log);
      if (outcome === 'clean') log.info(deps.cleanMessage ?? 'Shut down cleanly');
      else log.error({ outcome }, `Shutdown was not clean (${outcome === 'timeout' ? 'deadline passed' : 'a step failed'}): exiting ${EXIT_UNCLEAN}`);
      exit(outcome === 'clean' ? EXIT_CLEAN : EXIT_UNCLEAN);
      return outcome;
    })();
    return running;
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (running) {
      log.warn({ signal }, `Second ${signal}: exiting ${EXIT_UNCLEAN} without waiting`);
      exit(EXIT_UNCLEAN);
      return;
    }
    void run(signal);
  };

  return { run, onSignal, signal: started.signal };
}
