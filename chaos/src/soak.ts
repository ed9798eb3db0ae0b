import { readFileSync } from 'node:fs';
import type { ChaosOptions } from './args';
import { chaosRedis, Fleet, STREAM, untilReady, type Proc } from './fleet';
import { Monitor } from './observe';
import { checkShutdown, unexpectedExits } from './processes';
import type { Check } from './verify';
import { generateWorkload } from './workload';

/**
 * Soak mode: one or two workers, a steady rate of XADDs (the chaos workload, poison included,
 * in chunks of fresh seeds) for N minutes, no chaos. Every minute it samples each worker's RSS
 * (/proc/<pid>/status VmRSS) and event-loop lag (prom-client's nodejs_eventloop_lag_p99_seconds
 * on the worker's /metrics), and the group's backlog.
 */

export const GROWTH_RULE =
  'memory grows without bound when, for a worker with at least 3 samples, the mean RSS of the last third of its samples ' +
  'exceeds the mean of the first third by more than 25% AND every sample of the last third is higher than the one before it';

interface SoakSample {
  minute: number;
  worker: string;
  rssMb: number;
  lagP99Ms: number | undefined;
  backlog: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function eventLoopLagMs(port: number): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
    const m = /^nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
    return m ? Number(m[1]) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** The growth rule over one worker's RSS samples; undefined when there are too few to judge. */
export function growsWithoutBound(rss: number[]): boolean | undefined {
  if (rss.length < 3) return undefined;
  const third = Math.max(1, Math.floor(rss.length / 3));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = rss.slice(0, third);
  const last = rss.slice(-third);
  const monotonic = rss.slice(-third - 1).every((v, i, xs) => i === 0 || v > (xs[i - 1] as number));
  return mean(last) > 1.25 * mean(first) && monotonic;
}

export async function runSoak(o: ChaosOptions, fleet: Fleet, log: (m: string) => void, out: (m: string) => void): Promise<Check[]> {
  const checks: Check[] = [];
  await fleet.start();
  const redis = chaosRedis(fleet.redis.url, 'soak-producer');
  const monitorRedis = chaosRedis(fleet.redis.url, 'soak-monitor');
  const monitor = new Monitor(monitorRedis);
  try {
    await Promise.all([untilReady(redis), untilReady(monitorRedis)]);
    const workers: Proc[] = [];
    for (let i = 1; i <= o.soakWorkers; i++) workers.push(await fleet.startWorker(`soak-w${i}`));
    monitor.start();
    const lagAvailable = (await eventLoopLagMs(fleet.workerPorts.get(workers[0] as Proc) as number)) !== undefined;
    log(`soak: ${o.soakWorkers} worker(s), ${o.rate} events/s for ${o.minutes} min; event-loop lag ${lagAvailable ? 'from /metrics (nodejs_eventloop_lag_p99_seconds)' : 'NOT available on /metrics: RSS only'}`);
    log(`rule: ${GROWTH_RULE}`);

    const samples: SoakSample[] = [];
    const validIds = new Set<string>();
    let published = 0;
    let chunk = 0;
    const startedAt = Date.now();
    const endAt = startedAt + o.minutes * 60_000;
    let nextSample = startedAt + 60_000;
    let pendingItems: { fields: string[]; id: string | undefined }[] = [];
    const sample = async () => {
      const minute = Math.round((Date.now() - startedAt) / 60_000);
      for (const w of workers) {
        const x = { minute, worker: w.name, rssMb: rssMb(w.pid), lagP99Ms: await eventLoopLagMs(fleet.workerPorts.get(w) as number), backlog: monitor.backlog() };
        samples.push(x);
        log(`  minute ${minute}: ${w.name} RSS ${x.rssMb.toFixed(1)} MB, event-loop lag p99 ${x.lagP99Ms?.toFixed(1) ?? 'n/a'} ms, backlog ${x.backlog}`);
      }
    };
    while (Date.now() < endAt) {
      if (pendingItems.length < o.rate) {
        const w = generateWorkload(20_000, o.seed + ++chunk);
        const valid = (kind: string) => kind === 'valid' || kind === 'duplicate';
        pendingItems = pendingItems.concat(w.items.map((i) => ({ fields: i.fields ?? [i.kind === 'no-event-field' ? 'payload' : 'event', i.json], id: valid(i.kind) ? i.id : undefined })));
      }
      const due = Math.floor(((Date.now() - startedAt) / 1000) * o.rate) - published;
      if (due > 0) {
        const batch = pendingItems.splice(0, due);
        const pipe = redis.pipeline();
        for (const b of batch) pipe.xadd(STREAM, '*', ...b.fields);
        const res = await pipe.exec().catch(() => null);
        const failed = batch.filter((_, i) => !res?.[i] || res[i]?.[0]);
        pendingItems = failed.concat(pendingItems);
        published += batch.length - failed.length;
        batch.forEach((b, i) => {
          if (b.id && res?.[i] && !res[i]?.[0]) validIds.add(b.id);
        });
      }
      if (Date.now() >= nextSample) {
        await sample();
        nextSample += 60_000;
      }
      await sleep(50);
    }
    // The last minute's sample falls on the end.
    if (samples.length < o.minutes * workers.length) await sample();
    log(`soak: published ${published} entries; draining`);
    const drained = await monitor.waitCaughtUp(0, 0, 60_000);
    checks.push({ name: 'drained within 60 s of the end', ok: drained !== undefined, detail: `${drained ?? '-'} ms` });
    const stored = Number((await fleet.db.sql<{ n: string }[]>`SELECT count(*) AS n FROM events`)[0]?.n);
    checks.push({ name: 'every valid event stored once', ok: stored === validIds.size, detail: `${stored} rows, ${validIds.size} valid ids` });
    const maxBacklog = Math.max(0, ...samples.map((x) => x.backlog));
    checks.push({ name: 'the workers kept up with the rate (backlog at every sample ≤ 5 s of publishing)', ok: maxBacklog <= o.rate * 5, detail: `max backlog ${maxBacklog}` });
    for (const w of workers) {
      const rss = samples.filter((x) => x.worker === w.name).map((x) => x.rssMb);
      const grows = growsWithoutBound(rss);
      checks.push({
        name: `${w.name}: memory does not grow without bound`,
        ok: grows !== true,
        detail: `RSS MB per minute: ${rss.map((v) => v.toFixed(1)).join(', ')}${grows === undefined ? ' (fewer than 3 samples: the rule cannot judge; run --minutes 3 or more)' : ''}`,
      });
    }
    const crashed = unexpectedExits(fleet);
    checks.push({ name: 'no worker crashed', ok: crashed.length === 0, detail: crashed.map((p) => `${p.name}: ${JSON.stringify(p.exit)}`).join('; ') || 'none' });
    await monitor.stop();
    checkShutdown(fleet, checks, await fleet.terminateAll());
    out('');
    out(`==== soak report — ${o.minutes} min at ${o.rate}/s, ${o.soakWorkers} worker(s), seed ${o.seed} ====`);
    out(`rule: ${GROWTH_RULE}`);
    out(`event-loop lag: ${lagAvailable ? 'p99 from /metrics' : 'not available (no nodejs_eventloop_lag_p99_seconds on /metrics): RSS only'}`);
    out('minute  worker    RSS MB  lag p99 ms  backlog');
    for (const x of samples) out(`${String(x.minute).padStart(6)}  ${x.worker.padEnd(8)} ${x.rssMb.toFixed(1).padStart(7)}  ${(x.lagP99Ms?.toFixed(1) ?? 'n/a').padStart(10)}  ${String(x.backlog).padStart(7)}`);
    return checks;
  } finally {
    await monitor.stop();
    redis.disconnect();
    monitorRedis.disconnect();
  }
}
