import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Sql } from 'postgres';
import { describeExit, type Child } from './children';
import {
  createScenario,
  groupState,
  openRedis,
  openSql,
  publishBacklog,
  sleep,
  startReference,
  startWorker,
  type ScenarioResources,
  type Shared,
} from './infra';
import { busyWhileIdle, percentile, startCpuAccount } from './stats';
import { WorkloadGenerator } from './workload';

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
  /** md5 of each table's content, server-made ids replaced by the workspace name: equal work gives equal digests. */
  digest: Record<string, string>;
}

export interface DrainResult {
  label: string;
  kind: 'reference' | 'worker';
  events: number;
  processes: number;
  batchSize: number;
  seconds: number;
  eventsPerSecond: number;
  /** Between the first and the last process logging `Event consumer started`. */
  startSpreadMs: number;
  /** The largest VmHWM among the processes. */
  peakRssMb: number | null;
  processReports: ProcessReport[];
  checks: StoreChecks;
  /** CPU busy % of the machine just before the workers start, the bench idle: other work skews the figures. */
  busyBeforePct: number | null;
  /** CPU % the rest of the machine used while the clock ran (see startCpuAccount). */
  othersDuringPct: number | null;
}

const POLL_MS = 20;
/** A drain that makes no progress this long has failed. */
const STALL_MS = 60_000;
const START_TIMEOUT_MS = 60_000;

export const loadAvg = () => Math.round((os.loadavg()[0] ?? 0) * 100) / 100;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function waitStarted(children: readonly Child[], timeoutMs: number): Promise<number[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no "Event consumer started" within ${timeoutMs} ms from ${children.filter((c) => c.running).map((c) => c.name).join(', ')}${children.map((c) => c.tails()).join('')}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([Promise.all(children.map((c) => c.started)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function assertAlive(children: readonly Child[], what: string): void {
  for (const c of children) {
    if (!c.running && c.exitInfo) throw new Error(`${c.name} exited (${describeExit(c.exitInfo)}) while ${what}${c.tails()}`);
  }
}

async function stopAll(children: readonly Child[]): Promise<ProcessReport[]> {
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

async function countEvents(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM events`;
  return row?.n ?? 0;
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
  const [digest] = await sql<Record<string, string>[]>`
    SELECT
      (SELECT md5(coalesce(string_agg(ROW(e.id, e.type, e."timestamp", e.device_id, w.canonical_id, e.session_id, e.data, e.blob_refs)::text, E'\n' ORDER BY e.id), ''))
         FROM events e LEFT JOIN workspaces w ON w.id = e.workspace_id) AS events,
      (SELECT md5(coalesce(string_agg(ROW(s.id, w.canonical_id, s.device_id, s.lifecycle, s.started_at, s.ended_at, s.end_reason, s.duration_ms, s.git_branch, s.model, s.source)::text, E'\n' ORDER BY s.id), ''))
         FROM sessions s LEFT JOIN workspaces w ON w.id = s.workspace_id) AS sessions,
      (SELECT md5(coalesce(string_agg(ROW(d.id, d.name, d.type, d.status, d.first_seen_at, d.last_seen_at)::text, E'\n' ORDER BY d.id), ''))
         FROM devices d) AS devices,
      (SELECT md5(coalesce(string_agg(ROW(w.canonical_id, wd.device_id, wd.local_path, wd.last_active_at)::text, E'\n' ORDER BY w.canonical_id, wd.device_id), ''))
         FROM workspace_devices wd LEFT JOIN workspaces w ON w.id = wd.workspace_id) AS "workspaceDevices",
      (SELECT md5(coalesce(string_agg(ROW(canonical_id, display_name)::text, E'\n' ORDER BY canonical_id), '')) FROM workspaces) AS workspaces`;
  if (!counts || !digest) throw new Error('store checks returned no row');
  const deadLetters = await redis.xlen(res.keys.deadLetter);
  return { ...counts, deadLetters, digest };
}

export interface DrainOptions {
  label: string;
  kind: 'reference' | 'worker';
  backlog: readonly string[];
  processes: number;
  batchSize: number;
}

/**
 * Fill a fresh stream with the backlog, start the process(es), and time from the first
 * `Event consumer started` to the moment the group has every entry delivered and acked
 * (XINFO GROUPS: last-delivered-id = the last id written and pending = 0, polled every
 * 20 ms). Entries are acked only after their transaction commits, so at that moment every
 * row is in; `SELECT count(*) FROM events` then confirms it equals the backlog.
 */
export async function runDrain(shared: Shared, o: DrainOptions): Promise<DrainResult> {
  const res = await createScenario(shared, o.label);
  const children: Child[] = [];
  try {
    const lastId = await publishBacklog(shared.redis, res.keys.stream, o.backlog);
    // Start every scenario from a clean checkpoint, so one does not pay for the last one's writes.
    await shared.admin`CHECKPOINT`;
    const busyBeforePct = (await busyWhileIdle()) ?? null;
    for (let i = 0; i < o.processes; i++) {
      const name = `bench-${o.kind}-${i + 1}`;
      children.push(o.kind === 'worker' ? startWorker(res, name, o.batchSize) : startReference(res, name, o.batchSize));
    }
    const starts = await waitStarted(children, START_TIMEOUT_MS);
    const t0 = Math.min(...starts);
    const startSpreadMs = Math.max(...starts) - t0;
    const othersDuring = startCpuAccount(res.dbName, children.map((c) => c.pid));

    let lastProgress = -1;
    let lastProgressAt = performance.now();
    let lastReport = performance.now();
    let t1: number;
    let othersDuringPct: number | null = null;
    for (;;) {
      assertAlive(children, `draining ${o.label}`);
      const state = await groupState(shared.redis, res.keys);
      const now = performance.now();
      if (state.pending === 0 && state.lastDeliveredId === lastId) {
        t1 = now;
        othersDuringPct = othersDuring() ?? null;
        break;
      }
      const progress = state.entriesRead === null ? -1 : state.entriesRead - state.pending;
      if (progress !== lastProgress || state.entriesRead === null) {
        lastProgress = progress;
        lastProgressAt = now;
      } else if (now - lastProgressAt > STALL_MS) {
        throw new Error(
          `${o.label}: no progress for ${STALL_MS / 1000} s (${progress} of ${o.backlog.length} acked, ${state.pending} pending)${children.map((c) => c.tails()).join('')}`,
        );
      }
      if (now - lastReport > 10_000) {
        lastReport = now;
        log(`    … ${progress} of ${o.backlog.length} acked after ${((now - t0) / 1000).toFixed(0)} s`);
      }
      await sleep(POLL_MS);
    }
    const stored = await countEvents(res.sql);
    const processReports = await stopAll(children);
    const checks = await storeChecks(res, shared.redis);
    if (stored !== o.backlog.length) {
      log(`    ! ${o.label}: all entries acked but ${stored} of ${o.backlog.length} rows in events (${checks.deadLetters} dead letters)`);
    }
    const seconds = (t1 - t0) / 1000;
    const rss = processReports.map((p) => p.peakRssMb).filter((v): v is number => v !== null);
    return {
      label: o.label,
      kind: o.kind,
      events: o.backlog.length,
      processes: o.processes,
      batchSize: o.batchSize,
      seconds: Math.round(seconds * 1000) / 1000,
      eventsPerSecond: Math.round(stored / seconds),
      startSpreadMs: Math.round(startSpreadMs),
      peakRssMb: rss.length ? Math.max(...rss) : null,
      processReports,
      checks,
      busyBeforePct,
      othersDuringPct,
    };
  } finally {
    await Promise.allSettled(children.map((c) => c.stop(5000)));
    await res.dispose();
  }
}

export interface LatencyResult {
  label: string;
  kind: 'worker' | 'reference';
  /** Rows stored per second from the first publish to the last row seen: below the rate when the consumer falls behind. */
  consumedRate: number;
  batchSize: number;
  targetRate: number;
  seconds: number;
  published: number;
  achievedRate: number;
  seen: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Publish → the consumer's transaction start (events.ingested_at): how much of the latency is pick-up. */
  pickupMs: { p50: number; p95: number; p99: number };
  pollIntervalMs: number;
  /** Publisher ticks that ran later than 2 intervals after their due time (bench-side jitter). */
  lateTicks: number;
  peakRssMb: number | null;
  processReports: ProcessReport[];
  checks: StoreChecks;
  busyBeforePct: number | null;
  othersDuringPct: number | null;
  note: string;
}

const TICK_MS = 5;
const LATENCY_POLL_MS = 2;

/**
 * One worker on an empty stream; the bench publishes `rate` events/s for `seconds` in 5 ms
 * ticks, each event carrying data.published_at_ms = Date.now() at XADD time. A poller on its
 * own connection reads the new rows every 2 ms (ids are monotonic ULIDs) and records
 * now − published_at_ms for each: publish → visible to a reader, poll interval included.
 */
export async function runLatency(
  shared: Shared,
  o: { kind: 'worker' | 'reference'; batchSize: number; rate: number; seconds: number; seed: number },
): Promise<LatencyResult> {
  const label = `${o.kind === 'reference' ? 'reference loop' : 'worker'} latency @ ${o.rate}/s`;
  const res = await createScenario(shared, label);
  const publisher = openRedis();
  const poller = openSql(res.dbUrl, 1);
  const children: Child[] = [];
  try {
    const total = Math.round(o.rate * o.seconds);
    const generator = new WorkloadGenerator(o.seed);
    const events = Array.from({ length: total }, () => generator.next());
    await publisher.ping();
    await poller`SELECT 1`;
    await shared.admin`CHECKPOINT`;
    const busyBeforePct = (await busyWhileIdle()) ?? null;
    children.push(o.kind === 'worker' ? startWorker(res, 'bench-worker-latency', o.batchSize) : startReference(res, 'bench-reference-latency', o.batchSize));
    await waitStarted(children, START_TIMEOUT_MS);
    // Let the worker settle into its blocking read.
    await sleep(300);

    const latencies: number[] = [];
    /** published → ingested_at (now() of the consumer's transaction): the pick-up part of the latency. */
    const pickups: number[] = [];
    let lastId = '';
    let published = 0;
    let publishError: unknown;
    let publishing = true;
    let lateTicks = 0;
    const inFlight = new Set<Promise<unknown>>();
    let lastNewRowAt = performance.now();

    const pollLoop = (async () => {
      // A consumer slower than the rate (the reference loop) drains its backlog after publishing
      // ends; it fails only when no new row shows up for this long.
      const stallMs = 30_000;
      for (;;) {
        const rows = await poller<{ id: string; p: string; i: number }[]>`
          SELECT id, (data->>'published_at_ms')::bigint AS p, extract(epoch FROM ingested_at)::float8 * 1000 AS i
          FROM events WHERE id > ${lastId} ORDER BY id`;
        const now = Date.now();
        for (const row of rows) {
          latencies.push(now - Number(row.p));
          pickups.push(Number(row.i) - Number(row.p));
        }
        const last = rows[rows.length - 1];
        if (last) {
          lastId = last.id;
          lastNewRowAt = performance.now();
        }
        if (!publishing) {
          if (latencies.length >= published) return;
          assertAlive(children, 'the latency run');
          if (performance.now() - lastNewRowAt > stallMs) {
            throw new Error(`${label}: only ${latencies.length} of ${published} rows visible, none new for ${stallMs / 1000} s${children.map((c) => c.tails()).join('')}`);
          }
        }
        await sleep(LATENCY_POLL_MS);
      }
    })();
    let pollError: unknown;
    pollLoop.catch((err: unknown) => {
      pollError = err;
    });

    const othersDuring = startCpuAccount(res.dbName, children.map((c) => c.pid));
    const t0 = performance.now();
    let expectedTick = t0;
    while (published < total) {
      if (publishError) throw publishError;
      if (pollError) throw pollError;
      assertAlive(children, 'the latency run');
      const now = performance.now();
      if (now - expectedTick > 2 * TICK_MS) lateTicks++;
      const due = Math.min(total, Math.floor(((now - t0) / 1000) * o.rate));
      if (due > published) {
        const pipeline = publisher.pipeline();
        const stamp = Date.now();
        for (let i = published; i < due; i++) {
          const e = events[i];
          if (!e) continue;
          pipeline.xadd(res.keys.stream, '*', 'event', JSON.stringify({ ...e, data: { ...e.data, published_at_ms: stamp } }));
        }
        published = due;
        const sent: Promise<unknown> = pipeline.exec().then((replies) => {
          for (const [err] of replies ?? []) if (err) publishError ??= err;
        });
        inFlight.add(sent);
        void sent.finally(() => inFlight.delete(sent));
      }
      // Late ticks don't burst to catch up: `due` follows the clock, so the next tick publishes more.
      expectedTick += TICK_MS;
      if (expectedTick < now) expectedTick = now + TICK_MS;
      await sleep(Math.max(0, expectedTick - performance.now()));
    }
    const publishSeconds = (performance.now() - t0) / 1000;
    const othersDuringPct = othersDuring() ?? null;
    await Promise.all(inFlight);
    if (publishError) throw publishError;
    publishing = false;
    await pollLoop;

    const processReports = await stopAll(children);
    const checks = await storeChecks(res, shared.redis);
    const sorted = [...latencies].sort((a, b) => a - b);
    const sortedPickups = [...pickups].sort((a, b) => a - b);
    return {
      label,
      kind: o.kind,
      batchSize: o.batchSize,
      targetRate: o.rate,
      consumedRate: Math.round(latencies.length / Math.max(0.001, (lastNewRowAt - t0) / 1000)),
      seconds: o.seconds,
      published,
      achievedRate: Math.round(published / publishSeconds),
      seen: latencies.length,
      p50Ms: percentile(sorted, 50),
      p95Ms: percentile(sorted, 95),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? 0,
      meanMs: Math.round((sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)) * 10) / 10,
      pickupMs: {
        p50: Math.round(percentile(sortedPickups, 50) * 10) / 10,
        p95: Math.round(percentile(sortedPickups, 95) * 10) / 10,
        p99: Math.round(percentile(sortedPickups, 99) * 10) / 10,
      },
      pollIntervalMs: LATENCY_POLL_MS,
      lateTicks,
      peakRssMb: processReports[0]?.peakRssMb ?? null,
      processReports,
      checks,
      busyBeforePct,
      othersDuringPct,
      note: `publish → visible to a reader: Date.now() at XADD to Date.now() when a poller (every ${LATENCY_POLL_MS} ms, own connection) sees the row; conservative, includes up to one poll interval and the poll query; 1 ms resolution`,
    };
  } finally {
    await Promise.allSettled(children.map((c) => c.stop(5000)));
    publisher.disconnect();
    await poller.end({ timeout: 2 }).catch(() => undefined);
    await res.dispose();
  }
}
