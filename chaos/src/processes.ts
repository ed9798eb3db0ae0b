import type { Fleet, Proc } from './fleet';
import type { Check } from './verify';

/** Checks and facts about the child processes, from their exits and their log lines. */

export function unexpectedExits(fleet: Fleet): Proc[] {
  return fleet.procs.filter((p) => p.exit && !p.killedByUs && !p.terminatedByUs);
}

export async function apiHealthy(fleet: Fleet): Promise<boolean> {
  return fetch(`${fleet.apiUrl}/api/health`, { signal: AbortSignal.timeout(3000) }).then((r) => r.status === 200, () => false);
}

const describe = (p: Proc) => `${p.role} ${p.name} (pid ${p.pid}): ${p.exit ? `code ${p.exit.code}, signal ${p.exit.signal}` : 'still running'}`;

/** Before the final SIGTERM: nothing died that we did not kill, and the API answers. */
export async function checkAlive(fleet: Fleet, checks: Check[]): Promise<void> {
  const bad = unexpectedExits(fleet);
  const killed = fleet.procs.filter((p) => p.killedByUs);
  const killedRight = killed.every((p) => p.exit?.signal === 'SIGKILL');
  checks.push({
    name: 'no process crashed: only the workers we kill -9ed exited during the run',
    ok: bad.length === 0 && killedRight,
    detail: bad.length ? bad.map(describe).join('; ') : `${killed.length} killed by us (all by SIGKILL: ${killedRight}), ${fleet.liveWorkers().length} workers alive`,
  });
  const api = fleet.procs.find((p) => p.role === 'api');
  const healthy = await apiHealthy(fleet);
  checks.push({ name: 'the API stayed up and answers /api/health 200', ok: !!api && !api.exit && healthy, detail: api?.exit ? describe(api) : `health ${healthy ? 200 : 'not 200'}` });
}

/** After the final SIGTERM: every process exited 0 (docs/contract.md §4: within 10 s). */
export function checkShutdown(fleet: Fleet, checks: Check[], stoppedProcs: Proc[]): void {
  const bad = stoppedProcs.filter((p) => p.exit?.code !== 0);
  const slow = stoppedProcs.filter((p) => p.exit && p.exitedAt !== undefined && p.exitedAt - (p.terminatedAt ?? 0) > 10_000);
  checks.push({
    name: 'SIGTERM: every process still running (API, workers) exited 0 within 10 s',
    ok: bad.length === 0 && slow.length === 0,
    detail: bad.length || slow.length ? [...bad, ...slow].map(describe).join('; ') : `${stoppedProcs.length} processes`,
  });
  void fleet;
}

export interface LogFacts {
  /** Sum over worker processes of their last `Consumer stats:` duplicates. */
  reportedDuplicates: number;
  reportedProcessed: number;
  /** Distinct error/fatal messages (level ≥ 50) with counts, and warn counts. */
  errors: Map<string, number>;
  warnings: Map<string, number>;
}

const STATS = /Consumer stats: (\d+) processed, (\d+) duplicates, (\d+) errors/;

/** Strip ids and numbers so messages group. */
const shape = (msg: string) => msg.replace(/[0-9A-HJKMNP-TV-Z]{26}/g, '<id>').replace(/\d+(\.\d+)?/g, 'N').slice(0, 160);

export function logFacts(fleet: Fleet): LogFacts {
  const facts: LogFacts = { reportedDuplicates: 0, reportedProcessed: 0, errors: new Map(), warnings: new Map() };
  for (const p of fleet.procs) {
    let last: RegExpMatchArray | null = null;
    for (const line of p.proc.lines) {
      const msg = typeof line.msg === 'string' ? line.msg : '';
      const m = STATS.exec(msg);
      if (m) last = m;
      const level = typeof line['level'] === 'number' ? line['level'] : 30;
      const into = level >= 50 ? facts.errors : level >= 40 ? facts.warnings : undefined;
      if (into) {
        const key = `${p.role}: ${shape(msg)}`;
        into.set(key, (into.get(key) ?? 0) + 1);
      }
    }
    if (last) {
      facts.reportedProcessed += Number(last[1]);
      facts.reportedDuplicates += Number(last[2]);
    }
  }
  return facts;
}
