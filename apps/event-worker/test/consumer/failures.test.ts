import {
  gitCommitEvent,
  makeEvent,
  waitFor,
} from '@fuel-code/testing';
import { useConsumerTestEnv, countEvents, field, groupPending, publishAll, readDeadLetters } from './helpers';

const env = useConsumerTestEnv('failures');

test('poison: every kind of invalid entry is dead-lettered with its original bytes; the good ones around it are processed', async () => {
  const good = [gitCommitEvent(null), gitCommitEvent(null), gitCommitEvent(null)];
  const badType = JSON.stringify(makeEvent('not a type name'));
  const badSchema = JSON.stringify({ ...makeEvent('git.commit'), id: 'nope' });
  const notJson = '{"id": "01HZY8K3V4Q5R6S7T8V9W0X1YZ", ';
  const badBytes = Buffer.from([0xff, 0xfe, 0x00, 0x7b]);

  await publishAll(env.redis, env.keys.stream, [good[0]!, notJson, badSchema]);
  const noEventId = await env.redis.xadd(env.keys.stream, '*', 'payload', 'no event field here');
  const badBytesId = await env.redis.xadd(env.keys.stream, '*', 'event', badBytes);
  await publishAll(env.redis, env.keys.stream, [badType, good[1]!, good[2]!]);

  const consumer = env.start();
  await waitFor(async () => (await readDeadLetters(env.redis, env.keys.deadLetter)).length === 5, 10_000, { description: '5 dead letters' });
  await waitFor(async () => (await countEvents(env.db.sql, good.map((e) => e.id))) === 3, 10_000);
  await waitFor(async () => (await groupPending(env.redis, env.keys)) === 0, 5000, { description: 'pending 0' });

  const letters = await readDeadLetters(env.redis, env.keys.deadLetter);
  for (const letter of letters) {
    expect(field(letter, 'reason')).toBe('invalid');
    expect(field(letter, 'consumer')).toBe(consumer.name);
    expect(field(letter, 'attempts')).toBe('1');
    expect(new Date(field(letter, 'failed_at') ?? '').toISOString()).toBe(field(letter, 'failed_at'));
    expect(field(letter, 'error')).toBeTruthy();
  }
  const events = letters.map((l) => l.fields.get('event'));
  expect(events).toContainEqual(Buffer.from(notJson));
  expect(events).toContainEqual(Buffer.from(badSchema));
  expect(events).toContainEqual(Buffer.from(badType));
  expect(events).toContainEqual(badBytes);
  const noEvent = letters.find((l) => field(l, 'stream_id') === noEventId);
  expect(noEvent?.fields.get('event')).toEqual(Buffer.alloc(0));
  expect(field(noEvent, 'error')).toMatch(/neither an `event` field nor the fields format/);
  expect(letters.find((l) => field(l, 'stream_id') === badBytesId)?.fields.get('event')).toEqual(badBytes);
  expect(field(letters.find((l) => l.fields.get('event')?.equals(Buffer.from(badSchema))), 'error')).toMatch(/^id: /);
  expect(consumer.handle.counters().deadLettered.invalid).toBe(5);
});

test.each([10, 500])('a value Postgres refuses (batch size %i) is retried without a restart and dead-lettered after exactly 3 attempts', async (batchSize) => {
  const good = Array.from({ length: 100 }, () => gitCommitEvent(null));
  // A value the parser accepts but this database refuses for good (a CHECK of the test's own).
  await env.db.sql`DO $$ BEGIN
    ALTER TABLE events ADD CONSTRAINT events_no_poison CHECK (NOT (data ? 'poison'));
  EXCEPTION WHEN duplicate_object THEN NULL; END $$`;
  const refused = makeEvent('system.heartbeat', { data: { poison: true } });
  const all = [...good.slice(0, 50), refused, ...good.slice(50)];
  await publishAll(env.redis, env.keys.stream, all);

  const consumer = env.start({ maxAttempts: 3, batchSize });
  const line = await consumer.logs.waitForLine(`Event ${refused.id} permanently failed after 3 attempts`, 20_000);
  expect(line.level).toBe(50);

  expect(await countEvents(env.db.sql, good.map((e) => e.id))).toBe(100);
  expect(await countEvents(env.db.sql, [refused.id])).toBe(0);
  const letters = await readDeadLetters(env.redis, env.keys.deadLetter);
  expect(letters).toHaveLength(1);
  expect(field(letters[0], 'reason')).toBe('failed');
  expect(field(letters[0], 'attempts')).toBe('3');
  expect(letters[0]?.fields.get('event')).toEqual(Buffer.from(JSON.stringify(refused)));
  expect(field(letters[0], 'error')).toMatch(/events_no_poison/);
  // Two earlier attempts were warned about, and not dead-lettered early.
  expect(consumer.logs.find(`Event ${refused.id} failed (attempt`).map((l) => l['attempt'])).toEqual([1, 2]);
  expect(consumer.handle.counters().errors).toBe(3);
  await waitFor(async () => (await groupPending(env.redis, env.keys)) === 0, 5000, { description: 'pending 0' });
});

test('stop() returns promptly while idle in a 5 s BLOCK', async () => {
  const consumer = env.start({ blockMs: 5000 });
  await consumer.logs.waitForLine('Event consumer started');
  await publishAll(env.redis, env.keys.stream, [gitCommitEvent(null)]);
  await waitFor(() => consumer.handle.counters().processed === 1, 5000);
  // Now blocked in XREADGROUP BLOCK 5000.
  const started = Date.now();
  await consumer.stop();
  expect(Date.now() - started).toBeLessThan(2000);
  expect(consumer.handle.health().running).toBe(false);
  await consumer.stop(); // idempotent
});

test('stop() while busy finishes and acknowledges the batch in hand within 10 s', async () => {
  const events = Array.from({ length: 3000 }, () => gitCommitEvent(null));
  await publishAll(env.redis, env.keys.stream, events);
  const consumer = env.start({ batchSize: 50 });
  await waitFor(() => (consumer.handle.counters().processed ?? 0) >= 100, 20_000);
  const started = Date.now();
  await consumer.stop();
  expect(Date.now() - started).toBeLessThan(10_000);
  const processed = consumer.handle.counters().processed;
  expect(processed).toBeLessThan(3000);
  // Everything it processed is acknowledged: nothing of its own is left pending.
  expect(await groupPending(env.redis, env.keys)).toBe(0);
  expect(await countEvents(env.db.sql, events.map((e) => e.id))).toBe(processed);
});
