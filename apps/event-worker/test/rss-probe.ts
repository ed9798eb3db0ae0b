import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type Redis from 'ioredis';
import { gitCommitEvent } from '@fuel-code/testing';

/**
 * Peak resident set size of a running process in bytes: the kernel's own high-water mark
 * (VmHWM), so no sample can miss a short peak. Undefined once the process is gone.
 */
export async function peakRssBytes(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const kb = status && /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : undefined;
}

/** A valid git.commit event padded to about `bytes` of JSON (the padding is deterministic per `seed`). */
export function paddedEventJson(seed: number, bytes: number): string {
  const event = gitCommitEvent(null);
  const bare = JSON.stringify({ ...event, data: { ...event.data, padding: '' } });
  const padding = `${seed}:`.padEnd(Math.max(0, bytes - bare.length), String.fromCharCode(97 + (seed % 26)));
  return JSON.stringify({ ...event, data: { ...event.data, padding } });
}

export const sha256 = (value: string | Buffer): string => createHash('sha256').update(value).digest('hex');

/**
 * XADD each entry on its own (a pipeline would hold them all in this process at once);
 * returns the stream ids and the sha256 of each payload, so the big strings can be dropped.
 */
export async function publishEach(redis: Redis, stream: string, payloads: Iterable<string>): Promise<{ id: string; sha: string; bytes: number }[]> {
  const published: { id: string; sha: string; bytes: number }[] = [];
  for (const json of payloads) {
    const id = await redis.xadd(stream, '*', 'event', json);
    if (!id) throw new Error('XADD returned no id');
    published.push({ id, sha: sha256(json), bytes: Buffer.byteLength(json) });
  }
  return published;
}

export interface DeadLetterDigest {
  streamId: string;
  reason: string;
  error: string;
  eventSha: string;
  eventBytes: number;
}

/** Every dead letter, one XRANGE at a time (each may be megabytes), reduced to a digest. */
export async function digestDeadLetters(redis: Redis, key: string): Promise<DeadLetterDigest[]> {
  const digests: DeadLetterDigest[] = [];
  let start = '-';
  for (;;) {
    const page = (await redis.xrangeBuffer(key, start, '+', 'COUNT', 1)) as [Buffer, Buffer[]][];
    const [entry] = page;
    if (!entry) return digests;
    const fields = new Map<string, Buffer>();
    for (let i = 0; i + 1 < entry[1].length; i += 2) fields.set(String(entry[1][i]), entry[1][i + 1] ?? Buffer.alloc(0));
    const event = fields.get('event') ?? Buffer.alloc(0);
    digests.push({
      streamId: String(fields.get('stream_id') ?? ''),
      reason: String(fields.get('reason') ?? ''),
      error: String(fields.get('error') ?? ''),
      eventSha: sha256(event),
      eventBytes: event.length,
    });
    start = `(${entry[0].toString()}`;
  }
}
