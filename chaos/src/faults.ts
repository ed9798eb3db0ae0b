import type { Sql } from 'postgres';
import type { Fleet, Proc } from './fleet';
import type { Monitor } from './observe';

/**
 * The quiet faults of issue 13: nothing is refused or closed, the dependency just stops
 * answering or stops accepting writes. Each resolves once the fault is lifted, with what was
 * seen meanwhile (the probes' answers) for the report. The rule they test: an outage is
 * waited out, never dead-lettered.
 */

export type QuietFault = 'redis-silent' | 'db-read-only' | 'disk-full' | 'tx-stall';
export const QUIET_FAULTS: readonly QuietFault[] = ['redis-silent', 'db-read-only', 'disk-full', 'tx-stall'];

export interface FaultOutcome {
  outageMs: number;
  detail: string;
  /** What the fault itself must have shown, checked at the end of the run. */
  expectation?: { what: string; ok: boolean };
}

/** The workers' idle_in_transaction_session_timeout (apps/event-worker/src/clients.ts). */
export const WORKER_IDLE_TX_TIMEOUT_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts of each probe's answers, summarised as e.g. "/readyz 200×4 503×6". */
class ProbeTally {
  private readonly counts = { healthz: new Map<number, number>(), readyz: new Map<number, number>(), api: new Map<number, number>() };

  add(p: { healthz: number[]; readyz: number[]; api: number }): void {
    const bump = (m: Map<number, number>, status: number) => m.set(status, (m.get(status) ?? 0) + 1);
    p.healthz.forEach((status) => bump(this.counts.healthz, status));
    p.readyz.forEach((status) => bump(this.counts.readyz, status));
    bump(this.counts.api, p.api);
  }

  count(probe: 'healthz' | 'readyz' | 'api', status: number): number {
    return this.counts[probe].get(status) ?? 0;
  }

  summary(): string {
    const show = (m: Map<number, number>) => [...m].sort(([a], [b]) => a - b).map(([status, n]) => `${status || 'no answer'}×${n}`).join(' ') || '-';
    return `probes meanwhile: workers /healthz ${show(this.counts.healthz)}, /readyz ${show(this.counts.readyz)}; API /api/health ${show(this.counts.api)}`;
  }
}

/** Sample the probes once a second until `done` resolves. */
async function probeUntil(fleet: Fleet, done: Promise<unknown>): Promise<ProbeTally> {
  let finished = false;
  void done.finally(() => (finished = true));
  const tally = new ProbeTally();
  while (!finished) {
    tally.add(await fleet.probe());
    await Promise.race([done, sleep(1000)]);
  }
  return tally;
}

/** Run `during` while probing; returns its result and the probe summary. */
async function probed<T>(fleet: Fleet, during: Promise<T>): Promise<[T, ProbeTally]> {
  const [result, probes] = await Promise.all([during, probeUntil(fleet, during)]);
  return [result, probes];
}

/**
 * Every open connection of the API and the workers to Redis goes silent (no byte passes, no
 * error, no close) while new connections pass. They must notice and reconnect by themselves.
 * Healed: Redis has as many blocking-read connections opened since the silence began as
 * there are live workers, each of which has sent XREADGROUP (CLIENT LIST; only a worker
 * that gave up its silent connection can have one), and the API answered /api/health 200 to
 * a probe sent after it began (its PING went through a new connection). Only then, or after
 * `capMs`, is the proxy restored, freeing the silenced connections.
 */
export async function redisSilent(fleet: Fleet, monitor: Monitor, capMs: number): Promise<FaultOutcome> {
  const proxy = fleet.redisProxy;
  const open = proxy.connectionCount();
  const from = Date.now();
  await proxy.silenceOpen();
  const probes = new ProbeTally();
  let apiAt: number | undefined;
  let workersAt: number | undefined;
  try {
    while (Date.now() - from < capMs && (apiAt === undefined || workersAt === undefined)) {
      const sent = Date.now();
      // Ages are whole seconds: a connection counts when it is younger than the silence by a second.
      const [p, readers] = await Promise.all([fleet.probe(), monitor.freshReaders(sent - from - 1000).catch(() => 0)]);
      probes.add(p);
      if (apiAt === undefined && p.api === 200) apiAt = Date.now() - from;
      if (workersAt === undefined && readers >= fleet.liveWorkers().length) workersAt = Date.now() - from;
      await sleep(Math.max(0, 1000 - (Date.now() - sent)));
    }
  } finally {
    await proxy.restore();
  }
  const outageMs = Date.now() - from;
  const seconds = (x: number | undefined) => (x === undefined ? `NOT within ${(capMs / 1000).toFixed(0)} s` : `after ${(x / 1000).toFixed(1)} s`);
  const summary = `API answering again ${seconds(apiAt)}, every worker reading on a new connection ${seconds(workersAt)}; ${probes.summary()}`;
  if (apiAt === undefined || workersAt === undefined) throw new Error(`silent Redis connections were not healed: ${summary}`);
  return {
    outageMs,
    detail: `Redis connections silenced (${open} open, new ones passed): ${summary}`,
    expectation: { what: 'silent Redis: the API and every worker healed by themselves within 30 s', ok: apiAt <= 30_000 && workersAt <= 30_000 },
  };
}

/** DDL of a fault, in a read-write transaction whatever the database's default is just then. */
function readWrite(sql: Sql, run: (tx: Sql) => Promise<unknown>): Promise<unknown> {
  return sql.begin('read write', async (tx) => {
    await tx`SET LOCAL lock_timeout = '20s'`;
    await run(tx as unknown as Sql);
  });
}

/** The workers' sessions, ended with pg_terminate_backend (57P01 on their side). */
async function terminateWorkerBackends(sql: Sql, datname: string): Promise<number> {
  const rows = await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE datname = ${datname} AND pid <> pg_backend_pid() AND application_name LIKE 'fuel-code-worker%'`;
  return rows.length;
}

/**
 * The database turns read-only: default_transaction_read_only = on for the chaos database,
 * and the workers' sessions are terminated so their new ones get it; RESET after `ms`.
 * Every write fails with 25006 meanwhile.
 */
export async function dbReadOnly(fleet: Fleet, ms: number): Promise<FaultOutcome> {
  const { sql, name } = fleet.db;
  await readWrite(sql, (tx) => tx.unsafe(`ALTER DATABASE "${name}" SET default_transaction_read_only = on`));
  const from = Date.now();
  let terminated = 0;
  let probes: ProbeTally;
  try {
    terminated = await terminateWorkerBackends(sql, name);
    [, probes] = await probed(fleet, sleep(ms));
  } finally {
    // Lifted whatever happened meanwhile: a read-only database would fail every later check.
    await readWrite(sql, (tx) => tx.unsafe(`ALTER DATABASE "${name}" RESET default_transaction_read_only`));
  }
  return {
    outageMs: Date.now() - from,
    detail: `database read-only for ${((Date.now() - from) / 1000).toFixed(1)} s (${terminated} worker sessions terminated at the start); ${probes.summary()}`,
    expectation: { what: 'read-only database: the workers\' /readyz answered 503 meanwhile', ok: probes.count('readyz', 503) > 0 },
  };
}

/** Disk full: a trigger on events raises SQLSTATE 53100 on every insert for `ms`, then is dropped. */
export async function diskFull(fleet: Fleet, ms: number): Promise<FaultOutcome> {
  const { sql } = fleet.db;
  await readWrite(sql, async (tx) => {
    await tx.unsafe(`CREATE OR REPLACE FUNCTION chaos_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'could not extend file: No space left on device (chaos)' USING ERRCODE = '53100'; END $$`);
    await tx.unsafe('CREATE TRIGGER chaos_disk_full BEFORE INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION chaos_disk_full()');
  });
  const from = Date.now();
  let probes: ProbeTally;
  try {
    [, probes] = await probed(fleet, sleep(ms));
  } finally {
    await readWrite(sql, async (tx) => {
      await tx.unsafe('DROP TRIGGER chaos_disk_full ON events');
      await tx.unsafe('DROP FUNCTION chaos_disk_full()');
    });
  }
  return {
    outageMs: Date.now() - from,
    detail: `disk full (53100 on every insert into events) for ${((Date.now() - from) / 1000).toFixed(1)} s; ${probes.summary()}`,
  };
}

/** Worker sessions idle inside a transaction for over a second: a stopped process's. */
async function stalledTransactions(sql: Sql, datname: string): Promise<number[]> {
  const rows = await sql<{ pid: number }[]>`SELECT pid FROM pg_stat_activity
    WHERE datname = ${datname} AND application_name = 'fuel-code-worker' AND state = 'idle in transaction'
      AND now() - state_change > interval '1 second'`;
  return rows.map((r) => r.pid);
}

/** sessions_fatal of the database: idle_in_transaction_session_timeout ends a session with FATAL. */
async function fatalSessions(sql: Sql, datname: string): Promise<number> {
  const [row] = await sql<{ n: string }[]>`SELECT sessions_fatal::text AS n FROM pg_stat_database WHERE datname = ${datname}`;
  return Number(row?.n ?? 0);
}

/**
 * A stall inside a transaction: SIGSTOP a worker while it holds a transaction open (retried
 * until pg_stat_activity shows one of its sessions idle in transaction), keep it stopped
 * until PostgreSQL has ended that session (idle_in_transaction_session_timeout), and a little
 * longer, then SIGCONT. What the woken transaction does next must not commit anywhere.
 */
export async function txStall(fleet: Fleet, victim: Proc, extraMs: number): Promise<FaultOutcome> {
  const { sql, name } = fleet.db;
  const fatalBefore = await fatalSessions(sql, name);
  let stalled: number[] = [];
  let tries = 0;
  let from = Date.now();
  while (stalled.length === 0 && tries < 8) {
    tries++;
    from = Date.now();
    process.kill(victim.pid, 'SIGSTOP');
    await sleep(1500);
    stalled = await stalledTransactions(sql, name);
    if (stalled.length === 0) {
      process.kill(victim.pid, 'SIGCONT');
      await sleep(300 + tries * 200);
    }
  }
  if (stalled.length === 0) throw new Error(`${victim.name} was never caught inside a transaction in ${tries} tries (no load?): the timeout was not exercised`);
  const ended = (async (): Promise<number | undefined> => {
    while (Date.now() - from < WORKER_IDLE_TX_TIMEOUT_MS + 15_000) {
      const left = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY(${stalled}::int[])`;
      if (left[0]?.n === 0) return Date.now() - from;
      await sleep(250);
    }
    return undefined;
  })();
  let endedMs: number | undefined;
  let probes: ProbeTally;
  try {
    [endedMs, probes] = await probed(fleet, ended.then(async (v) => (await sleep(extraMs), v)));
  } finally {
    process.kill(victim.pid, 'SIGCONT');
  }
  const outageMs = Date.now() - from;
  const fatalAfter = await fatalSessions(sql, name);
  return {
    outageMs,
    detail: `SIGSTOP ${victim.name} inside a transaction (caught on try ${tries}; ${stalled.length} session(s) idle in transaction), ` +
      `${endedMs === undefined ? 'its session NOT ended by PostgreSQL' : `its session ended by idle_in_transaction_session_timeout after ${(endedMs / 1000).toFixed(1)} s`} ` +
      `(pg_stat_database sessions_fatal +${fatalAfter - fatalBefore}); SIGCONT after ${(outageMs / 1000).toFixed(1)} s; ${probes.summary()}`,
    expectation: { what: 'stall in a transaction: PostgreSQL ended the stopped worker\'s session (idle_in_transaction_session_timeout) before the SIGCONT', ok: endedMs !== undefined },
  };
}
