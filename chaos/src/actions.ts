import { seededRandom } from '@fuel-code/testing';
import { CLAIM_IDLE_MS, type Fleet, type Proc } from './fleet';
import { dbReadOnly, diskFull, redisSilent, txStall, type FaultOutcome, type QuietFault } from './faults';
import type { Monitor } from './observe';

/**
 * The chaos schedule: a seeded, shuffled plan of kills (kill -9 and a replacement under the
 * same or a new consumer name), Postgres proxy cuts of 5–20 s, one restart of the private
 * redis-server, SIGSTOPs longer than claim-idle-ms, and the quiet faults of faults.ts (silent
 * Redis connections, a read-only database, disk full, a stall inside a transaction past the
 * idle-in-transaction timeout). Actions run one after another with
 * random gaps. After each, the time until the workers caught up (see catchUpRule) is measured
 * in the background; the next action waits for it at most 30 s (less when behind schedule).
 */

export type LoudAction = 'kill-same-name' | 'kill-new-name' | 'proxy-cut' | 'redis-restart' | 'sigstop';
export type ActionKind = LoudAction | QuietFault;
export const ALL_KINDS: readonly ActionKind[] = ['kill-same-name', 'kill-new-name', 'proxy-cut', 'redis-restart', 'sigstop', 'redis-silent', 'db-read-only', 'disk-full', 'tx-stall'];

export interface ActionRecord {
  kind: ActionKind;
  /** Seconds since the run started. */
  at: number;
  /** When it began and when the outage ended (ms since epoch): the window its dead letters would fall in. */
  startedAtMs: number;
  endedAtMs: number | undefined;
  detail: string;
  /** How long the outage lasted (cut, restart, stop); 0 for a kill. */
  outageMs: number;
  /** From the outage's end (or the replacement's start) until caught up; undefined = never. */
  catchUpMs: number | undefined;
  /** A quiet fault's own expectation (faults.ts), if it has one. */
  expectation?: { what: string; ok: boolean };
  /** Later actions that started before this one's catch-up (they delayed it). */
  overlappedBy: number;
  error?: string;
}

/** Pending entries the live workers may hold in flight: 3 workers × (batch + read-ahead) × 200. */
export const IN_FLIGHT = 3 * 2 * 200;
export function catchUpRule(lagThreshold: number): string {
  return `caught up = undelivered entries (XINFO GROUPS lag) at most ${lagThreshold} (about one second of publishing) and pending at most ${IN_FLIGHT} ` +
    '(the batches the live workers hold), and after a kill the killed consumer holds no pending entry';
}

export function chaosPlan(short: boolean, seed: number): ActionKind[] {
  const random = seededRandom(seed ^ 0xc4a05);
  const plan: ActionKind[] = short
    ? ['kill-same-name', 'kill-new-name', 'proxy-cut', 'redis-restart', 'sigstop', 'redis-silent', 'db-read-only', 'disk-full', 'tx-stall']
    : ['kill-same-name', 'kill-new-name', 'kill-same-name', 'kill-new-name', 'proxy-cut', 'proxy-cut', 'proxy-cut', 'redis-restart', 'sigstop', 'sigstop',
      'redis-silent', 'db-read-only', 'disk-full', 'tx-stall', 'db-read-only', 'disk-full'];
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [plan[i], plan[j]] = [plan[j] as ActionKind, plan[i] as ActionKind];
  }
  // A stall inside a transaction needs transactions: into the first half of the plan, which
  // runs while the producer publishes (late in a full run it found no load and none to stop).
  const stall = plan.indexOf('tx-stall');
  const half = Math.floor(plan.length / 2);
  if (stall >= half) {
    const j = Math.floor(random() * half);
    [plan[stall], plan[j]] = [plan[j] as ActionKind, 'tx-stall'];
  }
  return plan;
}

export interface ChaosContext {
  fleet: Fleet;
  monitor: Monitor;
  seed: number;
  short: boolean;
  runStartedAt: number;
  /** Events per second being published (for the catch-up rule). */
  rate: number;
  /** Try to be done by this time (ms since epoch): catch-up waits shrink, no action is skipped. */
  deadline: number;
  log: (msg: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The workers' sessions in pg_stat_activity: idle in transaction, waiting on a lock. */
async function dbActivity(fleet: Fleet): Promise<string> {
  try {
    const rows = await fleet.db.sql<{ idle_tx: string; lock_waits: string }[]>`
      SELECT count(*) FILTER (WHERE state = 'idle in transaction') AS idle_tx,
             count(*) FILTER (WHERE wait_event_type = 'Lock') AS lock_waits
      FROM pg_stat_activity WHERE datname = ${fleet.db.name} AND application_name = 'fuel-code-worker'`;
    return `${rows[0]?.idle_tx} worker sessions idle in transaction, ${rows[0]?.lock_waits} waiting on a lock`;
  } catch (err) {
    return `pg_stat_activity unreadable (${err instanceof Error ? err.message : String(err)})`;
  }
}

/** One quiet fault, sized for the run (short: shorter outages). */
async function quietFault(ctx: ChaosContext, kind: QuietFault, victim: Proc | undefined, int: (min: number, max: number) => number): Promise<FaultOutcome> {
  ctx.log(`[${((Date.now() - ctx.runStartedAt) / 1000).toFixed(1)}s] ${kind}${victim && kind === 'tx-stall' ? ` (${victim.name})` : ''}`);
  switch (kind) {
    case 'redis-silent':
      return redisSilent(ctx.fleet, ctx.monitor, 60_000);
    case 'db-read-only':
      return dbReadOnly(ctx.fleet, int(5000, ctx.short ? 7000 : 15_000));
    case 'disk-full':
      return diskFull(ctx.fleet, int(5000, ctx.short ? 7000 : 15_000));
    case 'tx-stall':
      if (!victim) throw new Error('no live worker to stop');
      return txStall(ctx.fleet, victim, int(1000, ctx.short ? 2000 : 4000));
  }
}

export async function runChaos(
  ctx: ChaosContext,
): Promise<{ records: ActionRecord[]; lagThreshold: number; settle: (ms: number) => Promise<void> }> {
  const random = seededRandom(ctx.seed ^ 0x7e57);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const plan = chaosPlan(ctx.short, ctx.seed);
  const records: ActionRecord[] = [];
  const watchers: Promise<void>[] = [];
  let nextName = ctx.fleet.liveWorkers().length + 1;
  const lagThreshold = Math.max(500, Math.round(ctx.rate));
  ctx.log(`chaos plan: ${plan.join(', ')}`);

  for (const [index, kind] of plan.entries()) {
    await sleep(int(1000, ctx.short ? 2000 : 6000));
    // Wait for the catch-up at most 30 s, less when behind schedule (at least 5 s): the time
    // left, minus about 6 s per action for its gap and outage, shared by the actions left.
    const left = plan.length - index;
    const catchUpLimit = Math.max(5000, Math.min(30_000, Math.floor((ctx.deadline - Date.now() - left * 6000) / left)));
    const at = (Date.now() - ctx.runStartedAt) / 1000;
    const live = ctx.fleet.liveWorkers();
    const victim = live[int(0, live.length - 1)] as Proc | undefined;
    for (const earlier of records) if (!earlier.error && earlier.catchUpMs === undefined) earlier.overlappedBy++;
    const rec: ActionRecord = { kind, at, startedAtMs: Date.now(), endedAtMs: undefined, detail: '', outageMs: 0, catchUpMs: undefined, overlappedBy: 0 };
    records.push(rec);
    try {
      let extra: (() => Promise<boolean>) | undefined;
      if (kind === 'kill-same-name' || kind === 'kill-new-name') {
        if (!victim) throw new Error('no live worker to kill');
        const name = kind === 'kill-same-name' ? victim.name : `w${++nextName}`;
        await ctx.fleet.kill9(victim);
        const pendingAtKill = await ctx.monitor.consumerPending(victim.name);
        rec.detail = `kill -9 ${victim.name} (pid ${victim.pid}, ${pendingAtKill} pending); replacement ${name}`;
        ctx.log(`[${at.toFixed(1)}s] ${rec.detail}`);
        const started = Date.now();
        await ctx.fleet.startWorker(name, 30_000);
        rec.detail += ` up in ${Date.now() - started} ms`;
        const gone = victim.name;
        extra = async () => (await ctx.monitor.consumerPending(gone)) === 0 || name === gone;
      } else if (kind === 'proxy-cut') {
        const ms = int(5000, ctx.short ? 8000 : 20_000);
        ctx.log(`[${at.toFixed(1)}s] cutting the Postgres proxy for ${(ms / 1000).toFixed(1)} s`);
        await ctx.fleet.proxy.cut();
        await sleep(ms);
        await ctx.fleet.proxy.restore();
        rec.outageMs = ms;
        rec.detail = `Postgres proxy cut for ${(ms / 1000).toFixed(1)} s`;
      } else if (kind === 'redis-restart') {
        ctx.log(`[${at.toFixed(1)}s] restarting redis-server (SIGTERM, then the same port and dir)`);
        const from = Date.now();
        await ctx.fleet.redis.restart();
        rec.outageMs = Date.now() - from;
        rec.detail = `redis-server restarted, down ${rec.outageMs} ms (new pid ${ctx.fleet.redis.pid()})`;
      } else if (kind !== 'sigstop') {
        const outcome = await quietFault(ctx, kind, victim, int);
        rec.outageMs = outcome.outageMs;
        rec.detail = outcome.detail;
        if (outcome.expectation) rec.expectation = outcome.expectation;
        ctx.log(`[${at.toFixed(1)}s] ${rec.detail}`);
      } else {
        if (!victim) throw new Error('no live worker to stop');
        const ms = CLAIM_IDLE_MS + int(1000, ctx.short ? 2000 : 4000);
        ctx.log(`[${at.toFixed(1)}s] SIGSTOP ${victim.name} (pid ${victim.pid}) for ${(ms / 1000).toFixed(1)} s`);
        process.kill(victim.pid, 'SIGSTOP');
        const lagBefore = ctx.monitor.latest?.lag;
        await sleep(ms - 1000);
        // What the other workers do meanwhile: a stopped worker may hold row locks.
        const db = await dbActivity(ctx.fleet);
        const lagDuring = ctx.monitor.latest?.lag;
        await sleep(1000);
        process.kill(victim.pid, 'SIGCONT');
        rec.outageMs = ms;
        rec.detail = `SIGSTOP ${victim.name} for ${(ms / 1000).toFixed(1)} s, then SIGCONT (before the SIGCONT: ${db}; lag ${lagBefore} → ${lagDuring})`;
      }
      // The catch-up is measured in the background until it happens (or the run ends); the
      // schedule goes on after at most catchUpLimit, counting the actions that overlap it.
      const outageEnd = Date.now();
      rec.endedAtMs = outageEnd;
      const watcher = ctx.monitor.waitCaughtUp(lagThreshold, IN_FLIGHT, 15 * 60_000, extra).then((ms) => {
        rec.catchUpMs = ms;
        ctx.log(`    caught up after the ${kind} at ${at.toFixed(1)}s: ${ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`} (${rec.detail})`);
      });
      watchers.push(watcher);
      await Promise.race([watcher, sleep(catchUpLimit)]);
      if (rec.catchUpMs === undefined) ctx.log(`    not caught up ${((Date.now() - outageEnd) / 1000).toFixed(1)} s after the ${kind}: going on`);
    } catch (err) {
      rec.error = err instanceof Error ? err.message : String(err);
      ctx.log(`!! ${kind} failed: ${rec.error}`);
    }
  }
  /** After the drain: wait (briefly) for the catch-up watchers still running. */
  const settle = (ms: number) => Promise.race([Promise.all(watchers), sleep(ms)]).then(() => undefined);
  return { records, lagThreshold, settle };
}
