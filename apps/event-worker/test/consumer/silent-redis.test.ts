import { gitCommitEvent, startTcpProxy, testRedisUrl, waitFor, withHostPort, type TcpProxy } from '@fuel-code/testing';
import { countEvents, groupPending, publishAll, useConsumerTestEnv } from './helpers';

const env = useConsumerTestEnv('silent_redis');
let proxy: TcpProxy | undefined;

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

/** The CLIENT LIST line of the consumer's reading connection, if it has one. */
async function readingConnection(name: string): Promise<string | undefined> {
  return String(await env.redis.client('LIST'))
    .split('\n')
    .find((line) => line.includes(` name=fc-read:${name} `));
}

test('a blocked read served while its connections are silent: what it took is read back and stored long before any reclaim; a bad entry is dead-lettered once', async () => {
  const target = new URL(testRedisUrl());
  proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 6379) });
  // No reclaim for 10 minutes: whatever is stored below was not taken back from an idle PEL.
  const consumer = env.start({ redisUrl: withHostPort(testRedisUrl(), proxy.host, proxy.port), blockMs: 5000, claimIdleMs: 600_000 });
  await consumer.logs.waitForLine('Event consumer started');
  const blocked = await waitFor(async () => {
    const line = await readingConnection(consumer.name);
    return line !== undefined && / flags=b /.test(line) ? line : undefined;
  }, 10_000, { description: 'the read to be blocked in Redis' });

  await proxy.silenceOpen();
  // The same read is still blocked in Redis: the next XADD is handed to it, and its reply
  // (with the entries) stays in the silent connection.
  const id = /\bid=(\d+)/.exec(blocked)?.[1];
  expect(await readingConnection(consumer.name)).toContain(`id=${id} `);
  const events = Array.from({ length: 5 }, () => gitCommitEvent(null));
  const ids = events.map((e) => e.id);
  // And one bad entry: its dead letter lands once, whichever connection it is written on.
  const [, badId] = await publishAll(env.redis, env.keys.stream, [events[0] ?? '', 'not json', ...events.slice(1)]);
  // The first XADD woke the read: what it took is pending for this consumer, its reply lost.
  const handed = (await env.redis.xpending(env.keys.stream, env.keys.group, '-', '+', 10, consumer.name)) as unknown[];
  expect(handed.length).toBeGreaterThanOrEqual(1);

  // The watchdog replaces the connection; the consumer reads its own pending entries back.
  await waitFor(async () => (await countEvents(env.db.sql, ids)) === 5, 30_000, { description: 'the 5 entries of the lost reply stored' });
  await waitFor(async () => (await groupPending(env.redis, env.keys)) === 0, 10_000, { description: 'pending 0' });
  const deadLetters = await env.redis.xrange(env.keys.deadLetter, '-', '+');
  expect(deadLetters.map(([, fields]) => fields[fields.indexOf('stream_id') + 1])).toEqual([badId]);
  expect(consumer.handle.counters().deadLettered).toEqual({ invalid: 1, failed: 0 });
  // Whether the dead-letter script itself met the silent connection depends on which command
  // hit the silence first (the bounded read-back usually does); either way it landed once.
  expect(consumer.logs.find('Blocking read is stuck').length).toBeGreaterThanOrEqual(1);
  expect(consumer.logs.find('dropping the silent connection')).toHaveLength(1);
});
