import type Redis from 'ioredis';
import pino, { type Logger } from 'pino';
import type { Sql } from 'postgres';
import type { HandlerRegistry } from '@fuel-code/core';
import { DEFAULT_CONSUMER_CONFIG, type ConsumerConfig, type ConsumerHandle } from '@fuel-code/consumer';
import { startEventConsumer } from '../../src/wire';
import { createRedisConnection } from '@fuel-code/stream';
import {
  captureLogs,
  testRedisUrl,
  useStreamTestEnv,
  type EnvelopeInput,
  type LogCapture,
  type StreamTestEnv,
  type TestStreamKeys,
} from '@fuel-code/testing';

/** A command connection built the way the worker builds its own (command timeout, silence guard). */
export function consumerRedis(name: string, url = testRedisUrl(), logger: Logger = pino({ level: 'silent' })): Redis {
  return createRedisConnection({
    url,
    logger,
    connectionName: `fc-cmd:${name}`,
    commandTimeoutMs: 3000,
    queueWhileDisconnected: true,
    reconnectDelayMs: (t) => Math.min(t * 100, 1000),
  });
}

export interface RunningConsumer {
  handle: ConsumerHandle;
  logs: LogCapture;
  redis: Redis;
  name: string;
  stop(): Promise<void>;
}

let counter = 0;

export function runConsumer(
  sql: Sql,
  keys: TestStreamKeys,
  overrides: Partial<ConsumerConfig> & { registry?: HandlerRegistry; redisUrl?: string } = {},
): RunningConsumer {
  const { registry, redisUrl, ...config } = overrides;
  const name = config.consumerName ?? `consumer-${process.pid}-${++counter}`;
  const logs = captureLogs('debug');
  const redis = consumerRedis(name, redisUrl, logs.logger.child({ component: 'redis' }));
  const handle = startEventConsumer({
    redis,
    sql,
    ...(registry ? { registry } : {}),
    logger: logs.logger,
    backoff: { minTimeoutMs: 50, maxTimeoutMs: 500, reminderEveryMs: 2000 },
    config: {
      ...DEFAULT_CONSUMER_CONFIG,
      stream: keys.stream,
      group: keys.group,
      deadLetterStream: keys.deadLetter,
      consumerName: name,
      batchSize: 10,
      inFlightBatches: 2,
      blockMs: 1000,
      ...config,
    },
  });
  return {
    handle,
    logs,
    redis,
    name,
    async stop() {
      await handle.stop();
      redis.disconnect();
    },
  };
}

export async function publishAll(redis: Redis, stream: string, events: readonly (EnvelopeInput | string)[]): Promise<string[]> {
  const pipeline = redis.pipeline();
  for (const e of events) pipeline.xadd(stream, '*', 'event', typeof e === 'string' ? e : JSON.stringify(e));
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([err, id]) => {
    if (err) throw err;
    return String(id);
  });
}

export async function countEvents(sql: Sql, ids?: readonly string[]): Promise<number> {
  const rows = ids
    ? await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM events WHERE id = ANY(${ids as string[]})`
    : await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM events`;
  return rows[0]?.n ?? 0;
}

export async function groupPending(redis: Redis, keys: TestStreamKeys): Promise<number> {
  const summary = (await redis.xpending(keys.stream, keys.group)) as [number, ...unknown[]];
  return summary[0];
}

export interface DeadLetterRecord {
  id: string;
  fields: Map<string, Buffer>;
}

export async function readDeadLetters(redis: Redis, key: string): Promise<DeadLetterRecord[]> {
  const raw = (await redis.xrangeBuffer(key, '-', '+')) as [Buffer, Buffer[]][];
  return raw.map(([id, flat]) => {
    const fields = new Map<string, Buffer>();
    for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), flat[i + 1] ?? Buffer.alloc(0));
    return { id: id.toString(), fields };
  });
}

export function field(record: DeadLetterRecord | undefined, name: string): string | undefined {
  return record?.fields.get(name)?.toString();
}

type StartOverrides = Parameters<typeof runConsumer>[2] & { sql?: Sql };

export interface ConsumerTestEnv extends StreamTestEnv {
  /** Start a consumer on this test's keys (on the test database, or `sql`); it is stopped after the test. */
  start(overrides?: StartOverrides): RunningConsumer;
}

/** The lifecycle every consumer test file shares: one database, fresh keys per test, cleanup. */
export function useConsumerTestEnv(label: string): ConsumerTestEnv {
  const started: RunningConsumer[] = [];
  const env = useStreamTestEnv(
    { beforeAll, beforeEach, afterEach, afterAll },
    { databaseLabel: label, cleanUp: () => Promise.all(started.splice(0).map((c) => c.stop())) },
  );
  return Object.assign(env, {
    start({ sql, ...overrides }: StartOverrides = {}) {
      const consumer = runConsumer(sql ?? env.db.sql, env.keys, overrides);
      started.push(consumer);
      return consumer;
    },
  });
}
