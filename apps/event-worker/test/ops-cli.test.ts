import type Redis from 'ioredis';
import { startEventConsumer } from '../src/wire';
import { acknowledge, ensureConsumerGroup, readFromStream } from '@fuel-code/stream';
import {
  captureLogs,
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  gitCommitEvent,
  spawnProcess,
  testRedisUrl,
  uniqueStreamKeys,
  waitFor,
  type TestDatabase,
  type TestStreamKeys,
} from '@fuel-code/testing';
import { addDeadLetter as addDeadLetterThroughGroup } from './dead-letters';
import { WORKER_JS } from './worker-process';

let redis: Redis;
let keys: TestStreamKeys;

beforeAll(() => {
  redis = createTestRedis();
});
beforeEach(() => {
  keys = uniqueStreamKeys('ops');
});
afterEach(async () => {
  await deleteKeys(redis, keys);
});
afterAll(() => {
  redis.disconnect();
});

/** Run the built CLI with the test's stream keys; resolves with exit code and output. */
async function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawnProcess(process.execPath, [WORKER_JS, ...args], {
    env: {
      PATH: process.env['PATH'] ?? '',
      REDIS_URL: testRedisUrl(),
      EVENTS_STREAM: keys.stream,
      CONSUMER_GROUP: keys.group,
      DEAD_LETTER_STREAM: keys.deadLetter,
    },
  });
  const exit = await proc.exited;
  return { code: exit.code, stdout: proc.lines.map((l) => String(l.msg)).join('\n'), stderr: proc.stderr };
}

function json(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** A dead letter written the worker's way (deadLetterAndAck): its entry `streamId` added to a scratch stream and read by w1 first. */
function addDeadLetter(event: string | undefined, streamId: string, reason: 'invalid' | 'failed' = 'failed'): Promise<string> {
  return addDeadLetterThroughGroup(redis, keys.deadLetter, { event, streamId, reason });
}

test('status: stream length, group lag and pending, consumers with idle and pending, dead-letter count; table and --json', async () => {
  for (let i = 0; i < 6; i++) await redis.xadd(keys.stream, '*', 'event', JSON.stringify(gitCommitEvent(null)));
  await ensureConsumerGroup(redis, keys);
  const read = await readFromStream(redis, { ...keys, consumer: 'worker-a', count: 3 });
  await acknowledge(redis, keys, [read[0]?.id ?? '']);
  await readFromStream(redis, { ...keys, consumer: 'worker-b', count: 1 });
  await addDeadLetter('{}', '1-1');

  const asJson = await cli('status', '--json');
  expect(asJson.code).toBe(0);
  const s = json(asJson.stdout);
  expect(s).toMatchObject({ stream: keys.stream, exists: true, length: 6, dead_letter_stream: keys.deadLetter, dead_letters: 1 });
  expect(s['groups']).toEqual([
    {
      name: keys.group,
      lag: 2,
      pending: 3,
      entries_read: 4,
      last_delivered_id: expect.any(String) as string,
      oldest_pending_id: read[1]?.id,
      consumers: [
        { name: 'worker-a', pending: 2, idle_ms: expect.any(Number) as number },
        { name: 'worker-b', pending: 1, idle_ms: expect.any(Number) as number },
      ],
    },
  ]);

  const table = await cli('status');
  expect(table.code).toBe(0);
  expect(table.stdout).toContain(`Stream ${keys.stream}: 6 entries`);
  expect(table.stdout).toContain(`Dead letters (${keys.deadLetter}): 1`);
  expect(table.stdout).toMatch(new RegExp(`^${keys.group.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+2\\s+3\\s+${read[1]?.id}`, 'm'));
  expect(table.stdout).toMatch(/^worker-a\s+2\s+\d+(ms|\.\ds)$/m);
  expect(table.stdout).toMatch(/^worker-b\s+1\s+/m);
});

test('dead-letters list: id, stream id, reason, error, attempts, failed_at, payload preview (truncated), --limit, --json', async () => {
  const long = JSON.stringify({ id: 'x', data: { text: 'y'.repeat(500) } });
  const a = await addDeadLetter(long, '100-1', 'invalid');
  const b = await addDeadLetter('{"line":"one\ntwo"}', '100-2');
  await addDeadLetter(undefined, '100-3', 'invalid');

  const listed = await cli('dead-letters', 'list', '--limit', '2', '--json');
  expect(listed.code).toBe(0);
  const body = json(listed.stdout);
  expect(body).toMatchObject({ dead_letter_stream: keys.deadLetter, total: 3 });
  const [first, second] = body['dead_letters'] as Record<string, unknown>[];
  expect(first).toMatchObject({ id: a, stream_id: '100-1', reason: 'invalid', error: 'invalid: boom', attempts: 3, consumer: 'w1', payload_bytes: long.length });
  expect(Date.parse(String(first?.['failed_at']))).not.toBeNaN();
  expect(String(first?.['payload_preview'])).toHaveLength(80);
  expect(String(first?.['payload_preview'])).toMatch(/^\{"id":"x".*…$/);
  expect(second).toMatchObject({ id: b, payload_preview: '{"line":"one\\ntwo"}' });

  const text = await cli('dead-letters', 'list');
  expect(text.code).toBe(0);
  expect(text.stdout).toContain(`3 dead letters in ${keys.deadLetter}`);
  expect(text.stdout).toMatch(/^ID\s+STREAM ID\s+REASON\s+ATTEMPTS\s+FAILED AT\s+ERROR\s+PAYLOAD$/m);
  expect(text.stdout).toMatch(new RegExp(`^${a}\\s+100-1\\s+invalid\\s+3\\s+\\S+\\s+invalid: boom\\s+\\{"id":"x"`, 'm'));
  expect(text.stdout).toMatch(/\(empty\)$/m);

  const bad = await cli('dead-letters', 'list', '--limit', 'lots');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/Invalid --limit/);
});

test('dead-letters replay: --dry-run changes nothing; by id re-publishes and deletes; a running worker then processes it', async () => {
  const db: TestDatabase = await createTestDatabase('ops_replay');
  try {
    const event = gitCommitEvent(null);
    const a = await addDeadLetter(JSON.stringify(event), '5-5');
    const b = await addDeadLetter('{"other":true}', '6-6');

    const dry = await cli('dead-letters', 'replay', '--all', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would replay ${a} (stream id 5-5)`);
    expect(dry.stdout).toContain('Nothing was changed.');
    expect(await redis.exists(keys.stream)).toBe(0);
    expect(await redis.xlen(keys.deadLetter)).toBe(2);

    const replayed = await cli('dead-letters', 'replay', a, '--json');
    expect(replayed.code).toBe(0);
    expect(json(replayed.stdout)).toEqual({
      dry_run: false,
      outcomes: [{ id: a, status: 'replayed', stream_id: '5-5', new_id: expect.stringMatching(/^\d+-\d+$/) as string }],
    });
    const entries = await redis.xrange(keys.stream, '-', '+');
    expect(entries).toHaveLength(1);
    expect(entries[0]?.[1]).toEqual(['event', JSON.stringify(event)]);
    expect((await redis.xrange(keys.deadLetter, '-', '+')).map(([id]) => id)).toEqual([b]);

    // A worker consumes the replayed entry like any other.
    const logs = captureLogs('warn');
    const consumer = startEventConsumer({
      redis,
      sql: db.sql,
      logger: logs.logger,
      config: { stream: keys.stream, group: keys.group, deadLetterStream: keys.deadLetter, consumerName: 'replayer', batchSize: 10, inFlightBatches: 2, blockMs: 200, claimIdleMs: 60_000, maxAttempts: 3, statsIntervalMs: 60_000, stopTimeoutMs: 5000, stuckBatchMs: 60_000, maxEntryBytes: 1024 * 1024, maxBatchBytes: 4 * 1024 * 1024 },
    });
    try {
      await waitFor(async () => (await db.sql`SELECT 1 FROM events WHERE id = ${event.id}`).length === 1, 10_000, { description: 'replayed event stored' });
    } finally {
      await consumer.stop();
    }

    const missing = await cli('dead-letters', 'replay', '1-0');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('not found  1-0');

    const usage = await cli('dead-letters', 'replay', '--all', b);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/either dead-letter ids or --all/);
  } finally {
    await db.drop();
  }
});

test('dead-letters replay --all replays everything and reports what it skipped', async () => {
  await addDeadLetter('{"n":1}', '1-1');
  await addDeadLetter('{"n":2}', '2-2');
  const empty = await addDeadLetter(undefined, '3-3', 'invalid');
  const res = await cli('dead-letters', 'replay', '--all');
  expect(res.code).toBe(0);
  expect(res.stdout).toContain(`skipped    ${empty} (stream id 3-3): no event payload`);
  expect(res.stdout).toContain('Replayed 2, skipped 1, not found 0, failed 0.');
  expect((await redis.xrange(keys.stream, '-', '+')).map(([, f]) => f[1])).toEqual(['{"n":1}', '{"n":2}']);
  expect((await redis.xrange(keys.deadLetter, '-', '+')).map(([id]) => id)).toEqual([empty]);
});

test('dead-letters purge: refuses without --yes (exit 2, nothing deleted), deletes with it', async () => {
  await addDeadLetter('{}', '1-1');
  await addDeadLetter('{}', '2-2');
  const refused = await cli('dead-letters', 'purge');
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain(`Refusing to purge 2 dead letters from ${keys.deadLetter} without --yes`);
  expect(await redis.xlen(keys.deadLetter)).toBe(2);

  const purged = await cli('dead-letters', 'purge', '--yes');
  expect(purged.code).toBe(0);
  expect(purged.stdout).toContain(`Purged 2 dead letters from ${keys.deadLetter}.`);
  expect(await redis.xlen(keys.deadLetter)).toBe(0);
});

test('dead-letters purge <ids>: deletes only those ids, a later dead letter survives; a bad id is a usage error', async () => {
  const a = await addDeadLetter('{}', '1-1');
  const b = await addDeadLetter('{}', '2-2');
  const c = await addDeadLetter('{}', '3-3');
  expect((await cli('dead-letters', 'purge', a, c)).stderr).toContain(`Refusing to purge 2 dead letters from ${keys.deadLetter} without --yes`);
  const purged = await cli('dead-letters', 'purge', a, c, '--yes');
  expect(purged.code).toBe(0);
  expect(purged.stdout).toContain(`Purged 2 dead letters from ${keys.deadLetter}.`);
  expect((await redis.xrange(keys.deadLetter, '-', '+')).map(([id]) => id)).toEqual([b]);
  const bad = await cli('dead-letters', 'purge', 'nope', '--yes');
  expect(bad.code).toBe(2);
  expect(await redis.xlen(keys.deadLetter)).toBe(1);
});

test('--help of every operator command exits 0 and describes it', async () => {
  for (const [args, text] of [
    [['status', '--help'], /--json/],
    [['dead-letters', '--help'], /list.*\n.*\n.*\n\s+replay/],
    [['dead-letters', 'list', '--help'], /--limit <n>/],
    [['dead-letters', 'replay', '--help'], /--dry-run/],
    [['dead-letters', 'purge', '--help'], /--yes/],
  ] as const) {
    const res = await cli(...args);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(text);
    expect(res.stdout).toContain('DEAD_LETTER_STREAM');
  }
});
