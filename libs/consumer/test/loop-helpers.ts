import type Redis from 'ioredis';
import { DEFAULT_CONSUMER_CONFIG, startConsumer, type ConsumerConfig, type ConsumerHandle, type HandleEntries } from '@fuel-code/consumer';
import { createRedisConnection } from '@fuel-code/stream';
import { captureLogs, createTestRedis, deleteKeys, testRedisUrl, uniqueStreamKeys, type LogCapture, type TestStreamKeys } from '@fuel-code/testing';

export interface TestLoop {
  handle: ConsumerHandle;
  logs: LogCapture;
  name: string;
  stop(): Promise<void>;
}

/** Redis alone: fresh keys per test, a client for the test's own calls, every loop stopped after it. */
export function useLoopTestEnv(label: string) {
  const state = {} as { redis: Redis; keys: TestStreamKeys };
  const started: TestLoop[] = [];
  let counter = 0;
  beforeAll(() => {
    state.redis = createTestRedis();
  });
  beforeEach(() => {
    state.keys = uniqueStreamKeys(label);
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((l) => l.stop()));
    await deleteKeys(state.redis, state.keys);
  });
  afterAll(() => {
    state.redis.disconnect();
  });

  /** Start a consume loop on this test's keys with `handle` as its handler. */
  function start(handle: HandleEntries, overrides: Partial<ConsumerConfig> = {}): TestLoop {
    const name = overrides.consumerName ?? `loop-${process.pid}-${++counter}`;
    const logs = captureLogs('debug');
    const conn = createRedisConnection({ url: testRedisUrl(), logger: logs.logger, connectionName: `fc-cmd:${name}`, commandTimeoutMs: 3000, queueWhileDisconnected: true });
    const consumer = startConsumer({
      redis: conn,
      handle,
      logger: logs.logger,
      backoff: { minTimeoutMs: 50, maxTimeoutMs: 500, reminderEveryMs: 2000 },
      config: {
        ...DEFAULT_CONSUMER_CONFIG,
        stream: state.keys.stream,
        group: state.keys.group,
        deadLetterStream: state.keys.deadLetter,
        consumerName: name,
        batchSize: 10,
        inFlightBatches: 2,
        blockMs: 1000,
        ...overrides,
      },
    });
    const loop: TestLoop = {
      handle: consumer,
      logs,
      name,
      async stop() {
        await consumer.stop();
        conn.disconnect();
      },
    };
    started.push(loop);
    return loop;
  }

  return {
    get redis() {
      return state.redis;
    },
    get keys() {
      return state.keys;
    },
    start,
    /** XADD entries with one field `event` = each value; returns their ids. */
    async publish(...values: string[]): Promise<string[]> {
      const ids: string[] = [];
      for (const v of values) ids.push((await state.redis.xadd(state.keys.stream, '*', 'event', v)) ?? '');
      return ids;
    },
    async pending(): Promise<number> {
      const summary = (await state.redis.xpending(state.keys.stream, state.keys.group)) as [number, ...unknown[]];
      return summary[0];
    },
    /** Entries read by a consumer that then died: pending, and made to look idle for `idleMs`. */
    async ghostReads(count: number, idleMs: number): Promise<string[]> {
      const reply = (await state.redis.xreadgroup('GROUP', state.keys.group, 'ghost', 'COUNT', count, 'STREAMS', state.keys.stream, '>')) as
        | [string, [string, string[]][]][]
        | null;
      const ids = (reply?.[0]?.[1] ?? []).map(([id]) => id);
      if (ids.length > 0) await state.redis.xclaim(state.keys.stream, state.keys.group, 'ghost', 0, ...ids, 'IDLE', idleMs, 'JUSTID');
      return ids;
    },
    async ownerOf(id: string): Promise<string | undefined> {
      const rows = (await state.redis.xpending(state.keys.stream, state.keys.group, id, id, 1)) as [string, string, number, number][];
      return rows[0]?.[1];
    },
  };
}

/** A handler that records what it sees and answers `decide` (ack by default). */
export function recordingHandler(decide: (id: string, delivery: number) => 'ack' | 'retry' | Promise<'ack' | 'retry'> = () => 'ack') {
  const seen: { id: string; delivery: number; value: string }[] = [];
  const handle: HandleEntries = async (batch) => {
    const outcomes = new Map<string, 'ack' | 'retry'>();
    for (const { entry, delivery } of batch) {
      seen.push({ id: entry.id, delivery, value: entry.fields.get('event')?.toString() ?? '' });
      outcomes.set(entry.id, await decide(entry.id, delivery));
    }
    return outcomes;
  };
  return { handle, seen };
}

/** A promise and its resolver: lets a test hold a handler until it says so. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}
