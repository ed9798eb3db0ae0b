import path from 'node:path';
import type Redis from 'ioredis';
import type { Sql } from 'postgres';
import {
  spawnProcess,
  testRedisUrl,
  useStreamTestEnv,
  type EnvelopeInput,
  type SpawnedProcess,
  type StreamTestEnv,
  type TestStreamKeys,
} from '@fuel-code/testing';

export const WORKER_JS = path.join(__dirname, '..', 'dist', 'worker.js');

export interface WorkerOptions {
  keys: TestStreamKeys;
  databaseUrl: string;
  redisUrl?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Another build of the worker (default: this package's dist). */
  workerJs?: string;
}

/** The built worker as a real child process, logging pino JSON lines on stdout. */
export function spawnWorker(o: WorkerOptions): SpawnedProcess {
  return spawnProcess(process.execPath, [o.workerJs ?? WORKER_JS, 'run', ...(o.args ?? [])], {
    env: {
      PATH: process.env['PATH'] ?? '',
      REDIS_URL: o.redisUrl ?? testRedisUrl(),
      DATABASE_URL: o.databaseUrl,
      EVENTS_STREAM: o.keys.stream,
      CONSUMER_GROUP: o.keys.group,
      DEAD_LETTER_STREAM: o.keys.deadLetter,
      WORKER_HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      ...o.env,
    },
  });
}

export async function publishAll(redis: Redis, stream: string, events: readonly EnvelopeInput[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const pipeline = redis.pipeline();
    for (const e of events.slice(i, i + 1000)) pipeline.xadd(stream, '*', 'event', JSON.stringify(e));
    for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
  }
}

export async function countEvents(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM events`;
  return row?.n ?? 0;
}

export async function groupPending(redis: Redis, keys: TestStreamKeys): Promise<number> {
  const summary = (await redis.xpending(keys.stream, keys.group)) as [number, ...unknown[]];
  return summary[0];
}

export interface WorkerProcessEnv extends StreamTestEnv {
  /** Worker processes to SIGKILL after the test, if still running. */
  readonly workers: SpawnedProcess[];
}

/** The lifecycle the worker-process test files share: one database, fresh keys per test, cleanup. */
export function useWorkerProcessEnv(databaseLabel: string, keyLabel: string): WorkerProcessEnv {
  const workers: SpawnedProcess[] = [];
  const env = useStreamTestEnv(
    { beforeAll, beforeEach, afterEach, afterAll },
    { databaseLabel, keyLabel, cleanUp: () => Promise.all(workers.splice(0).map((w) => w.kill('SIGKILL'))) },
  );
  return Object.assign(env, { workers });
}
