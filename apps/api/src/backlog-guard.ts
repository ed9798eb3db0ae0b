import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, preHandlerHookHandler } from 'fastify';
import type { Backlog, BacklogGauge } from '@fuel-code/stream';
import { toError } from '@fuel-code/core';

/** How long a backlog reading is reused: a busy API reads Redis about once a second, not per request. */
export const DEFAULT_BACKLOG_MAX_AGE_MS = 1_000;
/**
 * How long a request waits for a backlog reading. Past it, the request goes on: a Redis that
 * does not answer is the publish's to report (503 after its own command timeout), and waiting
 * for both in a row would double the time a client waits for that answer.
 */
export const BACKLOG_READ_TIMEOUT_MS = 500;
/** A backlog this deep takes a while to drain; asking clients back sooner would only add load. */
export const DEFAULT_BACKLOG_RETRY_AFTER_SECONDS = 30;

export interface BacklogGuardOptions {
  gauge: BacklogGauge;
  /** At this many entries still to be processed, nothing more is accepted. */
  maxBacklog: number;
  retryAfterSeconds: number;
}

export interface BacklogFullResponse {
  error: string;
  retry_after_seconds: number;
}

/**
 * A preHandler that answers 503 (and publishes nothing) while the consumer group's backlog is
 * at or over the high-water mark: past it, the stream only grows toward Redis's memory limit,
 * and the events are safer queued on the clients than in a stream that may refuse writes.
 * The stream is never trimmed to make room. If the backlog cannot be read, the request goes
 * on: the publish itself then tells whether Redis takes writes (503 when it does not).
 *
 * A callback hook: nearly every request finds a fresh reading in memory (gauge.fresh()) and is
 * judged without a promise; only the one that finds it stale waits for the read.
 */
export function createBacklogGuard(options: BacklogGuardOptions): preHandlerHookHandler {
  const { gauge, maxBacklog, retryAfterSeconds } = options;
  // Logged when it changes, not per refused request: a full backlog can last minutes.
  let full = false;
  /** Answers 503 and returns true when the backlog is full; false: go on. */
  const refused = (request: FastifyRequest, reply: FastifyReply, { entries, source }: Backlog): boolean => {
    if (entries < maxBacklog) {
      if (full) request.log.info({ backlog: entries, source, maxBacklog }, 'Backlog below the high-water mark: accepting batches again');
      full = false;
      return false;
    }
    if (!full) request.log.warn({ backlog: entries, source, maxBacklog }, 'Backlog at the high-water mark: refusing batches with 503');
    full = true;
    void reply
      .code(503)
      .header('retry-after', String(retryAfterSeconds))
      .send({
        error: `the event backlog is full (${maxBacklog} or more entries waiting to be processed); retry the whole batch later`,
        retry_after_seconds: retryAfterSeconds,
      } satisfies BacklogFullResponse);
    return true;
  };
  return function backlogGuard(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    const fresh = gauge.fresh();
    if (fresh) {
      if (!refused(request, reply, fresh)) done();
      return;
    }
    gauge.read().then(
      (backlog) => {
        if (!refused(request, reply, backlog)) done();
      },
      (err: unknown) => {
        request.log.warn({ error: toError(err).message }, 'Could not read the stream backlog: publishing without the check');
        done();
      },
    );
  };
}
