import {
  gitCommitEvent,
  waitFor,
} from '@fuel-code/testing';
import { useConsumerTestEnv, countEvents, groupPending, publishAll } from './helpers';

const env = useConsumerTestEnv('redis_conn');

/** CLIENT KILL every connection whose name ends with the consumer's name; returns how many. */
async function killConnectionsOf(name: string): Promise<number> {
  const list = String(await env.redis.client('LIST'));
  const ids = list
    .split('\n')
    .map((line) => ({ id: /\bid=(\d+)/.exec(line)?.[1], name: /\bname=(\S*)/.exec(line)?.[1] ?? '' }))
    .filter((c) => c.id && (c.name === `fc-read:${name}` || c.name === `fc-cmd:${name}`));
  for (const c of ids) await env.redis.client('KILL', 'ID', c.id ?? '');
  return ids.length;
}

test('killing its Redis connections, again and again, does not stop the consumer', async () => {
  const consumer = env.start({ blockMs: 5000 });
  await consumer.logs.waitForLine('Event consumer started');
  const published: string[] = [];
  for (let round = 0; round < 3; round++) {
    // Wait until it is blocked in XREADGROUP on its reading connection, then cut both.
    await waitFor(async () => String(await env.redis.client('LIST')).includes(`name=fc-read:${consumer.name} `), 5000);
    expect(await killConnectionsOf(consumer.name)).toBeGreaterThanOrEqual(1);
    const events = Array.from({ length: 5 }, () => gitCommitEvent(null));
    published.push(...events.map((e) => e.id));
    await publishAll(env.redis, env.keys.stream, events);
    await waitFor(async () => (await countEvents(env.db.sql, published)) === published.length, 15_000, {
      description: `round ${round}: events after the kill`,
    });
  }
  await waitFor(async () => (await groupPending(env.redis, env.keys)) === 0, 5000, { description: 'pending 0' });
  expect(consumer.handle.health().running).toBe(true);
});
