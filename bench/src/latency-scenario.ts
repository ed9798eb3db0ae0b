import { performance } from 'node:perf_hooks';
import type { Child } from './children';
import { createScenario, openRedis, openSql, sleep, startReference, startWorker, type Shared } from './infra';
import { assertAlive, START_TIMEOUT_MS, stopAll, storeChecks, waitStarted, type ScenarioOutcome } from './scenario-common';
import { busyWhileIdle, percentile, redisServerPid, startCpuAccount } from './stats';
import { WorkloadGenerator } from './workload';
import { installCommitNotify, listenForCommits } from './commit-feed';

export interface LatencyResult extends ScenarioOutcome {
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
  /** The warm-up window (not in the figures above), for comparison. */
  warmup: { seconds: number; events: number; p50Ms: number; p99Ms: number; maxMs: number };
  meanMs: number;
  /** Publish → the consumer's transaction start (events.ingested_at): how much of the latency is pick-up. */
  pickupMs: { p50: number; p95: number; p99: number };
  /** Publisher ticks that ran later than 2 intervals after their due time (bench-side jitter). */
  lateTicks: number;
  note: string;
}

const TICK_MS = 5;

/**
 * One worker on an empty stream; the bench publishes `rate` events/s for `seconds` in 5 ms
 * ticks, each event carrying data.published_at_ms = Date.now() at XADD time. A listener hears
 * of each insert into events when it commits (commit-feed.ts) and records
 * now − published_at_ms for each row: publish → committed, visible to any reader.
 */
export async function runLatency(
  shared: Shared,
  o: { kind: 'worker' | 'reference'; batchSize: number; rate: number; seconds: number; warmupSeconds: number; seed: number },
): Promise<LatencyResult> {
  const label = `${o.kind === 'reference' ? 'reference loop' : 'worker'} latency @ ${o.rate}/s`;
  const res = await createScenario(shared, label);
  const publisher = openRedis();
  const listener = openSql(res.dbUrl, 1);
  const children: Child[] = [];
  try {
    const warmupEvents = Math.round(o.rate * o.warmupSeconds);
    const total = warmupEvents + Math.round(o.rate * o.seconds);
    const generator = new WorkloadGenerator(o.seed);
    const events = Array.from({ length: total }, () => generator.next());
    await publisher.ping();
    await installCommitNotify(res.sql);
    await shared.admin`CHECKPOINT`;
    const redisPid = await redisServerPid(shared.redis);
    const busyBeforePct = (await busyWhileIdle()) ?? null;
    children.push(o.kind === 'worker' ? startWorker(res, 'bench-worker-latency', o.batchSize) : startReference(res, 'bench-reference-latency', o.batchSize));
    await waitStarted(children, START_TIMEOUT_MS);
    // Let the worker settle into its blocking read.
    await sleep(300);

    const latencies: number[] = [];
    const warmupLatencies: number[] = [];
    /** Events published before this Date.now() belong to the warm-up. */
    let measureFrom = Infinity;
    /** published → ingested_at (now() of the consumer's transaction): the pick-up part of the latency. */
    const pickups: number[] = [];
    let published = 0;
    let publishError: unknown;
    let listenError: unknown;
    let lastNewRowAt = performance.now();
    const inFlight = new Set<Promise<unknown>>();
    let lateTicks = 0;
    const seenCount = () => latencies.length + warmupLatencies.length;

    const unlisten = await listenForCommits(
      listener,
      (receivedAtMs, groups) => {
        lastNewRowAt = performance.now();
        for (const g of groups) {
          const warm = g.publishedAtMs < measureFrom;
          for (let k = 0; k < g.count; k++) {
            if (warm) {
              warmupLatencies.push(receivedAtMs - g.publishedAtMs);
            } else {
              latencies.push(receivedAtMs - g.publishedAtMs);
              pickups.push(g.ingestedAtMs - g.publishedAtMs);
            }
          }
        }
      },
      (err) => {
        listenError ??= err;
      },
    );

    const cpuDuring = startCpuAccount(res.dbName, children.map((c) => c.pid), redisPid);
    const t0 = performance.now();
    let tMeasure = t0;
    let expectedTick = t0;
    while (published < total) {
      if (publishError) throw publishError;
      if (listenError) throw listenError;
      assertAlive(children, 'the latency run');
      const now = performance.now();
      if (published >= warmupEvents && measureFrom === Infinity) {
        measureFrom = Date.now();
        tMeasure = now;
      }
      if (now - expectedTick > 2 * TICK_MS) lateTicks++;
      const due = Math.min(total, Math.floor(((now - t0) / 1000) * o.rate));
      if (due > published) {
        // A tick never mixes warm-up and measured events: it stops at the boundary.
        const until = published < warmupEvents ? Math.min(due, warmupEvents) : due;
        const pipeline = publisher.pipeline();
        const stamp = Date.now();
        for (let i = published; i < until; i++) {
          const e = events[i];
          if (!e) continue;
          pipeline.xadd(res.keys.stream, '*', 'event', JSON.stringify({ ...e, data: { ...e.data, published_at_ms: stamp } }));
        }
        published = until;
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
    const publishSeconds = (performance.now() - tMeasure) / 1000;
    const cpu = cpuDuring() ?? null;
    await Promise.all(inFlight);
    if (publishError) throw publishError;
    // A consumer slower than the rate (the reference loop) drains its backlog after publishing
    // ends; it fails only when no new row shows up for this long.
    const stallMs = 30_000;
    while (seenCount() < published) {
      if (listenError) throw listenError;
      assertAlive(children, 'the latency run');
      if (performance.now() - lastNewRowAt > stallMs) {
        throw new Error(`${label}: only ${seenCount()} of ${published} rows committed, none new for ${stallMs / 1000} s${children.map((c) => c.tails()).join('')}`);
      }
      await sleep(20);
    }
    await unlisten();

    const processReports = await stopAll(children);
    const checks = await storeChecks(res, shared.redis);
    const sorted = [...latencies].sort((a, b) => a - b);
    const sortedPickups = [...pickups].sort((a, b) => a - b);
    const sortedWarmup = [...warmupLatencies].sort((a, b) => a - b);
    return {
      label,
      kind: o.kind,
      batchSize: o.batchSize,
      targetRate: o.rate,
      consumedRate: Math.round(latencies.length / Math.max(0.001, (lastNewRowAt - tMeasure) / 1000)),
      seconds: o.seconds,
      published: published - warmupEvents,
      achievedRate: Math.round((published - warmupEvents) / publishSeconds),
      seen: latencies.length,
      p50Ms: percentile(sorted, 50),
      p95Ms: percentile(sorted, 95),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? 0,
      warmup: {
        seconds: o.warmupSeconds,
        events: warmupLatencies.length,
        p50Ms: percentile(sortedWarmup, 50),
        p99Ms: percentile(sortedWarmup, 99),
        maxMs: sortedWarmup[sortedWarmup.length - 1] ?? 0,
      },
      meanMs: Math.round((sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)) * 10) / 10,
      pickupMs: {
        p50: Math.round(percentile(sortedPickups, 50) * 10) / 10,
        p95: Math.round(percentile(sortedPickups, 95) * 10) / 10,
        p99: Math.round(percentile(sortedPickups, 99) * 10) / 10,
      },
      lateTicks,
      peakRssMb: processReports[0]?.peakRssMb ?? null,
      processReports,
      checks,
      busyBeforePct,
      othersDuringPct: cpu?.othersPct ?? null,
      cpu,
      note: 'publish → committed: Date.now() at XADD to Date.now() when the NOTIFY of a bench-only statement trigger on events reaches a listener (delivered at commit, so includes the delivery); 1 ms resolution',
    };
  } finally {
    await Promise.allSettled(children.map((c) => c.stop(5000)));
    publisher.disconnect();
    await listener.end({ timeout: 2 }).catch(() => undefined);
    await res.dispose();
  }
}
