import type { ProcessResult } from '@fuel-code/core';
import {
  ackStored,
  bisectRefused,
  createCounters,
  createDeadLetters,
  deadLetterExhausted,
  limitAttempts,
  measureAttempts,
  parseEntries,
  retryOutages,
  wrap,
  type ConsumerObserver,
  type StoreEvents,
} from '@fuel-code/consumer';
import { TransientError } from '@fuel-code/core';
import { captureLogs, gitCommitEvent, waitFor } from '@fuel-code/testing';
import { useLoopTestEnv } from './loop-helpers';

// The event pipeline's wrappers around a fake store, run by the real loop: Redis only.
const env = useLoopTestEnv('pipeline');

const stored = (batch: Parameters<StoreEvents>[0]): ProcessResult[] =>
  batch.map((d) => ({ eventId: d.event.id, type: d.event.type, status: 'processed', payload: 'valid', handlerResults: [] }) as unknown as ProcessResult);

/** The worker's composition (apps/event-worker wire.ts) around `store`, minus the outage breaker. */
function pipeline(store: StoreEvents, consumerName: string, observer: ConsumerObserver = {}) {
  const logs = captureLogs('debug');
  const logger = logs.logger;
  const counters = createCounters();
  const config = { stream: env.keys.stream, group: env.keys.group, deadLetterStream: env.keys.deadLetter, consumerName };
  const writeDeadLetter = createDeadLetters({ redis: env.redis, config, counters, logger, observer });
  const backoff = { minTimeoutMs: 20, maxTimeoutMs: 100, reminderEveryMs: 10_000 };
  const attempt = wrap(store, measureAttempts({ counters, logger, observer }), retryOutages({ logger, backoff }));
  const handle = parseEntries({ writeDeadLetter, logger })(
    wrap(ackStored(attempt), limitAttempts({ maxAttempts: 3, logger }), deadLetterExhausted(writeDeadLetter), bisectRefused({ logger })),
  );
  return { handle, logs, counters };
}

async function deadLetters(): Promise<Record<string, string>[]> {
  const raw = (await env.redis.xrange(env.keys.deadLetter, '-', '+')) as [string, string[]][];
  return raw.map(([, flat]) => Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1] ?? '']] : []))) as Record<string, string>);
}

test('a poison event in a batch: the batch is bisected, the poison retried up to maxAttempts then dead-lettered, its neighbours stored once', async () => {
  const events = Array.from({ length: 8 }, () => gitCommitEvent(null));
  const poison = events[5]?.id;
  const storedIds: string[] = [];
  const store: StoreEvents = async (batch) => {
    if (batch.some((d) => d.event.id === poison)) throw new Error('refused: poison');
    storedIds.push(...batch.map((d) => d.event.id));
    return stored(batch);
  };
  const p = pipeline(store, 'poisoned');
  await env.redis.xgroup('CREATE', env.keys.stream, env.keys.group, '0', 'MKSTREAM');
  await env.publish(...events.map((e) => JSON.stringify(e)));
  env.start(p.handle, { consumerName: 'poisoned', batchSize: 10, claimIdleMs: 2000 });

  await waitFor(async () => (await env.pending()) === 0 && (await env.redis.xlen(env.keys.deadLetter)) === 1, 15_000, { description: 'settled' });
  expect(storedIds.sort()).toEqual(events.map((e) => e.id).filter((id) => id !== poison).sort());
  const [letter] = await deadLetters();
  expect(letter).toMatchObject({ reason: 'failed', error: 'refused: poison', attempts: '3', consumer: 'poisoned', event: JSON.stringify(events[5]) });
  expect(p.logs.find('Batch of 8 refused; splitting it to isolate the cause')).toHaveLength(1);
  expect(p.logs.find(`Event ${poison} failed (attempt 1 of 3): refused: poison`)).toHaveLength(1);
  expect(p.logs.find(`Event ${poison} permanently failed after 3 attempts: refused: poison`)).toHaveLength(1);
  expect(p.counters).toMatchObject({ processed: 7, errors: 3, deadLettered: { invalid: 0, failed: 1 } });
});

test('an entry that is not an event is dead-lettered as invalid at once, without reaching the store', async () => {
  const good = gitCommitEvent(null);
  const seen: string[] = [];
  const p = pipeline(async (batch) => {
    seen.push(...batch.map((d) => d.event.id));
    return stored(batch);
  }, 'parser');
  env.start(p.handle, { consumerName: 'parser' });
  const [badId] = await env.publish('{not json', JSON.stringify(good));
  await waitFor(async () => (await env.pending()) === 0 && seen.length === 1, 10_000, { description: 'settled' });
  const [letter] = await deadLetters();
  expect(letter).toMatchObject({ reason: 'invalid', stream_id: badId, attempts: '1', event: '{not json' });
  expect(seen).toEqual([good.id]);
  expect(p.logs.find(`Invalid stream entry ${badId} dead-lettered`)).toHaveLength(1);
});

test('an outage is waited out: never an attempt, never a dead letter, and the events are stored when it ends', async () => {
  let down = true;
  let tries = 0;
  const outcomes: string[] = [];
  const p = pipeline(
    async (batch) => {
      tries++;
      if (down) throw new TransientError('postgres', 'connection refused');
      return stored(batch);
    },
    'outage',
    { onAttempt: (_size, outcome) => outcomes.push(outcome) },
  );
  env.start(p.handle, { consumerName: 'outage' });
  await env.publish(JSON.stringify(gitCommitEvent(null)), JSON.stringify(gitCommitEvent(null)));
  await waitFor(() => tries >= 5, 10_000, { description: 'several tries during the outage' });
  down = false;
  await waitFor(async () => (await env.pending()) === 0, 10_000, { description: 'stored after the outage' });
  expect(outcomes).toEqual(['ok']);
  expect(p.counters.errors).toBe(0);
  expect(await env.redis.xlen(env.keys.deadLetter)).toBe(0);
  expect(p.logs.find('postgres unavailable during processing a batch of 2; backing off until it answers')).toHaveLength(1);
});
