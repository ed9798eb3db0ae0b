import type { FuelEvent } from './envelope';
import type { StoredItem } from './store-batch';

/** A session of the batch that may cover a git event: its id and start time. */
export interface LinkGuess {
  sessionId: string;
  at: string;
}

interface BatchStart {
  sessionId: string;
  at: string;
  ms: number;
}

/** What a batch's valid session events say: starts by (workspace, device) key, earliest end by session. */
export interface SessionBounds {
  starts: Map<string, BatchStart[]>;
  ends: Map<string, number>;
}

const keyOf = (workspaceId: string, deviceId: string) => `${workspaceId}\u0000${deviceId}`;

function addEnd(ends: Map<string, number>, id: string, ms: number): void {
  if (!(ms >= (ends.get(id) ?? Infinity))) ends.set(id, ms);
}

/** The starts and earliest ends among a batch's valid session events. */
export function sessionBoundsOf(items: readonly StoredItem[]): SessionBounds {
  const starts = new Map<string, BatchStart[]>();
  const ends = new Map<string, number>();
  for (const { event, workspaceId } of items) {
    if (event.payload !== 'valid') continue;
    if (event.type === 'session.start') {
      const key = keyOf(workspaceId, event.device_id);
      const list = starts.get(key) ?? [];
      list.push({ sessionId: event.data.cc_session_id, at: event.timestamp, ms: Date.parse(event.timestamp) });
      starts.set(key, list);
    } else if (event.type === 'session.end') {
      addEnd(ends, event.data.cc_session_id, Date.parse(event.timestamp));
    }
  }
  return { starts, ends };
}

/** Several batches' bounds as one. */
export function mergeBounds(all: Iterable<SessionBounds>): SessionBounds {
  const starts = new Map<string, BatchStart[]>();
  const ends = new Map<string, number>();
  for (const b of all) {
    for (const [key, list] of b.starts) {
      const merged = starts.get(key);
      if (merged) merged.push(...list);
      else starts.set(key, [...list]);
    }
    for (const [id, ms] of b.ends) addEnd(ends, id, ms);
  }
  return { starts, ends };
}

/**
 * For each git event to link, the session among `bounds` (by default the batch's own session
 * events; on the fast path also those of the process's batches still in flight) that covers
 * it by the rule (same workspace and device, started at or before it, not ended before it by
 * an end known here; the latest started, then the higher id), or null. insertEvents weighs it
 * against the committed sessions, so a git event lands with its link even when its session
 * starts in the same batch or in one not committed yet (the session upsert runs after the
 * insert). Only a guess: the git insert computes the exact link under the lock and corrects
 * the ones it gets wrong, with an update of the events row that costs about what its insert did.
 */
export function gitLinkGuesses(
  items: readonly StoredItem[],
  linked: (event: FuelEvent) => boolean,
  bounds: SessionBounds = sessionBoundsOf(items),
): Map<string, LinkGuess | null> {
  const { starts, ends } = bounds;
  const guesses = new Map<string, LinkGuess | null>();
  for (const { event, workspaceId } of items) {
    if (!linked(event)) continue;
    const ms = Date.parse(event.timestamp);
    let best: BatchStart | undefined;
    for (const s of starts.get(keyOf(workspaceId, event.device_id)) ?? []) {
      if (!(s.ms <= ms) || (ends.get(s.sessionId) ?? Infinity) < ms) continue;
      if (!best || s.ms > best.ms || (s.ms === best.ms && s.sessionId > best.sessionId)) best = s;
    }
    guesses.set(event.id, best ? { sessionId: best.sessionId, at: best.at } : null);
  }
  return guesses;
}

/**
 * The session bounds of this process's batches in flight, so that a batch whose events
 * insert runs before an earlier batch's commit still guesses its git links right. Single
 * event loop: a batch enters before its insert is sent and leaves when its transaction is
 * over, committed or not (a bound from a batch that rolled back only makes a wrong guess,
 * which the lock corrects).
 */
export class InFlightSessions {
  private readonly batches = new Set<SessionBounds>();

  /**
   * Register a batch's own bounds (sessionBoundsOf its items) while it is in flight; returns
   * them merged with those of the batches already in flight, for its guesses, and the
   * function that removes them.
   */
  enter(own: SessionBounds): { known: SessionBounds; leave: () => void } {
    const known = this.batches.size === 0 ? own : mergeBounds([own, ...this.batches]);
    if (own.starts.size === 0 && own.ends.size === 0) return { known, leave: () => undefined };
    this.batches.add(own);
    return { known, leave: () => void this.batches.delete(own) };
  }
}
