import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { ackedOf, pollGroup } from '../src/drain-scenario';

/*
 * The warm-up of `--scaling --warm-up-events`: the clock starts when the group has acked that
 * many entries. Real Redis: a consumer acks a stream's entries a few at a time while the
 * bench's poll waits for the count.
 */

const redis = new Redis(process.env['REDIS_URL'] || 'redis://127.0.0.1:6379', { lazyConnect: true });
const suffix = randomBytes(4).toString('hex');
const keys = { stream: `test:warm-up:${suffix}`, group: `warm-up-${suffix}`, deadLetter: `test:warm-up:${suffix}:dlq` };

beforeAll(async () => {
  await redis.connect();
  await redis.xgroup('CREATE', keys.stream, keys.group, '0', 'MKSTREAM');
  for (let i = 0; i < 10; i++) await redis.xadd(keys.stream, '*', 'event', `{"n":${i}}`);
});
afterAll(async () => {
  await redis.del(keys.stream);
  redis.disconnect();
});

/** Read `count` new entries as consumer c1 and ack them. */
async function ackNext(count: number): Promise<void> {
  const reply = (await redis.xreadgroup('GROUP', keys.group, 'c1', 'COUNT', count, 'STREAMS', keys.stream, '>')) as [string, [string, string[]][]][] | null;
  const ids = reply?.[0]?.[1].map(([id]) => id) ?? [];
  if (ids.length > 0) await redis.xack(keys.stream, keys.group, ...ids);
}

test('the poll returns once the group has acked the warm-up, and not before', async () => {
  let acking = true;
  const acker = (async () => {
    while (acking) {
      await ackNext(1);
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
  })();
  try {
    const warmed = await pollGroup(redis, keys, [], { label: 'warm-up test', total: 10, since: 0 }, (s) => (ackedOf(s) ?? 0) >= 4);
    const acked = ackedOf(warmed.state);
    expect(acked).not.toBeNull();
    expect(acked ?? 0).toBeGreaterThanOrEqual(4);
    expect(acked ?? 0).toBeLessThan(10);
  } finally {
    acking = false;
    await acker;
  }
});
