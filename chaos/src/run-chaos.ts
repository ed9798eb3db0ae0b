import type { ChaosOptions } from './args';
import { writeArtifacts } from './artifacts';
import { ALL_KINDS, runChaos, type ActionRecord } from './actions';
import { chaosRedis, Fleet, untilReady, type Proc } from './fleet';
import { Audit, Monitor } from './observe';
import { checkAlive, checkShutdown, logFacts, type LogFacts } from './processes';
import { produce, type ProducerStats } from './producer';
import { verifyData, type Check, type DataFacts } from './verify';
import { generateWorkload, type Workload } from './workload';

/** The chaos run: set up, publish while breaking things, drain, verify, shut down. */

export interface ChaosResult {
  options: ChaosOptions;
  workload: Workload;
  producer: ProducerStats | undefined;
  actions: ActionRecord[];
  /** The catch-up rule's lag threshold (entries). */
  lagThreshold: number;
  facts: DataFacts | undefined;
  logs: LogFacts | undefined;
  checks: Check[];
  procs: Proc[];
  /** Where the children's logs and the backlog samples were written. */
  artifacts?: string;
  timings: { setupMs: number; publishMs: number; chaosMs: number; drainMs: number | undefined; verifyMs: number; totalMs: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaosMode(options: ChaosOptions, fleet: Fleet, log: (m: string) => void): Promise<ChaosResult> {
  const t0 = Date.now();
  const workload = generateWorkload(options.events, options.seed);
  const kinds = new Map<string, number>();
  for (const i of workload.items) kinds.set(i.kind, (kinds.get(i.kind) ?? 0) + 1);
  log(`workload: ${workload.items.length} items (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}), built in ${Date.now() - t0} ms`);

  const result: ChaosResult = {
    options, workload, producer: undefined, actions: [], lagThreshold: 0, facts: undefined, logs: undefined, checks: [], procs: fleet.procs,
    timings: { setupMs: 0, publishMs: 0, chaosMs: 0, drainMs: undefined, verifyMs: 0, totalMs: 0 },
  };
  const checks = result.checks;

  await fleet.start();
  const producerRedis = chaosRedis(fleet.redis.url, 'chaos-producer');
  const auditRedis = chaosRedis(fleet.redis.url, 'chaos-audit');
  const monitorRedis = chaosRedis(fleet.redis.url, 'chaos-monitor');
  try {
    await Promise.all([untilReady(producerRedis), untilReady(auditRedis), untilReady(monitorRedis)]);
    const audit = new Audit(auditRedis);
    await audit.create();
    audit.start();
    const monitor = new Monitor(monitorRedis);
    await fleet.startApi();
    await Promise.all(['w1', 'w2', 'w3'].map((name) => fleet.startWorker(name)));
    monitor.start();
    result.timings.setupMs = Date.now() - t0;
    log(`API and 3 workers up in ${result.timings.setupMs} ms; publishing over ${options.publishSeconds} s`);

    const runStartedAt = Date.now();
    const chaosBudgetMs = options.publishSeconds * 1000 + (options.short ? 30_000 : 45_000);
    const producing = produce({
      items: workload.items, publishMs: options.publishSeconds * 1000, apiUrl: fleet.apiUrl, apiKey: fleet.apiKey, redis: producerRedis,
      deadlineMs: options.publishSeconds * 1000 + 90_000, log,
    }).then((stats) => {
      result.timings.publishMs = stats.finishedAt - stats.startedAt;
      log(`[${((Date.now() - runStartedAt) / 1000).toFixed(1)}s] producer done: ${stats.viaApi} via the API, ${stats.viaDirect} direct, ${stats.unpublished} unpublished`);
      return stats;
    });
    const rate = options.events / options.publishSeconds;
    const chaos = runChaos({ fleet, monitor, seed: options.seed, short: options.short, runStartedAt, rate, deadline: runStartedAt + chaosBudgetMs, log });
    const [stats, chaosOutcome] = await Promise.all([producing, chaos]);
    result.producer = stats;
    result.actions = chaosOutcome.records;
    result.lagThreshold = chaosOutcome.lagThreshold;
    result.timings.chaosMs = Date.now() - runStartedAt;
    checks.push({ name: 'the producer published every item (retrying through 503s and Redis errors)', ok: stats.unpublished === 0, detail: `${stats.unpublished} unpublished` });
    checks.push({
      name: 'the API judged every event per the contract (every storable event accepted — unknown types and off-schema payloads too —, the unstorable rejected one by one)',
      ok: stats.apiAnomalies.length === 0,
      detail: stats.apiAnomalies.length ? stats.apiAnomalies.slice(0, 3).join('; ') : `${stats.rejectedByApiThenDirect} poison rejected, the rest accepted (${stats.apiDuplicates} answered duplicate within a request)`,
    });
    const failedActions = result.actions.filter((a) => a.error);
    const kindsRun = new Set(result.actions.filter((a) => !a.error).map((a) => a.kind));
    checks.push({
      name: `every kind of chaos ran and did what it should (${ALL_KINDS.join(', ')})`,
      ok: failedActions.length === 0 && ALL_KINDS.every((k) => kindsRun.has(k)),
      detail: `${result.actions.length} actions, ${failedActions.length} failed${failedActions.length ? ` (${failedActions.map((a) => `${a.kind}: ${a.error}`).join('; ')})` : ''}`,
    });

    const expectations = result.actions.flatMap((a) => (a.expectation ? [a.expectation] : []));
    checks.push({
      name: 'each quiet fault showed what it should (silent Redis healed unaided within 30 s, /readyz 503 while read-only, the stalled transaction ended by PostgreSQL)',
      ok: expectations.length > 0 && expectations.every((x) => x.ok),
      detail: expectations.map((x) => `${x.ok ? 'ok' : 'NOT'}: ${x.what}`).join('; ') || 'no quiet fault ran',
    });

    // Drain: the group has nothing pending or undelivered, and the audit has seen everything.
    const drainLimit = options.short ? 30_000 : 60_000;
    const drainFrom = Date.now();
    let stable = 0;
    while (Date.now() - drainFrom < drainLimit && stable < 4) {
      const s = monitor.latest;
      const fresh = s && Date.now() - s.t < 1000;
      stable = fresh && s.pending === 0 && s.lag === 0 && (await audit.caughtUp().catch(() => false)) ? stable + 1 : 0;
      await sleep(250);
    }
    result.timings.drainMs = stable >= 4 ? Date.now() - drainFrom : undefined;
    const last = monitor.latest;
    checks.push({ name: `drained: pending 0 and lag 0 within ${drainLimit / 1000} s of the end of the chaos`, ok: stable >= 4, detail: `${result.timings.drainMs ?? '-'} ms; last sample pending ${last?.pending}, lag ${last?.lag}` });
    log(`drain: ${result.timings.drainMs === undefined ? `NOT drained within ${drainLimit / 1000} s` : `${result.timings.drainMs} ms`}`);

    await chaosOutcome.settle(5000);
    await checkAlive(fleet, checks);
    const verifyFrom = Date.now();
    await audit.stop();
    await monitor.stop();
    result.facts = await verifyData(fleet.db.sql, monitorRedis, workload, audit, checks);
    result.timings.verifyMs = Date.now() - verifyFrom;
    const stopped = await fleet.terminateAll();
    checkShutdown(fleet, checks, stopped);
    result.logs = logFacts(fleet);
    // Evidence for a failure (or on --keep): the children's logs and the backlog samples.
    if (options.keep || checks.some((c) => !c.ok)) result.artifacts = writeArtifacts(fleet, monitor.samples, runStartedAt, options.seed);
  } finally {
    for (const r of [producerRedis, auditRedis, monitorRedis]) r.disconnect();
    result.timings.totalMs = Date.now() - t0;
  }
  return result;
}
