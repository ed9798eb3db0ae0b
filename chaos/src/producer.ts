import type Redis from 'ioredis';
import { STREAM } from './fleet';
import { API_REJECTS, type Item } from './workload';

/**
 * Publishes the items at a steady pace over `publishMs`: those routed to the API in batches of
 * at most 100 (two requests in flight), the others with pipelined XADDs. It never loses its own
 * events: a 503, a network error or a Redis error means "publish it again" (possibly a duplicate,
 * which the pipeline must absorb). Poison the API rejects is XADDed directly instead.
 */

export interface ProducerStats {
  /** Items that ended in the stream through the API / through XADD (final route). */
  viaApi: number;
  viaDirect: number;
  /** Poison sent to the API, rejected one by one as it should be, then XADDed directly. */
  rejectedByApiThenDirect: number;
  apiRequests: number;
  api503: number;
  /** Answers 429 (rate limited): waited out per Retry-After, then sent again. */
  api429: number;
  /** Copies of an id already in the same request, answered `duplicate` (published once). */
  apiDuplicates: number;
  apiNetworkErrors: number;
  directPipelines: number;
  redisErrors: number;
  /** Publishes repeated after a failure that may have written anyway. */
  retriedItems: number;
  /** The API judged an event differently from the contract (valid rejected, invalid accepted, odd status). */
  apiAnomalies: string[];
  /** Items never published before the deadline. */
  unpublished: number;
  /** Where each kind of item ended: through the API, XADD, or XADD after the API rejected it. */
  routes: Map<string, { api: number; direct: number; rejectedThenDirect: number }>;
  startedAt: number;
  finishedAt: number;
}

export interface ProducerOptions {
  items: Item[];
  publishMs: number;
  apiUrl: string;
  apiKey: string;
  redis: Redis;
  deadlineMs: number;
  log: (msg: string) => void;
}

const API_BATCH = 100;
const DIRECT_BATCH = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function produce(o: ProducerOptions): Promise<ProducerStats> {
  const stats: ProducerStats = {
    viaApi: 0, viaDirect: 0, rejectedByApiThenDirect: 0, apiRequests: 0, api503: 0, api429: 0, apiDuplicates: 0, apiNetworkErrors: 0,
    directPipelines: 0, redisErrors: 0, retriedItems: 0, apiAnomalies: [], unpublished: 0, routes: new Map(), startedAt: Date.now(), finishedAt: 0,
  };
  const apiQueue: Item[] = [];
  const directQueue: Item[] = [];
  const hardDeadline = stats.startedAt + o.deadlineMs;
  let released = 0;
  let done = false;
  const route = (item: Item, how: 'api' | 'direct' | 'rejectedThenDirect') => {
    const r = stats.routes.get(item.kind) ?? { api: 0, direct: 0, rejectedThenDirect: 0 };
    r[how]++;
    stats.routes.set(item.kind, r);
  };
  const redirected = new WeakSet<Item>();
  const anomaly = (msg: string) => {
    if (stats.apiAnomalies.length < 20) o.log(`!! API: ${msg}`);
    stats.apiAnomalies.push(msg);
  };

  // Release items on schedule.
  const pacer = (async () => {
    const perItem = o.publishMs / o.items.length;
    while (released < o.items.length) {
      const due = Math.min(o.items.length, Math.floor((Date.now() - stats.startedAt) / perItem) + 1);
      for (; released < due; released++) {
        const item = o.items[released] as Item;
        (item.route === 'api' ? apiQueue : directQueue).push(item);
      }
      await sleep(20);
    }
  })();

  const sendApi = async (batch: Item[]): Promise<void> => {
    for (let attempt = 1; Date.now() < hardDeadline; attempt++) {
      if (attempt > 1) stats.retriedItems += batch.length;
      stats.apiRequests++;
      let res: Response;
      try {
        res = await fetch(`${o.apiUrl}/api/events/ingest`, {
          method: 'POST',
          headers: { authorization: `Bearer ${o.apiKey}`, 'content-type': 'application/json' },
          body: `{"events":[${batch.map((i) => i.json).join(',')}]}`,
          signal: AbortSignal.timeout(15_000),
        });
      } catch {
        stats.apiNetworkErrors++;
        await sleep(250);
        continue;
      }
      const text = await res.text().catch(() => '');
      if (res.status === 429) {
        stats.api429++;
        const retryAfter = Number(res.headers.get('retry-after') ?? '1');
        await sleep(Math.min(2000, Math.max(100, (Number.isFinite(retryAfter) ? retryAfter : 1) * 1000)));
        continue;
      }
      if (res.status === 503) {
        stats.api503++;
        let retryAfter = 1;
        try {
          retryAfter = Number((JSON.parse(text) as { retry_after_seconds?: number }).retry_after_seconds ?? 1);
        } catch {
          anomaly(`503 without a JSON body: ${text.slice(0, 200)}`);
        }
        // Honour Retry-After, capped at 2 s to keep the run bounded.
        await sleep(Math.min(2000, Math.max(100, retryAfter * 1000)));
        continue;
      }
      if (res.status !== 202) {
        anomaly(`status ${res.status} for a batch of ${batch.length}: ${text.slice(0, 300)}`);
        await sleep(500);
        continue;
      }
      const body = JSON.parse(text) as { results?: { index: number; status: string }[] };
      const earlierIds = new Set<string>();
      batch.forEach((item, index) => {
        const status = body.results?.find((r) => r.index === index)?.status;
        const mustReject = API_REJECTS.has(item.kind);
        const repeated = item.id !== undefined && earlierIds.has(item.id);
        if (item.id !== undefined && !mustReject) earlierIds.add(item.id);
        if (status === 'duplicate' && repeated) {
          // A deliberate re-publish that landed in the same request as its original.
          stats.viaApi++;
          stats.apiDuplicates++;
          route(item, 'api');
        } else if (status === 'accepted') {
          stats.viaApi++;
          route(item, 'api');
          if (mustReject) anomaly(`${item.kind} item #${item.seq} was accepted`);
        } else {
          if (status === 'rejected' && mustReject) stats.rejectedByApiThenDirect++;
          else anomaly(`${item.kind} item #${item.seq} came back ${String(status)}`);
          const copy = { ...item, route: 'direct' as const };
          redirected.add(copy);
          directQueue.push(copy);
        }
      });
      return;
    }
  };

  const sendDirect = async (batch: Item[]): Promise<void> => {
    let left = batch;
    for (let attempt = 1; left.length > 0 && Date.now() < hardDeadline; attempt++) {
      if (attempt > 1) {
        stats.retriedItems += left.length;
        await sleep(200);
      }
      stats.directPipelines++;
      const pipeline = o.redis.pipeline();
      for (const item of left) {
        if (item.fields) pipeline.xadd(STREAM, '*', ...item.fields);
        else if (item.kind === 'no-event-field') pipeline.xadd(STREAM, '*', 'payload', item.json);
        else pipeline.xadd(STREAM, '*', 'event', item.json);
      }
      let results: [Error | null, unknown][] | null;
      try {
        results = await pipeline.exec();
      } catch {
        results = null;
      }
      const failed: Item[] = [];
      left.forEach((item, i) => {
        const r = results?.[i];
        if (!r || r[0]) failed.push(item);
        else {
          stats.viaDirect++;
          route(item, redirected.has(item) ? 'rejectedThenDirect' : 'direct');
        }
      });
      if (failed.length > 0) stats.redisErrors++;
      left = failed;
    }
  };

  const lane = async (queue: Item[], max: number, send: (b: Item[]) => Promise<void>): Promise<void> => {
    while (!done) {
      if (queue.length === 0) {
        await sleep(10);
        continue;
      }
      await send(queue.splice(0, max));
    }
  };

  const apiLanes = [lane(apiQueue, API_BATCH, sendApi), lane(apiQueue, API_BATCH, sendApi)];
  const directLane = lane(directQueue, DIRECT_BATCH, sendDirect);
  await pacer;
  // Wait until both queues are empty and nothing is in flight (the lanes pick up the rest).
  while (Date.now() < hardDeadline) {
    const total = stats.viaApi + stats.viaDirect;
    if (total >= o.items.length && apiQueue.length === 0 && directQueue.length === 0) break;
    await sleep(50);
  }
  done = true;
  await Promise.all([...apiLanes, directLane]);
  stats.unpublished = o.items.length - stats.viaApi - stats.viaDirect;
  stats.finishedAt = Date.now();
  return stats;
}
