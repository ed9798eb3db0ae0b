import type { Logger } from 'pino';
import { sqlStateOf, toError, TransientError, type ProcessResult } from '@fuel-code/core';
import { onlyDelivery, onRefusal, type Middleware, type StoreEvents } from './types';

export interface OutageBreakerOptions {
  /** This many distinct events failing with one SQLSTATE within `windowMs` make that SQLSTATE an outage. */
  distinctEvents: number;
  /** How far back failures count, and how long without one before the breaker resets. */
  windowMs: number;
}

export const DEFAULT_OUTAGE_BREAKER: OutageBreakerOptions = { distinctEvents: 3, windowMs: 10_000 };

/**
 * SQLSTATE classes that describe the data itself: 22 data exception (a value the column cannot
 * hold), 23 integrity constraint violation. A batch with several bad events fails them all with
 * the same code at once; that is bad input, and the breaker must not hold it back forever.
 */
const INPUT_CLASSES = new Set(['22', '23']);

export interface OutageBreakerDeps extends OutageBreakerOptions {
  logger: Logger;
  now?: () => number;
}

interface CodeState {
  /** Event id → when it last failed with this code. */
  failures: Map<string, number>;
  lastFailureAt: number;
  /** Since when this code counts as an outage; undefined while closed. */
  trippedAt: number | undefined;
}

/** Reset every code whose window passed with no failure; forget stale failures. */
function sweep(codes: Map<string, CodeState>, at: number, windowMs: number, log: Logger): void {
  for (const [code, state] of codes) {
    if (at - state.lastFailureAt < windowMs) continue;
    codes.delete(code);
    if (state.trippedAt !== undefined) {
      log.warn({ sqlstate: code, outageMs: at - state.trippedAt }, `Outage breaker reset: no failure with SQLSTATE ${code} for ${windowMs} ms`);
    }
  }
}

/** Count one event's failure with `code`; trips the code (and says so) at the distinct-event threshold. */
function record(codes: Map<string, CodeState>, failure: { code: string; eventId: string; at: number }, deps: OutageBreakerOptions, log: Logger): CodeState {
  const { code, eventId, at } = failure;
  const state = codes.get(code) ?? { failures: new Map<string, number>(), lastFailureAt: at, trippedAt: undefined };
  codes.set(code, state);
  state.lastFailureAt = at;
  state.failures.set(eventId, at);
  for (const [id, when] of state.failures) if (at - when >= deps.windowMs) state.failures.delete(id);
  if (state.trippedAt === undefined && state.failures.size >= deps.distinctEvents) {
    state.trippedAt = at;
    log.warn(
      { sqlstate: code, distinctEvents: state.failures.size, windowMs: deps.windowMs },
      `Outage breaker tripped: ${state.failures.size} distinct events failed with SQLSTATE ${code} within ${deps.windowMs} ms; treating it as an outage`,
    );
  }
  return state;
}

function asOutage(code: string, err: unknown): TransientError {
  return new TransientError('postgres', `SQLSTATE ${code} is failing many events (outage breaker): ${toError(err).message}`, { cause: err });
}

/**
 * The SQLSTATEs db-errors knows as an outage are few; a server can refuse writes with others
 * (an extension, a trigger, a managed provider's own codes). When several distinct events fail
 * with one SQLSTATE in a short window, the cause is the server, not the events: from then on
 * that SQLSTATE is an outage (a TransientError: backed off, never an attempt, never a dead
 * letter) until the window passes with no failure of that code.
 */
export function createOutageBreaker(deps: OutageBreakerDeps) {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'outage-breaker' });
  const codes = new Map<string, CodeState>();
  let resetTimer: NodeJS.Timeout | undefined;

  /** While tripped, look again every window, so the reset is logged even if no event comes. */
  function watchForReset(): void {
    if (resetTimer) return;
    resetTimer = setTimeout(() => {
      resetTimer = undefined;
      sweep(codes, now(), deps.windowMs, log);
      if ([...codes.values()].some((s) => s.trippedAt !== undefined)) watchForReset();
    }, deps.windowMs);
    resetTimer.unref();
  }

  return {
    /**
     * An event failed with `err`: count it, and return the error to throw: a TransientError
     * while its SQLSTATE is an outage, `err` itself otherwise.
     */
    eventFailed(eventId: string, err: unknown): Error {
      const at = now();
      sweep(codes, at, deps.windowMs, log);
      const code = sqlStateOf(err);
      if (code === undefined || err instanceof TransientError || INPUT_CLASSES.has(code.slice(0, 2))) return toError(err);
      const state = record(codes, { code, eventId, at }, deps, log);
      if (state.trippedAt === undefined) return toError(err);
      watchForReset();
      return asOutage(code, err);
    },
    /** A batch failed with `err`: an outage if its SQLSTATE already is one (a batch is not a distinct event). */
    batchFailed(err: unknown): Error {
      const at = now();
      sweep(codes, at, deps.windowMs, log);
      const code = sqlStateOf(err);
      const state = code === undefined || err instanceof TransientError ? undefined : codes.get(code);
      if (!code || state?.trippedAt === undefined) return toError(err);
      state.lastFailureAt = at;
      return asOutage(code, err);
    },
    /** The SQLSTATEs treated as an outage right now. */
    tripped(): string[] {
      sweep(codes, now(), deps.windowMs, log);
      return [...codes].filter(([, s]) => s.trippedAt !== undefined).map(([code]) => code);
    },
  };
}

export type OutageBreaker = ReturnType<typeof createOutageBreaker>;

/**
 * Put the breaker around a store attempt: a failure of one event counts towards its SQLSTATE
 * tripping; a failure of a batch is an outage only when that SQLSTATE already is one.
 */
export function breakOutages(breaker: OutageBreaker): Middleware<StoreEvents> {
  return onRefusal<ProcessResult[]>(async (err, batch) => {
    const only = onlyDelivery(batch);
    throw only ? breaker.eventFailed(only.event.id, err) : breaker.batchFailed(err);
  });
}
