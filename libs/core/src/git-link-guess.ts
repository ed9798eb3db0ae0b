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

const keyOf = (workspaceId: string, deviceId: string) => `${workspaceId}\u0000${deviceId}`;

/**
 * For each git event to link, the session among the batch's own starts that covers it by the
 * rule (same workspace and device, started at or before it, not ended before it by an end in
 * the batch; the latest started, then the higher id), or null. insertEvents weighs it against
 * the committed sessions, so a git event lands with its link even when its session starts in
 * the same batch (the session upsert runs after the insert). Only a guess: the git insert
 * computes the exact link under the lock and corrects the few it gets wrong.
 */
export function gitLinkGuesses(items: readonly StoredItem[], linked: (event: FuelEvent) => boolean): Map<string, LinkGuess | null> {
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
      const ms = Date.parse(event.timestamp);
      const id = event.data.cc_session_id;
      if (!(ms >= (ends.get(id) ?? Infinity))) ends.set(id, ms);
    }
  }
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
