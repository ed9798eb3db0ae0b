import type Redis from 'ioredis';
import { createTestDatabase, type TestDatabase } from './databases';
import { createTestRedis, deleteKeys, uniqueStreamKeys, type TestStreamKeys } from './redis';

/**
 * The test runner's hooks, passed in (`{ beforeAll, beforeEach, afterEach, afterAll }`) so this
 * library builds without the runner's types.
 */
export interface TestHooks {
  beforeAll(fn: () => Promise<void>): void;
  beforeEach(fn: () => void): void;
  afterEach(fn: () => Promise<void>): void;
  afterAll(fn: () => Promise<void>): void;
}

export interface StreamTestEnv {
  /** This file's database (set in beforeAll). */
  readonly db: TestDatabase;
  /** A client for the test's own reads and writes. */
  readonly redis: Redis;
  /** This test's stream, group and dead-letter keys (fresh in beforeEach). */
  readonly keys: TestStreamKeys;
}

export interface StreamTestEnvOptions {
  databaseLabel: string;
  /** Prefix of each test's keys; the database label when omitted. */
  keyLabel?: string;
  /** After each test, before its keys are deleted: stop what the test started. */
  cleanUp?: () => Promise<unknown>;
}

/** The lifecycle stream tests share: one database per file, fresh keys per test, cleanup. */
export function useStreamTestEnv(hooks: TestHooks, o: StreamTestEnvOptions): StreamTestEnv {
  const state = {} as { db: TestDatabase; redis: Redis; keys: TestStreamKeys };
  hooks.beforeAll(async () => {
    state.db = await createTestDatabase(o.databaseLabel);
    state.redis = createTestRedis();
  });
  hooks.beforeEach(() => {
    state.keys = uniqueStreamKeys(o.keyLabel ?? o.databaseLabel);
  });
  hooks.afterEach(async () => {
    await o.cleanUp?.();
    await deleteKeys(state.redis, state.keys);
  });
  hooks.afterAll(async () => {
    state.redis.disconnect();
    await state.db.drop();
  });
  return {
    get db() {
      return state.db;
    },
    get redis() {
      return state.redis;
    },
    get keys() {
      return state.keys;
    },
  };
}
