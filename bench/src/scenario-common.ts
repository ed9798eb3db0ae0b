import { untilAborted, WaitAbortedError } from '@fuel-code/runtime';
import { describeExit, type Child } from './children';
import type { ScenarioResources, Shared } from './infra';
import type { CpuReport } from './stats';
import { tableDigests } from '@fuel-code/testing';

/* What the drain and latency scenarios share: process start/stop and the store checks. */

export interface ProcessReport {
  name: string;
  peakRssMb: number | null;
  exit: string;
  stopMs: number;
  /** Log lines at warn or above, and the first few of them. */
  warnings: number;
  warningSamples: string[];
  stderr: string;
}

/** What every scenario reports besides its own figures: the processes, the store, the machine. */
export interface ScenarioOutcome {
  /** The largest VmHWM among the processes. */
  peakRssMb: number | null;
  processReports: ProcessReport[];
  checks: StoreChecks;
  /** CPU busy % of the machine just before the consumers start, the bench idle: other work skews the figures. */
  busyBeforePct: number | null;
  /** CPU % the rest of the machine used while the clock ran (see startCpuAccount). */
  othersDuringPct: number | null;
  /** Where the CPU went while the clock ran. */
  cpu: CpuReport | null;
}

export interface StoreChecks {
  events: number;
  sessions: number;
  sessionsEnded: number;
  sessionsDetected: number;
  workspaces: number;
  devices: number;
  workspaceDevices: number;
  handlerFailures: number;
  deadLetters: number;
  /** md5 of each table's content (every table), server clock columns out, workspace ids by name: equal work gives equal digests. */
  digest: Record<string, string>;
}

export const START_TIMEOUT_MS = 60_000;

export async function waitStarted(children: readonly Child[], timeoutMs: number): Promise<number[]> {
  try {
    return await untilAborted(Promise.all(children.map((c) => c.started)), AbortSignal.timeout(timeoutMs));
  } catch (err) {
    if (!(err instanceof WaitAbortedError)) throw err;
    throw new Error(`no "Event consumer started" within ${timeoutMs} ms from ${children.filter((c) => c.running).map((c) => c.name).join(', ')}${children.map((c) => c.tails()).join('')}`);
  }
}

export function assertAlive(children: readonly Child[], what: string): void {
  for (const c of children) {
    if (!c.running && c.exitInfo) throw new Error(`${c.name} exited (${describeExit(c.exitInfo)}) while ${what}${c.tails()}`);
  }
}

export async function stopAll(children: readonly Child[]): Promise<ProcessReport[]> {
  const rss = children.map((c) => c.peakRssKb());
  const stops = await Promise.all(children.map((c) => c.stop()));
  return children.map((c, i) => {
    const s = stops[i];
    const kb = rss[i];
    return {
      name: c.name,
      peakRssMb: kb === undefined ? null : Math.round((kb / 1024) * 10) / 10,
      exit: s ? `${describeExit(s)}${s.killed ? ' (SIGKILL after grace)' : ''}` : 'unknown',
      stopMs: Math.round(s?.stopMs ?? 0),
      warnings: c.problemCount,
      warningSamples: c.problems.slice(0, 5).map((p) => p.raw.slice(0, 500)),
      stderr: c.stderrText().trim().slice(-2000),
    };
  });
}

export async function storeChecks(res: ScenarioResources, redis: Shared['redis']): Promise<StoreChecks> {
  const sql = res.sql;
  const [counts] = await sql<Omit<StoreChecks, 'digest' | 'deadLetters'>[]>`
    SELECT (SELECT count(*)::int FROM events) AS events,
           (SELECT count(*)::int FROM sessions) AS sessions,
           (SELECT count(*)::int FROM sessions WHERE lifecycle = 'ended') AS "sessionsEnded",
           (SELECT count(*)::int FROM sessions WHERE lifecycle = 'detected') AS "sessionsDetected",
           (SELECT count(*)::int FROM workspaces) AS workspaces,
           (SELECT count(*)::int FROM devices) AS devices,
           (SELECT count(*)::int FROM workspace_devices) AS "workspaceDevices",
           (SELECT count(*)::int FROM event_handler_failures) AS "handlerFailures"`;
  const digest = await tableDigests(sql);
  if (!counts) throw new Error('store checks returned no row');
  const deadLetters = await redis.xlen(res.keys.deadLetter);
  return { ...counts, deadLetters, digest };
}
