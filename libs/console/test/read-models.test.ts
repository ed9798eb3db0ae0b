import { createSqlClient } from '@fuel-code/db';
import {
  databaseState,
  eventsPerMinute,
  matchingDeadLetterIds,
  readConsumers,
  readDeadLetterPage,
  readDeadLettersPerHour,
  readStreamState,
  recentSessions,
  sessionEvents,
} from '@fuel-code/console';
import { deadLetterAndAck, ensureConsumerGroup, readFromStream } from '@fuel-code/stream';
import { useStreamTestEnv, withDatabase } from '@fuel-code/testing';

const ctx = useStreamTestEnv({ beforeAll, beforeEach, afterEach, afterAll }, { databaseLabel: 'console_read', keyLabel: 'console-read' });
const target = () => ({ stream: ctx.keys.stream, group: ctx.keys.group, deadLetterStream: ctx.keys.deadLetter });

async function addDeadLetters(n: number, at: (i: number) => { reason: 'invalid' | 'failed'; type: string }): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { reason, type } = at(i);
    ids.push(await deadLetterThroughConsumer(JSON.stringify({ id: `e${i}`, type }), `${i}-1`, reason, `err ${i}`));
  }
  return ids;
}

/** A dead letter written the way a worker writes one: read from a source stream, then moved. */
async function deadLetterThroughConsumer(event: string, streamId: string, reason: 'invalid' | 'failed', error: string): Promise<string> {
  const source = { stream: `${ctx.keys.deadLetter}:source`, group: 'source' };
  await ctx.redis.xadd(source.stream, streamId, 'event', event);
  await ensureConsumerGroup(ctx.redis, source);
  await readFromStream(ctx.redis, { ...source, consumer: 'c1', count: 1 });
  const id = await deadLetterAndAck(ctx.redis, { ...source, deadLetterStream: ctx.keys.deadLetter }, { event, streamId, reason, error, attempts: 3, consumer: 'c1' });
  if (id === undefined) throw new Error(`dead letter for ${streamId} was not written`);
  return id;
}

test('stream state: length, lag, pending and the oldest pending age; no group yet', async () => {
  for (let i = 0; i < 5; i++) await ctx.redis.xadd(ctx.keys.stream, '*', 'event', `{"n":${i}}`);
  expect(await readStreamState(ctx.redis, target())).toMatchObject({ length: 5, groupExists: false, pending: 0, consumers: 0 });
  await ctx.redis.xgroup('CREATE', ctx.keys.stream, ctx.keys.group, '0');
  await ctx.redis.xreadgroup('GROUP', ctx.keys.group, 'c1', 'COUNT', 2, 'STREAMS', ctx.keys.stream, '>');
  const oldest = (await ctx.redis.xrange(ctx.keys.stream, '-', '+', 'COUNT', 1))[0]?.[0] ?? '';
  const state = await readStreamState(ctx.redis, target(), Number(oldest.split('-')[0]) + 7_000);
  expect(state).toMatchObject({ length: 5, groupExists: true, lag: 3, pending: 2, oldestPendingId: oldest, oldestPendingAgeMs: 7_000, deadLetters: 0, consumers: 1 });
  const consumers = await readConsumers(ctx.redis, target());
  expect(consumers).toHaveLength(1);
  expect(consumers[0]).toMatchObject({ name: 'c1', pending: 2 });
  expect(consumers[0]?.lastDeliveryMs).toBeGreaterThanOrEqual(0);
  expect(await readConsumers(ctx.redis, { ...target(), group: 'none' })).toEqual([]);
});

test('dead-letter pages: newest first, paged by cursor; filtered by reason and type with a bounded scan', async () => {
  const ids = await addDeadLetters(25, (i) => ({ reason: i % 5 === 0 ? 'invalid' : 'failed', type: i % 2 === 0 ? 'git.commit' : 'session.start' }));
  const first = await readDeadLetterPage(ctx.redis, ctx.keys.deadLetter, { pageSize: 10, scanLimit: 1000 });
  expect(first.rows.map((r) => r.id)).toEqual(ids.slice(15).reverse());
  expect(first.rows[0]).toMatchObject({ type: 'git.commit', reason: 'failed', error: 'err 24', attempts: 3, consumer: 'c1' });
  const last = await readDeadLetterPage(ctx.redis, ctx.keys.deadLetter, { pageSize: 10, scanLimit: 1000, before: ids[5] });
  expect(last.rows.map((r) => r.id)).toEqual(ids.slice(0, 5).reverse());
  expect(last.nextBefore).toBeUndefined();
  expect(first.nextBefore).toBe(ids[15]);

  const invalidCommits = await readDeadLetterPage(ctx.redis, ctx.keys.deadLetter, { pageSize: 10, scanLimit: 1000, filter: { reason: 'invalid', type: 'git.commit' } });
  expect(invalidCommits.rows.map((r) => r.id)).toEqual([ids[20], ids[10], ids[0]]);
  // Bounded: only the newest 6 are read; the page says so and where to go on.
  const bounded = await readDeadLetterPage(ctx.redis, ctx.keys.deadLetter, { pageSize: 10, scanLimit: 6, filter: { reason: 'invalid' } });
  expect(bounded).toMatchObject({ scanned: 6, scanLimitReached: true, nextBefore: ids[19] });
  expect(bounded.rows.map((r) => r.id)).toEqual([ids[20]]);

  expect(await matchingDeadLetterIds(ctx.redis, ctx.keys.deadLetter, { reason: 'invalid' }, 1000)).toEqual({ ids: [20, 15, 10, 5, 0].map((i) => ids[i]), scanLimitReached: false });
  expect((await matchingDeadLetterIds(ctx.redis, ctx.keys.deadLetter, {}, 7)).scanLimitReached).toBe(true);
});

test('dead letters per hour by reason, counted inside Redis, bounded', async () => {
  const hour = 3_600_000;
  const now = Math.floor(Date.now() / hour) * hour + 30 * 60_000;
  // Oldest first (stream ids only grow); the first is outside the 24 hours.
  const at = [now - 30 * hour, now - 2 * hour, now - 2 * hour + 1, now - 1000, now - 999, now - 998];
  const reasons = ['failed', 'failed', 'invalid', 'failed', 'failed', 'invalid'];
  for (const [i, ms] of at.entries()) await ctx.redis.xadd(ctx.keys.deadLetter, `${ms}-0`, 'event', '{}', 'reason', reasons[i] ?? '');
  const h = await readDeadLettersPerHour(ctx.redis, ctx.keys.deadLetter, { hours: 24, maxScan: 100, now });
  expect(h.hours).toHaveLength(24);
  expect(h.byReason.get('failed')?.slice(-3)).toEqual([1, 0, 2]);
  expect(h.byReason.get('invalid')?.slice(-3)).toEqual([1, 0, 1]);
  expect(h).toMatchObject({ scanned: 5, truncated: false });
  expect((await readDeadLettersPerHour(ctx.redis, ctx.keys.deadLetter, { hours: 24, maxScan: 2, now })).truncated).toBe(true);
});

test('PostgreSQL: events per minute, recent sessions with names, a session timeline; read-only seen', async () => {
  const sql = ctx.db.sql;
  const now = Date.now();
  await sql`INSERT INTO sessions (id, workspace_id, device_id, lifecycle, duration_ms) VALUES ('s1', 'w1', 'd1', 'ended', 60000)`;
  await sql`INSERT INTO workspaces (id, canonical_id, display_name) VALUES ('w1', 'github.com/acme/app', 'app')`;
  for (const [id, minutesAgo, type] of [['e1', 0, 'session.start'], ['e2', 0, 'git.commit'], ['e3', 3, 'session.end'], ['e4', 90, 'git.push']] as const) {
    await sql`INSERT INTO events (id, type, "timestamp", device_id, workspace_id, session_id, data, ingested_at)
      VALUES (${id}, ${type}, ${new Date(now - minutesAgo * 60_000)}, 'd1', 'w1', 's1', '{}', ${new Date(now - minutesAgo * 60_000)})`;
  }
  const perMinute = await eventsPerMinute(sql, 60, now);
  expect(perMinute).toHaveLength(60);
  expect(perMinute[59]?.count).toBe(2);
  expect(perMinute[56]?.count).toBe(1);
  expect(perMinute.reduce((n, m) => n + m.count, 0)).toBe(3);
  const [s1] = await recentSessions(sql, 10);
  expect(s1).toMatchObject({ id: 's1', lifecycle: 'ended', workspace: 'app', device: 'd1', durationMs: 60000, events: 4 });
  expect((await sessionEvents(sql, 's1', 10)).map((e) => e.id)).toEqual(['e4', 'e3', 'e1', 'e2']);

  expect(await databaseState(sql)).toEqual({ state: 'writable' });
  const readOnly = createSqlClient({ url: withDatabase(ctx.db.url, ctx.db.name), max: 1 });
  try {
    await readOnly`SET SESSION default_transaction_read_only = on`;
    expect(await databaseState(readOnly)).toMatchObject({ state: 'read-only' });
  } finally {
    await readOnly.end({ timeout: 2 });
  }
});
