import type Redis from 'ioredis';
import { toStreamEntry, type StreamEntry } from './entries';
import { nextStreamId } from './retention';
import { publish } from './stream';

/** One entry of the dead-letter stream, as an operator reads it (docs/contract.md §2 fields). */
export interface DeadLetterRecord {
  /** Its id in the dead-letter stream: what `replay` takes. */
  id: string;
  /** The original `event` field value, byte for byte (empty when the entry had none). */
  event: Buffer;
  /** The original entry's id in the main stream. */
  streamId: string;
  reason: string;
  error: string;
  attempts: number | undefined;
  consumer: string;
  failedAt: string;
  /** 'fields' when the original entry was in the fuel-code server's fields format. */
  format: 'event' | 'fields';
}

export function toDeadLetterRecord(entry: StreamEntry): DeadLetterRecord {
  const text = (name: string) => entry.fields.get(name)?.toString('utf8') ?? '';
  const attempts = Number(text('attempts'));
  return {
    id: entry.id,
    event: entry.fields.get('event') ?? Buffer.alloc(0),
    streamId: text('stream_id'),
    reason: text('reason'),
    error: text('error'),
    attempts: text('attempts') !== '' && Number.isFinite(attempts) ? attempts : undefined,
    consumer: text('consumer'),
    failedAt: text('failed_at'),
    format: text('format') === 'fields' ? 'fields' : 'event',
  };
}

async function range(redis: Redis, key: string, start: string, end: string, count: number): Promise<DeadLetterRecord[]> {
  const reply: unknown = await redis.callBuffer('XRANGE', key, start, end, 'COUNT', count);
  const records: DeadLetterRecord[] = [];
  for (const raw of Array.isArray(reply) ? (reply as unknown[]) : []) {
    const entry = toStreamEntry(raw);
    if (entry) records.push(toDeadLetterRecord(entry));
  }
  return records;
}

/**
 * Write a dead letter's original entry back to the main stream: the `event` bytes as they
 * were, or for a fields-format entry its fields as they were.
 */
async function republish(redis: Redis, stream: string, r: DeadLetterRecord): Promise<string> {
  if (r.format !== 'fields') return publish(redis, stream, r.event);
  const fields = JSON.parse(r.event.toString('utf8')) as Record<string, string>;
  const id = await redis.xadd(stream, '*', ...Object.entries(fields).flat());
  if (!id) throw new Error(`XADD to ${stream} returned no id`);
  return id;
}

/** The oldest `limit` dead letters (oldest first). */
export function listDeadLetters(redis: Redis, deadLetterStream: string, limit: number): Promise<DeadLetterRecord[]> {
  return range(redis, deadLetterStream, '-', '+', limit);
}

/** Ids per pipeline round trip: a console selection of thousands costs a few round trips, not thousands. */
const IDS_PER_ROUND_TRIP = 500;

/** The dead letters with these ids, in the order given; a missing id maps to undefined. */
export async function getDeadLetters(redis: Redis, deadLetterStream: string, ids: readonly string[]): Promise<Map<string, DeadLetterRecord | undefined>> {
  const found = new Map<string, DeadLetterRecord | undefined>();
  for (let i = 0; i < ids.length; i += IDS_PER_ROUND_TRIP) {
    const chunk = ids.slice(i, i + IDS_PER_ROUND_TRIP);
    const pipeline = redis.pipeline();
    for (const id of chunk) pipeline.callBuffer('XRANGE', deadLetterStream, id, id, 'COUNT', 1);
    const replies = (await pipeline.exec()) ?? [];
    chunk.forEach((id, n) => {
      const [err, reply] = replies[n] ?? [new Error('no reply')];
      if (err) throw err;
      const entry = Array.isArray(reply) ? toStreamEntry(reply[0]) : undefined;
      found.set(id, entry ? toDeadLetterRecord(entry) : undefined);
    });
  }
  return found;
}

/** The newest id in a stream, or undefined when it is empty or missing. */
async function newestId(redis: Redis, key: string): Promise<string | undefined> {
  const last = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
  return last[0]?.[0];
}

export type ReplayOutcome =
  | { id: string; streamId: string; status: 'replayed'; newId: string }
  | { id: string; streamId: string; status: 'would-replay' }
  | { id: string; streamId: string; status: 'skipped'; reason: string }
  | { id: string; status: 'not-found' }
  | { id: string; streamId: string; status: 'failed'; error: string };

export interface ReplayOptions {
  stream: string;
  deadLetterStream: string;
  /** Report what would be replayed and change nothing. */
  dryRun?: boolean;
}

/** All dead letters present when replay starts (ones written meanwhile are left for next time), or these ids. */
export type ReplaySelection = { all: true } | { ids: readonly string[] };

/**
 * Re-publish dead letters to the main stream with the single field `event` (the original
 * bytes), oldest first, and delete each one only after its publish succeeded. An entry with
 * no event payload is skipped (it would only be dead-lettered again). Stops at the first
 * failed publish, leaving that dead letter and the rest in place.
 */
export async function replayDeadLetters(redis: Redis, selection: ReplaySelection, o: ReplayOptions): Promise<ReplayOutcome[]> {
  const outcomes: ReplayOutcome[] = [];
  const replayOne = async (r: DeadLetterRecord): Promise<boolean> => {
    if (r.event.length === 0) {
      outcomes.push({ id: r.id, streamId: r.streamId, status: 'skipped', reason: 'no event payload' });
      return true;
    }
    if (o.dryRun) {
      outcomes.push({ id: r.id, streamId: r.streamId, status: 'would-replay' });
      return true;
    }
    let newId: string;
    try {
      newId = await republish(redis, o.stream, r);
    } catch (err) {
      outcomes.push({ id: r.id, streamId: r.streamId, status: 'failed', error: err instanceof Error ? err.message : String(err) });
      return false;
    }
    await redis.xdel(o.deadLetterStream, r.id);
    outcomes.push({ id: r.id, streamId: r.streamId, status: 'replayed', newId });
    return true;
  };

  if ('ids' in selection) {
    for (const [id, record] of await getDeadLetters(redis, o.deadLetterStream, selection.ids)) {
      if (!record) outcomes.push({ id, status: 'not-found' });
      else if (!(await replayOne(record))) break;
    }
    return outcomes;
  }
  // A replayed event that fails again is dead-lettered anew, after the snapshot: not looped on.
  const last = await newestId(redis, o.deadLetterStream);
  if (last === undefined) return outcomes;
  let start = '-';
  for (;;) {
    const page = await range(redis, o.deadLetterStream, start, last, 100);
    for (const record of page) if (!(await replayOne(record))) return outcomes;
    const lastOfPage = page[page.length - 1];
    if (!lastOfPage || page.length < 100) return outcomes;
    start = `(${lastOfPage.id}`;
  }
}

/**
 * Delete exactly these dead letters (XDEL), nothing else: what an operator saw and confirmed,
 * never "whatever matches now". Returns how many existed and were deleted.
 */
export async function purgeDeadLetterIds(redis: Redis, deadLetterStream: string, ids: readonly string[]): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < ids.length; i += IDS_PER_ROUND_TRIP) {
    deleted += await redis.xdel(deadLetterStream, ...ids.slice(i, i + IDS_PER_ROUND_TRIP));
  }
  return deleted;
}

/**
 * Delete every dead letter present now (XTRIM MINID past the newest one, so a dead letter
 * written meanwhile survives). Returns how many were deleted.
 */
export async function purgeDeadLetters(redis: Redis, deadLetterStream: string): Promise<number> {
  const last = await newestId(redis, deadLetterStream);
  if (last === undefined) return 0;
  return redis.xtrim(deadLetterStream, 'MINID', nextStreamId(last));
}
