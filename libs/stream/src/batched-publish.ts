import type Redis from 'ioredis';

/*
 * Publishing for many concurrent callers (the API's requests): the entries queued during one
 * turn of the event loop go to Redis as one EVAL that XADDs them all, in queue order, instead
 * of one XADD command each. Per entry that saves ioredis's command object, promise and timeout
 * timer, and Redis's parsing of a command; per turn it is one socket write and one reply.
 */

/** XADDs every ARGV to KEYS[1] as an `event` field; the reply is the count written. */
const XADD_ALL = `
for i = 1, #ARGV do
  redis.call('XADD', KEYS[1], '*', 'event', ARGV[i])
end
return #ARGV`;

/**
 * EVAL, not EVALSHA: Redis hashes this short source and reuses its compiled script, and there is
 * no NOSCRIPT to fall back from (a fresh or restarted Redis). A call that timed out while Redis
 * hung therefore still runs when it resumes, as a plain XADD would: the 503 that caller got
 * means "maybe written". Not `callBuffer('EVAL', …)`: on a client with auto-pipelining, as the
 * API's is, ioredis sends `call`'s arguments without the command name.
 */
function xaddAll(redis: Redis, stream: string, args: readonly string[]): Promise<unknown> {
  return redis.eval(XADD_ALL, 1, stream, ...args);
}

/**
 * A call is closed once it holds this many entries or bytes: a script blocks Redis while it
 * runs, so no call may be long, and a caller's entries are never split when avoidable.
 */
export const MAX_ENTRIES_PER_CALL = 256;
export const MAX_BYTES_PER_CALL = 1024 * 1024;

/** `ok`: every entry of the call was written (its script returned). Else none may be assumed written. */
export type BatchOutcome = { ok: true } | { ok: false; error: Error };

export interface BatchedPublisher {
  /**
   * Queue `eventJsons` (in order) for the next call. Resolves once Redis answered for all of
   * them; never rejects. A failed outcome may still have written some or all of them (a reply
   * lost or too late), as a failed XADD may: the caller's retry must be safe, the id being the
   * dedup key.
   */
  publish(eventJsons: readonly string[]): Promise<BatchOutcome>;
}

interface Queued {
  jsons: readonly string[];
  settle: (outcome: BatchOutcome) => void;
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** Split the queue into calls, whole callers each, closing a call at either bound. */
function intoCalls(queue: readonly Queued[]): Queued[][] {
  const calls: Queued[][] = [];
  let call: Queued[] = [];
  let entries = 0;
  let bytes = 0;
  for (const q of queue) {
    if (call.length > 0 && (entries >= MAX_ENTRIES_PER_CALL || bytes >= MAX_BYTES_PER_CALL)) {
      calls.push(call);
      call = [];
      entries = bytes = 0;
    }
    call.push(q);
    entries += q.jsons.length;
    for (const json of q.jsons) bytes += json.length;
  }
  if (call.length > 0) calls.push(call);
  return calls;
}

async function send(redis: Redis, stream: string, call: readonly Queued[]): Promise<void> {
  const args: string[] = [];
  for (const q of call) for (const json of q.jsons) args.push(json);
  let outcome: BatchOutcome;
  try {
    const written = await xaddAll(redis, stream, args);
    outcome = written === args.length ? { ok: true } : { ok: false, error: new Error(`the publish script wrote ${String(written)} of ${args.length} entries`) };
  } catch (err) {
    outcome = { ok: false, error: toError(err) };
  }
  for (const q of call) q.settle(outcome);
}

/**
 * A BatchedPublisher on `redis` for `stream`. The queue is sent at setImmediate, after the
 * event loop's poll phase, so it holds every request whose body arrived in that poll.
 */
export function createBatchedPublisher(redis: Redis, stream: string): BatchedPublisher {
  let queue: Queued[] = [];
  const flush = () => {
    const calls = intoCalls(queue);
    queue = [];
    for (const call of calls) void send(redis, stream, call);
  };
  return {
    publish(eventJsons) {
      if (eventJsons.length === 0) return Promise.resolve({ ok: true });
      return new Promise<BatchOutcome>((settle) => {
        if (queue.length === 0) setImmediate(flush);
        queue.push({ jsons: eventJsons, settle });
      });
    },
  };
}
