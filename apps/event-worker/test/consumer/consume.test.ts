import {
  gitCommitEvent,
  makeEvent,
  sessionStartEvent,
  waitFor,
} from '@fuel-code/testing';
import { createHandlerRegistry } from '@fuel-code/core';
import { useConsumerTestEnv, countEvents, groupPending, publishAll, readDeadLetters } from './helpers';

const env = useConsumerTestEnv('consume');

test('a published event becomes a row in events, and its entry is acknowledged', async () => {
  const consumer = env.start();
  const event = gitCommitEvent(null);
  await publishAll(env.redis, env.keys.stream, [event]);
  await waitFor(() => countEvents(env.db.sql, [event.id]), 10_000, { description: 'the event row' });
  await waitFor(async () => (await groupPending(env.redis, env.keys)) === 0, 5000, { description: 'pending 0' });
  expect(consumer.handle.counters().processed).toBe(1);
});

test('session.start becomes a sessions row', async () => {
  env.start();
  await publishAll(env.redis, env.keys.stream, [sessionStartEvent('consume-session-1')]);
  const row = await waitFor(async () => (await env.db.sql`SELECT lifecycle FROM sessions WHERE id = 'consume-session-1'`)[0], 10_000);
  expect(row['lifecycle']).toBe('detected');
});

test('a duplicate is stored once and counted as a duplicate', async () => {
  const consumer = env.start();
  const event = gitCommitEvent(null);
  await publishAll(env.redis, env.keys.stream, [event, event, event]);
  await waitFor(() => consumer.handle.counters().duplicates === 2, 10_000, { description: '2 duplicates' });
  expect(await countEvents(env.db.sql, [event.id])).toBe(1);
  expect(consumer.handle.counters().processed).toBe(1);
  expect(await groupPending(env.redis, env.keys)).toBe(0);
});

test('entries published before the consumer started are processed (group from id 0)', async () => {
  const events = [gitCommitEvent(null), gitCommitEvent(null)];
  await publishAll(env.redis, env.keys.stream, events);
  env.start();
  await waitFor(async () => (await countEvents(env.db.sql, events.map((e) => e.id))) === 2, 10_000);
});

test('a throwing handler: the event is persisted, the error logged and recorded, the entry acknowledged', async () => {
  const registry = createHandlerRegistry({
    'git.push': async () => {
      throw new Error('push handler broke');
    },
  });
  const consumer = env.start({ registry });
  const event = makeEvent('git.push', { data: { branch: 'main', remote: 'origin', commit_count: 1 } });
  await publishAll(env.redis, env.keys.stream, [event]);
  await waitFor(() => countEvents(env.db.sql, [event.id]), 10_000);
  const line = await consumer.logs.waitForLine('push handler broke');
  expect(line).toMatchObject({ eventId: event.id, type: 'git.push', level: 50 });
  const [failure] = await env.db.sql`SELECT error_message FROM event_handler_failures WHERE event_id = ${event.id}`;
  expect(failure?.['error_message']).toBe('push handler broke');
  await waitFor(async () => (await groupPending(env.redis, env.keys)) === 0, 5000);
  expect(await readDeadLetters(env.redis, env.keys.deadLetter)).toHaveLength(0);
});

test('log lines: Event consumer started lists the handlers; the stats line appears on its interval', async () => {
  const consumer = env.start({ statsIntervalMs: 200 });
  const started = await consumer.logs.waitForLine('Event consumer started');
  expect(started['registeredHandlers']).toEqual(
    ['git.checkout', 'git.commit', 'git.merge', 'git.push', 'session.compact', 'session.end', 'session.start', 'skill.invoke', 'subagent.start', 'subagent.stop', 'team.create', 'team.message', 'worktree.create', 'worktree.remove'],
  );
  await publishAll(env.redis, env.keys.stream, [gitCommitEvent(null), gitCommitEvent(null)]);
  const stats = await consumer.logs.waitForLine(/^Consumer stats: 2 processed, 0 duplicates, 0 errors, 0 pending$/, 10_000);
  expect(stats.level).toBe(30);
});
