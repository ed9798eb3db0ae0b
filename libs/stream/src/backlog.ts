import type Redis from 'ioredis';
import { untilAborted, WaitAbortedError } from '@fuel-code/runtime';
import { isNoSuchKey, parseGroupInfos } from './info';

/** The stream and the consumer group whose unfinished work is measured. */
export interface BacklogTarget {
  stream: string;
  group: string;
}

/**
 * How much a consumer group has still to finish.
 *  - 'group': lag + pending from XINFO GROUPS (exact).
 *  - 'no-group': the group does not exist yet, so every entry in the stream is waiting for it: XLEN.
 *  - 'lag-unknown': Redis cannot tell the lag (an entry after the group's position was deleted,
 *    or the group was set to an arbitrary id): XLEN, an upper bound since the worker trims what
 *    every group has acknowledged. Pending entries are counted too if more of them than XLEN.
 */
export interface Backlog {
  entries: number;
  source: 'group' | 'no-group' | 'lag-unknown';
}

/** The reply of one pipelined command, or its error thrown. */
function replyOf(result: [Error | null, unknown] | undefined, command: string): unknown {
  if (!result) throw new Error(`no reply to ${command}`);
  const [err, reply] = result;
  if (err) throw err;
  return reply;
}

/**
 * The group's backlog in one round trip (XINFO GROUPS and XLEN pipelined). Both are O(1) in
 * the stream's length, so this is cheap whatever the backlog. A missing stream has a backlog of 0.
 */
export async function readBacklog(redis: Redis, target: BacklogTarget): Promise<Backlog> {
  const results = await redis.pipeline().xinfo('GROUPS', target.stream).xlen(target.stream).exec();
  const length = Number(replyOf(results?.[1], 'XLEN'));
  let groupsReply: unknown;
  try {
    groupsReply = replyOf(results?.[0], 'XINFO GROUPS');
  } catch (err) {
    if (isNoSuchKey(err)) return { entries: 0, source: 'no-group' };
    throw err;
  }
  const group = parseGroupInfos(groupsReply).find((g) => g.name === target.group);
  if (!group) return { entries: length, source: 'no-group' };
  if (group.lag === null) return { entries: Math.max(length, group.pending), source: 'lag-unknown' };
  return { entries: group.lag + group.pending, source: 'group' };
}

export interface BacklogGaugeOptions extends BacklogTarget {
  redis: Redis;
  /** A value younger than this is answered from memory; 0 reads Redis on every call. */
  maxAgeMs: number;
  /**
   * read() gives up waiting after this long (the read itself goes on, and caches its answer if
   * one comes). Default: wait as long as the client does.
   */
  readTimeoutMs?: number;
}

export interface BacklogGauge {
  /**
   * The backlog, at most `maxAgeMs` old. Rejects when Redis could not be read (nothing is
   * cached then), or with BacklogReadTimeoutError after `readTimeoutMs`.
   */
  read(): Promise<Backlog>;
  /** The value read() would answer from memory now, or undefined: no promise, for a hot path. */
  fresh(): Backlog | undefined;
}

/** Redis did not answer the backlog read within the gauge's readTimeoutMs. */
export class BacklogReadTimeoutError extends Error {
  readonly code = 'BACKLOG_READ_TIMEOUT' as const;
  constructor(readonly timeoutMs: number) {
    super(`the stream backlog could not be read within ${timeoutMs} ms`);
    this.name = 'BacklogReadTimeoutError';
  }
}

/** `promise`, or a rejection with BacklogReadTimeoutError once `timeoutMs` has passed. */
function withTimeout(promise: Promise<Backlog>, timeoutMs: number | undefined): Promise<Backlog> {
  if (timeoutMs === undefined) return promise;
  return untilAborted(promise, AbortSignal.timeout(timeoutMs)).catch((err: unknown) => {
    throw err instanceof WaitAbortedError ? new BacklogReadTimeoutError(timeoutMs) : err;
  });
}

/**
 * readBacklog behind a short-lived cache, so a busy API does not add a round trip to every
 * request: at most one read per `maxAgeMs`, and callers that arrive while a read is in
 * flight share it instead of sending their own.
 */
export function createBacklogGauge(options: BacklogGaugeOptions): BacklogGauge {
  const { redis, stream, group, maxAgeMs, readTimeoutMs } = options;
  let cached: { value: Backlog; readAt: number } | undefined;
  let inFlight: Promise<Backlog> | undefined;
  const fresh = (): Backlog | undefined => (cached && Date.now() - cached.readAt < maxAgeMs ? cached.value : undefined);
  return {
    fresh,
    read() {
      const value = fresh();
      if (value) return Promise.resolve(value);
      if (!inFlight) {
        // Stamped with the time the read started: its age is never under-stated.
        const readAt = Date.now();
        inFlight = readBacklog(redis, { stream, group })
          .then((value) => {
            cached = { value, readAt };
            return value;
          })
          .finally(() => {
            inFlight = undefined;
          });
        // Nobody may be waiting when it fails (they timed out): keep it from being unhandled.
        inFlight.catch(() => undefined);
      }
      return withTimeout(inFlight, readTimeoutMs);
    },
  };
}
