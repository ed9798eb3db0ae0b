import type Redis from 'ioredis';
import {
  clientBackfillSession,
  clientEvent,
  clientSession,
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  seededRandom,
  tableSnapshot,
  uniqueStreamKeys,
  waitFor,
  type ClientDevice,
  type EnvelopeInput,
  type TableSnapshot,
} from '@fuel-code/testing';
import { countEvents, groupPending, publishAll, runConsumer } from './helpers';

/*
 * The final tables are a function of the set of events (docs/contract.md §3): whatever the
 * arrival order, the batch split, duplicate deliveries or the number of workers. Each run
 * below gets its own database and stream, and every table of every run must equal the first.
 */

const laptop: ClientDevice = { id: 'dev-laptop', name: 'Laptop', type: 'local' };
const desktop: ClientDevice = { id: 'dev-desktop', name: 'Desktop', type: 'local' };
const t0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000);

/** Several sessions' events: overlapping sessions on one workspace and device, others elsewhere. */
function scenario(): EnvelopeInput[] {
  const app = 'github.com/acme/app';
  const events = [
    ...clientSession({ sessionId: 'cc-a', workspaceId: app, device: laptop, startAt: at(0) }),
    // Starts while cc-a runs on the same workspace and device: later git events link to it.
    ...clientSession({ sessionId: 'cc-b', workspaceId: app, device: laptop, startAt: at(20), branch: 'feature' }),
    ...clientSession({ sessionId: 'cc-c', workspaceId: app, device: desktop, startAt: at(5) }),
    ...clientSession({ sessionId: 'cc-d', workspaceId: 'local:0123456789abcdef', device: laptop, startAt: at(200), cwd: '/tmp/scratch' }),
    ...clientBackfillSession({ sessionId: 'cc-old', workspaceId: app, device: desktop, startAt: at(-86_400), durationMs: 600_000 }),
    // A second, later start of cc-a (a resume) and a second end: the earliest of each wins.
    clientEvent('session.start', {
      device: laptop, workspaceId: app, sessionId: 'cc-a', at: at(40),
      data: { cc_session_id: 'cc-a', cwd: '/home/dev/other', git_branch: 'resumed', git_remote: null, cc_version: '2.0', model: 'm2', source: 'resume', transcript_path: '' },
    }),
    clientEvent('session.end', {
      device: laptop, workspaceId: app, sessionId: 'cc-a', at: at(500),
      data: { cc_session_id: 'cc-a', duration_ms: 0, end_reason: 'crash', transcript_path: '' },
    }),
    // Git activity after every session on the laptop ended, and a device renamed later on.
    clientEvent('git.commit', {
      device: { ...laptop, name: 'Laptop (renamed)' }, workspaceId: app, sessionId: null, at: at(1000),
      data: { hash: 'late', message: 'late', author_name: 'Dev', branch: 'main', files_changed: 1, insertions: 1, deletions: 0, is_worktree: false, worktree_name: null },
    }),
  ];
  return events;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

interface Run {
  label: string;
  order: (events: readonly EnvelopeInput[]) => EnvelopeInput[];
  workers: number;
  batchSize: number;
}

let redis: Redis;
beforeAll(() => {
  redis = createTestRedis();
});
afterAll(() => {
  redis.disconnect();
});

async function runOnce(events: readonly EnvelopeInput[], run: Run): Promise<TableSnapshot> {
  const db = await createTestDatabase('commute');
  const keys = uniqueStreamKeys('commute');
  const consumers: ReturnType<typeof runConsumer>[] = [];
  try {
    await publishAll(redis, keys.stream, run.order(events));
    for (let i = 0; i < run.workers; i++) consumers.push(runConsumer(db.sql, keys, { batchSize: run.batchSize, inFlightBatches: 2 }));
    const ids = [...new Set(events.map((e) => e.id))];
    await waitFor(async () => (await countEvents(db.sql, ids)) === ids.length, 30_000, { description: `${run.label}: every event stored` });
    await waitFor(async () => (await groupPending(redis, keys)) === 0, 10_000, { description: `${run.label}: nothing pending` });
    expect(await redis.xlen(keys.deadLetter)).toBe(0);
    await Promise.all(consumers.map((c) => c.stop()));
    return await tableSnapshot(db.sql);
  } finally {
    await Promise.all(consumers.map((c) => c.stop()));
    await deleteKeys(redis, keys);
    await db.drop();
  }
}

test.each([11, 29])('permutations, batch splits, duplicates and one to three workers give identical tables (seed %i)', async (seed) => {
  const random = seededRandom(seed);
  const events = scenario();
  const withDuplicates = (list: readonly EnvelopeInput[]) => [...list, ...list.filter(() => random() < 0.2)];
  const runs: Run[] = [
    { label: 'in time order, one worker, one batch', order: (e) => [...e].sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.id.localeCompare(b.id)), workers: 1, batchSize: 500 },
    { label: 'reverse time order, one worker, batches of 1', order: (e) => [...e].sort((a, b) => b.timestamp.localeCompare(a.timestamp) || b.id.localeCompare(a.id)), workers: 1, batchSize: 1 },
    { label: 'shuffled with duplicates, one worker, batches of 7', order: (e) => shuffled(withDuplicates(e), random), workers: 1, batchSize: 7 },
    { label: 'shuffled with duplicates, two workers, batches of 5', order: (e) => shuffled(withDuplicates(e), random), workers: 2, batchSize: 5 },
    { label: 'shuffled with duplicates, three workers, batches of 3', order: (e) => shuffled(withDuplicates(e), random), workers: 3, batchSize: 3 },
  ];
  const [first, ...rest] = runs;
  if (!first) throw new Error('no runs');
  const expected = await runOnce(events, first);
  // The snapshot covers real rows: every session, and git activity where the table exists.
  expect(expected['sessions']).toHaveLength(5);
  expect(expected['events']).toHaveLength(new Set(events.map((e) => e.id)).size);
  for (const run of rest) {
    const actual = await runOnce(events, run);
    for (const table of Object.keys(expected)) expect({ run: run.label, table, rows: actual[table] }).toEqual({ run: run.label, table, rows: expected[table] });
  }
});
