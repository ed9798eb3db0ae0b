import type Redis from 'ioredis';
import { GROUP, groupState, STREAM } from './fleet';
import { entryKey } from './workload';

/**
 * Two observers on the chaos process's own Redis connections:
 *  - Audit: a consumer group of its own on the events stream (so retention never trims an entry
 *    before it is seen) that records every entry ever written: its id and its `event` bytes.
 *    This is the ground truth of what was published, duplicates included. It acknowledges what
 *    it read and re-reads its own pending entries after any error, so a reply lost in the Redis
 *    restart loses nothing.
 *  - Monitor: samples the workers' group (pending, lag) four times a second, for the drain
 *    check and the catch-up times.
 */

export const AUDIT_GROUP = 'chaos-audit';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Audit {
  /** entryKey of each entry (its `event` bytes, `payload:<value>`, `fields:<its fields>`) → stream ids. */
  readonly byBytes = new Map<string, string[]>();
  readonly seen = new Set<string>();
  /** Entries whose fields are neither one `event`, our one `payload`, nor the fields format. */
  odd = 0;
  errors = 0;
  private running = true;
  private loop: Promise<void> | undefined;

  constructor(private readonly redis: Redis) {}

  async create(): Promise<void> {
    await this.redis.xgroup('CREATE', STREAM, AUDIT_GROUP, '0', 'MKSTREAM');
  }

  start(): void {
    this.loop = this.run();
  }

  private record(id: string, fields: string[]): void {
    if (this.seen.has(id)) return;
    this.seen.add(id);
    let key = entryKey(fields);
    if (key === undefined) {
      this.odd++;
      key = `odd:${JSON.stringify(fields)}`;
    }
    const ids = this.byBytes.get(key);
    if (ids) ids.push(id);
    else this.byBytes.set(key, [id]);
  }

  private async run(): Promise<void> {
    let cursor = '0';
    while (this.running) {
      try {
        const reply = (await this.redis.call('XREADGROUP', 'GROUP', AUDIT_GROUP, 'chaos-auditor', 'COUNT', '2000', 'BLOCK', '300', 'STREAMS', STREAM, cursor)) as
          | [string, [string, string[]][]][]
          | null;
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) {
          cursor = '>';
          continue;
        }
        for (const [id, fields] of entries) this.record(id, fields);
        await this.redis.xack(STREAM, AUDIT_GROUP, ...entries.map(([id]) => id));
      } catch {
        this.errors++;
        cursor = '0';
        await sleep(200);
      }
    }
  }

  /** True when the audit group has read and acknowledged everything in the stream. */
  async caughtUp(): Promise<boolean> {
    const state = await groupState(this.redis, STREAM, AUDIT_GROUP);
    if (!state || state.pending !== 0) return false;
    // The lag Redis reports can be null or stale after a restart: only 0 is taken as it is.
    if (state.lag === 0) return true;
    return (await this.redis.xrange(STREAM, `(${state.lastDeliveredId}`, '+', 'COUNT', 1)).length === 0;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

export interface Sample {
  t: number;
  pending: number;
  lag: number;
  /** True when the lag Redis reported (null, or a stale number) was replaced by a count with XRANGE (capped at LAG_COUNT_CAP). */
  counted: boolean;
}

/** When XINFO GROUPS reports a lag, count the undelivered entries, at most this many. */
export const LAG_COUNT_CAP = 1000;

export class Monitor {
  readonly samples: Sample[] = [];
  latest: Sample | undefined;
  private running = true;
  private loop: Promise<void> | undefined;

  constructor(private readonly redis: Redis) {}

  start(): void {
    this.loop = (async () => {
      while (this.running) {
        try {
          const s = await groupState(this.redis, STREAM, GROUP);
          if (s) {
            // Redis 7.0 reports lag null after the AOF reload of a restart, until the group
            // catches up with the end of the stream, and sometimes a stale number that never
            // shrinks (43,788 with nothing left to read, seen after a restart at the end of a
            // full run): count what is after last-delivered-id whenever it says anything
            // but 0. The count is exact below LAG_COUNT_CAP, beyond any catch-up threshold.
            const counted = s.lag === 0 ? 0 : (await this.redis.xrange(STREAM, `(${s.lastDeliveredId}`, '+', 'COUNT', LAG_COUNT_CAP)).length;
            const lag = counted < LAG_COUNT_CAP ? counted : Math.max(counted, s.lag ?? 0);
            this.latest = { t: Date.now(), pending: s.pending, lag, counted: s.lag !== lag };
            this.samples.push(this.latest);
          }
        } catch {
          // Redis restarting: no sample.
        }
        await sleep(250);
      }
    })();
  }

  /** lag + pending of the latest sample, Infinity when there is no fresh one. */
  backlog(): number {
    const s = this.latest;
    return s && Date.now() - s.t < 2000 ? s.pending + s.lag : Number.POSITIVE_INFINITY;
  }

  private within(maxLag: number, maxPending: number): boolean {
    const s = this.latest;
    return !!s && Date.now() - s.t < 2000 && s.lag <= maxLag && s.pending <= maxPending;
  }

  /** Pending entries of one consumer (XPENDING summary), or -1 when Redis does not answer. */
  async consumerPending(consumer: string): Promise<number> {
    try {
      const summary = (await this.redis.xpending(STREAM, GROUP)) as [number, string | null, string | null, [string, string][] | null];
      const row = summary[3]?.find(([name]) => name === consumer);
      return row ? Number(row[1]) : 0;
    } catch {
      return -1;
    }
  }

  /** The id of the newest entry of the stream ('0-0' when empty). */
  async streamLastId(): Promise<string> {
    const [newest] = await this.redis.xrevrange(STREAM, '+', '-', 'COUNT', 1);
    return newest?.[0] ?? '0-0';
  }

  /**
   * Redis connections of other processes (not the chaos process's own `chaos-*` ones) whose
   * last command was XREADGROUP and that were opened less than `maxAgeMs` ago (CLIENT LIST).
   */
  async freshReaders(maxAgeMs: number): Promise<number> {
    const list = String(await this.redis.call('CLIENT', 'LIST', 'TYPE', 'normal'));
    let n = 0;
    for (const line of list.split('\n')) {
      const f = new Map(line.trim().split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
      if ((f.get('name') ?? '').startsWith('chaos-') || f.get('cmd') !== 'xreadgroup') continue;
      if (Number(f.get('age')) * 1000 < maxAgeMs) n++;
    }
    return n;
  }

  /** The group's last-delivered-id, and each consumer's idle ms (XINFO CONSUMERS). */
  async groupProgress(): Promise<{ lastDeliveredId: string; idle: Map<string, number> } | undefined> {
    const state = await groupState(this.redis, STREAM, GROUP);
    if (!state) return undefined;
    const raw = (await this.redis.call('XINFO', 'CONSUMERS', STREAM, GROUP)) as unknown[][];
    const idle = new Map<string, number>();
    for (const c of raw) {
      const f = new Map<string, unknown>();
      for (let i = 0; i + 1 < c.length; i += 2) f.set(String(c[i]), c[i + 1]);
      idle.set(String(f.get('name')), Number(f.get('idle')));
    }
    return { lastDeliveredId: state.lastDeliveredId, idle };
  }

  /**
   * Wait until lag ≤ `maxLag` and pending ≤ `maxPending` and `extra` (if given) holds;
   * resolves with the ms it took, or undefined after `timeoutMs`.
   */
  async waitCaughtUp(maxLag: number, maxPending: number, timeoutMs: number, extra?: () => Promise<boolean>): Promise<number | undefined> {
    const from = Date.now();
    while (Date.now() - from < timeoutMs && this.running) {
      if (this.within(maxLag, maxPending) && (!extra || (await extra()))) return Date.now() - from;
      await sleep(100);
    }
    return undefined;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
