import type { ConsumerObserver } from '@fuel-code/consumer';
import { startEventConsumer } from '../../src/wire';
import {
  captureLogs,
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  gitCommitEvent,
  makeEvent,
  uniqueStreamKeys,
  waitFor,
  type TestDatabase,
} from '@fuel-code/testing';
import { consumerRedis, publishAll } from './helpers';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('observer');
});
afterAll(async () => {
  await db.drop();
});

test('the observer hears every outcome by type, dead letters by reason and batch sizes; a throwing observer changes nothing', async () => {
  const keys = uniqueStreamKeys('observer');
  const redis = createTestRedis();
  const calls: string[] = [];
  const observer: ConsumerObserver = {
    onEvents(type, outcome, count) {
      for (let i = 0; i < count; i++) calls.push(`event ${type} ${outcome}`);
      throw new Error('observer bug'); // must not reach the loop
    },
    onAttempt(size, outcome, durationMs) {
      calls.push(`attempt ${outcome} ${size}`);
      if (!(durationMs >= 0)) calls.push(`bad duration ${durationMs}`);
    },
    onDeadLetter(reason) {
      calls.push(`dead-letter ${reason}`);
      throw new Error('observer bug');
    },
    onBatch(size, origin) {
      calls.push(`batch ${origin} ${size}`);
    },
  };
  const logs = captureLogs('debug');
  const consumerConn = consumerRedis('observer');
  const handle = startEventConsumer({
    redis: consumerConn,
    sql: db.sql,
    logger: logs.logger,
    observer,
    backoff: { minTimeoutMs: 20, maxTimeoutMs: 100, reminderEveryMs: 10_000 },
    config: {
      stream: keys.stream,
      group: keys.group,
      deadLetterStream: keys.deadLetter,
      consumerName: 'observed',
      batchSize: 10,
      inFlightBatches: 2,
      blockMs: 200,
      claimIdleMs: 60_000,
      maxAttempts: 2,
      statsIntervalMs: 60_000,
      stopTimeoutMs: 5000,
      stuckBatchMs: 60_000,
      maxEntryBytes: 1024 * 1024,
      maxBatchBytes: 4 * 1024 * 1024,
    },
  });
  try {
    await logs.waitForLine('Event consumer started');
    // A value the parser accepts but this database refuses for good (a CHECK of the test's own).
    await db.sql`ALTER TABLE events ADD CONSTRAINT events_no_poison CHECK (NOT (data ? 'poison'))`;
    const commit = gitCommitEvent(null);
    await publishAll(redis, keys.stream, [
      commit,
      commit,
      'not json',
      makeEvent('git.push', { data: { branch: 'main', remote: 'origin', commit_count: 1, poison: true } }),
    ]);
    await waitFor(() => handle.counters().deadLettered.failed === 1, 10_000, { description: 'the poison event dead-lettered' });
    expect(handle.counters()).toMatchObject({ processed: 1, duplicates: 1, deadLettered: { invalid: 1, failed: 1 } });
    expect(calls.filter((c) => c.startsWith('event ')).sort()).toEqual([
      'event git.commit duplicate',
      'event git.commit processed',
      'event git.push failed',
      'event git.push failed',
    ]);
    expect(calls.filter((c) => c.startsWith('dead-letter ')).sort()).toEqual(['dead-letter failed', 'dead-letter invalid']);
    // However the entries fell into batches, the poison event ends alone and fails twice.
    expect(calls.filter((c) => c === 'attempt failed 1')).toHaveLength(2);
    expect(calls.some((c) => /^attempt ok \d+$/.test(c))).toBe(true);
    const batched = calls.filter((c) => c.startsWith('batch ')).map((c) => Number(c.split(' ')[2]));
    expect(batched.every((n) => n > 0)).toBe(true);
    expect(calls.some((c) => c.startsWith('batch new '))).toBe(true);
    expect(calls.some((c) => c.startsWith('bad duration'))).toBe(false);
    expect(handle.health().running).toBe(true);
    expect(logs.find('Consumer observer threw; ignored').length).toBeGreaterThan(0);
  } finally {
    await handle.stop();
    consumerConn.disconnect();
    await deleteKeys(redis, keys);
    redis.disconnect();
  }
});
