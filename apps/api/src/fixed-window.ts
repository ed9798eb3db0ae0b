/** How many clients' windows are kept: the bound on the limiter's memory, as @fastify/rate-limit's default cache. */
export const DEFAULT_MAX_BUCKETS = 5_000;

export interface FixedWindowOptions {
  /** Requests allowed per bucket and window. */
  max: number;
  windowMs: number;
  maxBuckets?: number;
  /** The clock, in ms (tests pass their own). */
  now?: () => number;
}

interface Window {
  startedAt: number;
  count: number;
}

/**
 * A fixed-window request counter per bucket (an API key's digest or a client address): a
 * bucket's window starts at its first request and lasts `windowMs`; within it, requests past
 * `max` are refused. These are the semantics of @fastify/rate-limit's in-memory store, which
 * it replaces on the ingest path: one Map lookup and an increment per request, no promise.
 *
 * The Map is kept in order of window start (a new window is re-inserted at the end), so when
 * `maxBuckets` is reached the bucket dropped to make room is the one whose window ends first.
 */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly max: number;
  private readonly windowMs: number;
  private readonly maxBuckets: number;
  private readonly now: () => number;

  constructor(o: FixedWindowOptions) {
    this.max = o.max;
    this.windowMs = o.windowMs;
    this.maxBuckets = Math.max(1, o.maxBuckets ?? DEFAULT_MAX_BUCKETS);
    this.now = o.now ?? Date.now;
  }

  /** Counts one request against `bucket`: 0 when it is allowed, else the ms until its window ends (≥ 1). */
  hit(bucket: string): number {
    const now = this.now();
    let window = this.windows.get(bucket);
    if (window === undefined || now - window.startedAt >= this.windowMs) {
      if (window !== undefined) this.windows.delete(bucket);
      else if (this.windows.size >= this.maxBuckets) this.dropOldest();
      window = { startedAt: now, count: 0 };
      this.windows.set(bucket, window);
    }
    window.count++;
    if (window.count <= this.max) return 0;
    return Math.max(1, window.startedAt + this.windowMs - now);
  }

  /** Buckets currently kept (for tests and the bound). */
  get size(): number {
    return this.windows.size;
  }

  private dropOldest(): void {
    const oldest = this.windows.keys().next();
    if (!oldest.done) this.windows.delete(oldest.value);
  }
}
