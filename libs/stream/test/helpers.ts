import type Redis from 'ioredis';
import { deadLetterAndAck, type DeadLetter } from '@fuel-code/stream';
import { createTestRedis, deleteKeys, uniqueStreamKeys, type TestStreamKeys } from '@fuel-code/testing';

export interface PendingRow {
  id: string;
  consumer: string;
  idleMs: number;
  deliveries: number;
}

/**
 * One Redis client per test file and fresh stream keys per test, deleted afterwards.
 * `ctx.redis` and `ctx.keys` are valid inside tests (set in beforeAll / beforeEach).
 */
export function useRedisKeys(label: string): { redis: Redis; keys: TestStreamKeys } {
  const ctx = {} as { redis: Redis; keys: TestStreamKeys };
  beforeAll(() => {
    ctx.redis = createTestRedis();
  });
  beforeEach(() => {
    ctx.keys = uniqueStreamKeys(label);
  });
  afterEach(async () => {
    await deleteKeys(ctx.redis, ctx.keys);
  });
  afterAll(async () => {
    await ctx.redis.quit();
  });
  return ctx;
}

/** XPENDING extended form, parsed. */
export async function pendingRows(redis: Redis, stream: string, group: string, count = 10_000): Promise<PendingRow[]> {
  const rows = (await redis.xpending(stream, group, '-', '+', count)) as [string, string, number, number][];
  return rows.map(([id, consumer, idleMs, deliveries]) => ({ id, consumer, idleMs, deliveries }));
}

/** Make entries look idle for `idleMs` without sleeping (XCLAIM ... IDLE, JUSTID keeps the delivery count). */
export async function setIdle(redis: Redis, stream: string, group: string, consumer: string, ids: string[], idleMs: number): Promise<void> {
  await redis.xclaim(stream, group, consumer, 0, ...ids, 'IDLE', idleMs, 'JUSTID');
}

let scratchCount = 0;

/**
 * Write a dead letter the way the consumer does (deadLetterAndAck, the one place that knows
 * its fields): the entry is added under `d.streamId` to a scratch stream, read there by
 * `d.consumer`, then dead-lettered into `deadLetterStream`. Returns the dead letter's id.
 */
export async function addDeadLetterForTest(redis: Redis, deadLetterStream: string, d: DeadLetter): Promise<string> {
  const scratch = { stream: `${deadLetterStream}:source:${process.pid}:${++scratchCount}`, group: 'dead-letter-source' };
  try {
    await redis.xadd(scratch.stream, d.streamId, 'event', d.event ?? '');
    await redis.xgroup('CREATE', scratch.stream, scratch.group, '0');
    await redis.xreadgroup('GROUP', scratch.group, d.consumer, 'COUNT', 1, 'STREAMS', scratch.stream, '>');
    const id = await deadLetterAndAck(redis, { ...scratch, deadLetterStream }, d);
    if (id === undefined) throw new Error('the scratch entry was not pending');
    return id;
  } finally {
    await redis.del(scratch.stream);
  }
}
