import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import postgres, { type Sql } from 'postgres';
import { redactUrl } from '@fuel-code/core';
import { Child, runToCompletion, stopAllChildren, type Launcher } from './children';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const WORKER_JS = path.join(REPO_ROOT, 'apps', 'event-worker', 'dist', 'worker.js');
export const REFERENCE_JS = path.join(__dirname, 'reference-worker.js');

export const REDIS_URL = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';
export const DATABASE_URL = process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The NODE_OPTIONS the worker's container runs with (Dockerfile.worker), so the bench measures
 * the worker as deployed; `--node-options ''` measures it without.
 */
export function containerNodeOptions(): string {
  const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile.worker'), 'utf8');
  return /^\s*NODE_OPTIONS=(\S+)/m.exec(dockerfile)?.[1] ?? '';
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export { redactUrl };

/** Clean-up steps still owed (databases, keys), run on the way out, Ctrl-C included. */
const cleanups = new Set<() => Promise<void>>();

export async function runAllCleanups(): Promise<void> {
  const steps = [...cleanups].reverse();
  cleanups.clear();
  for (const step of steps) await step().catch((err: unknown) => process.stderr.write(`cleanup failed: ${String(err)}\n`));
}

/** Owe a clean-up step (run on the way out, Ctrl-C included); the returned function drops it. */
export function addCleanup(step: () => Promise<void>): () => void {
  cleanups.add(step);
  return () => cleanups.delete(step);
}

export function openSql(url: string, max = 1): Sql {
  return postgres(url, { max, onnotice: () => undefined, connect_timeout: 10, connection: { application_name: 'fuel-code-bench' } });
}

export function openRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 2, connectionName: 'fuel-code-bench', lazyConnect: false });
}

export interface Shared {
  admin: Sql;
  redis: Redis;
  runId: string;
  /** NODE_OPTIONS of every worker and reference process. */
  nodeOptions: string;
}

export function openShared(nodeOptions: string): Shared {
  return { admin: openSql(DATABASE_URL, 1), redis: openRedis(), runId: randomBytes(3).toString('hex'), nodeOptions };
}

/** The end of every run, however it ends: children stopped, scratch state removed, clients closed. */
export async function closeRun(shared: Shared): Promise<void> {
  await stopAllChildren();
  await runAllCleanups();
  shared.redis.disconnect();
  await shared.admin.end({ timeout: 2 }).catch(() => undefined);
}

/** Both servers answer, or an error that says which does not. */
export async function checkShared(shared: Shared): Promise<void> {
  const why = (err: unknown) => (err instanceof Error ? err.message : String(err));
  try {
    await shared.admin`SELECT 1`;
  } catch (err) {
    throw new Error(`PostgreSQL at ${redactUrl(DATABASE_URL)} does not answer: ${why(err)}`);
  }
  try {
    await shared.redis.ping();
  } catch (err) {
    throw new Error(`Redis at ${redactUrl(REDIS_URL)} does not answer: ${why(err)}`);
  }
}

export interface ScenarioKeys {
  stream: string;
  group: string;
  deadLetter: string;
}

/** One scenario's own database and stream keys; `dispose` drops and deletes them. */
export interface ScenarioResources {
  label: string;
  dbName: string;
  dbUrl: string;
  sql: Sql;
  keys: ScenarioKeys;
  workerEnv: NodeJS.ProcessEnv;
  dispose(): Promise<void>;
}

let scenarioSeq = 0;

/** A fresh database (migrated by `worker.js migrate`) and fresh stream/group/dead-letter keys. */
export async function createScenario(shared: Shared, label: string): Promise<ScenarioResources> {
  scenarioSeq++;
  const dbName = `fc_bench_${randomBytes(5).toString('hex')}`;
  const prefix = `fc-bench:${shared.runId}:${scenarioSeq}`;
  const keys: ScenarioKeys = { stream: `${prefix}:events`, group: `fc-bench-${shared.runId}-${scenarioSeq}`, deadLetter: `${prefix}:dead-letter` };
  const dbUrl = withDatabase(DATABASE_URL, dbName);
  const opened: { sql?: Sql } = {};
  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    cleanups.delete(dispose);
    await opened.sql?.end({ timeout: 2 }).catch(() => undefined);
    await shared.redis.del(keys.stream, keys.deadLetter).catch((err: unknown) => process.stderr.write(`could not delete ${prefix}:*: ${String(err)}\n`));
    await shared.admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  };
  cleanups.add(dispose);
  await shared.redis.del(keys.stream, keys.deadLetter);
  await shared.admin.unsafe(`CREATE DATABASE "${dbName}"`);
  const workerEnv: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL,
    DATABASE_URL: dbUrl,
    EVENTS_STREAM: keys.stream,
    CONSUMER_GROUP: keys.group,
    DEAD_LETTER_STREAM: keys.deadLetter,
    WORKER_HTTP_PORT: '0',
    // info, not warn: `Event consumer started` is an info line and marks the start of the clock.
    // Nothing on the hot path logs at info (only boot, stats every 60 s, shutdown).
    LOG_LEVEL: 'info',
    NODE_OPTIONS: shared.nodeOptions,
  };
  delete workerEnv['CONSUMER_NAME'];
  await runToCompletion(`migrate (${label})`, WORKER_JS, ['migrate'], workerEnv, 60_000);
  const sql = openSql(dbUrl, 2);
  opened.sql = sql;
  await shared.redis.xgroup('CREATE', keys.stream, keys.group, '0', 'MKSTREAM');
  return { label, dbName, dbUrl, sql, keys, workerEnv, dispose };
}

/** XADD every JSON with the contract's single `event` field, pipelined. Returns the last id. */
export async function publishBacklog(redis: Redis, stream: string, jsons: readonly string[]): Promise<string> {
  let last = '';
  for (let i = 0; i < jsons.length; i += 2000) {
    const pipeline = redis.pipeline();
    for (const json of jsons.slice(i, i + 2000)) pipeline.xadd(stream, '*', 'event', json);
    for (const [err, id] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      last = String(id);
    }
  }
  return last;
}

export interface GroupState {
  pending: number;
  lastDeliveredId: string;
  entriesRead: number | null;
}

/** XINFO GROUPS for one group, as an object. */
export async function groupState(redis: Redis, keys: ScenarioKeys): Promise<GroupState> {
  const reply = (await redis.call('XINFO', 'GROUPS', keys.stream)) as unknown[];
  for (const raw of reply) {
    if (!Array.isArray(raw)) continue;
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < raw.length; i += 2) info.set(String(raw[i]), raw[i + 1]);
    if (info.get('name') !== keys.group) continue;
    const entriesRead = info.get('entries-read');
    return {
      pending: Number(info.get('pending')),
      lastDeliveredId: String(info.get('last-delivered-id')),
      entriesRead: typeof entriesRead === 'number' ? entriesRead : null,
    };
  }
  throw new Error(`consumer group ${keys.group} is gone from ${keys.stream}`);
}

export function startWorker(res: ScenarioResources, name: string, batchSize: number, launcher?: Launcher): Child {
  return new Child(name, WORKER_JS, ['run', '--batch-size', String(batchSize), '--consumer-name', name], res.workerEnv, launcher);
}

export function startReference(res: ScenarioResources, name: string, batchSize: number): Child {
  return new Child(name, REFERENCE_JS, ['--batch-size', String(batchSize), '--consumer-name', name], res.workerEnv);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
