import type { Sql, TransactionSql } from 'postgres';
import { createTestDatabase, waitFor, type TestDatabase } from '@fuel-code/testing';
import { installCommitNotify, listenForCommits, type CommittedGroup } from '../src/commit-feed';

let db: TestDatabase;
let received: { at: number; groups: CommittedGroup[] }[];
let errors: unknown[];
let unlisten: () => Promise<void>;

beforeAll(async () => {
  db = await createTestDatabase('commit_feed');
  await installCommitNotify(db.sql);
});
afterAll(() => db.drop());

beforeEach(async () => {
  received = [];
  errors = [];
  unlisten = await listenForCommits(
    db.sql,
    (at, groups) => received.push({ at, groups }),
    (err) => errors.push(err),
  );
});
afterEach(() => unlisten());

let seq = 0;
/** Insert one row per stamp into events, as the worker would, and return the ids. */
function insertRows(sql: Sql | TransactionSql, stamps: readonly number[]) {
  const ids = stamps.map(() => `01JBENCHFEED${String(++seq).padStart(14, '0')}`);
  return sql`
    INSERT INTO events (id, type, "timestamp", device_id, workspace_id, data)
    SELECT id, 'system.heartbeat', now(), 'dev', 'ws', jsonb_build_object('published_at_ms', p)
    FROM unnest(${ids}::text[], ${stamps as number[]}::bigint[]) AS r(id, p)
    ON CONFLICT (id) DO NOTHING`.then(() => ids);
}

/** Wait for the notification that carries `stamp`: every earlier commit's has arrived by then. */
const notificationWith = (stamp: number) =>
  waitFor(() => received.find((r) => r.groups.some((g) => g.publishedAtMs === stamp)), 5000, { description: `notification of ${stamp}` });

test('a committed insert is announced once, its rows grouped by publish stamp with the transaction start', async () => {
  const before = Date.now();
  const ingestedAt = await db.sql.begin(async (tx) => {
    await insertRows(tx, [1000, 1000, 2000]);
    const [row] = await tx<{ ms: number }[]>`SELECT extract(epoch FROM now())::float8 * 1000 AS ms`;
    return row?.ms ?? NaN;
  });
  const note = await notificationWith(1000);
  expect(received).toHaveLength(1);
  const groups = [...note.groups].sort((a, b) => a.publishedAtMs - b.publishedAtMs);
  expect(groups.map((g) => [g.publishedAtMs, g.count])).toEqual([
    [1000, 2],
    [2000, 1],
  ]);
  for (const g of groups) expect(g.ingestedAtMs).toBeCloseTo(ingestedAt, 2);
  expect(note.at).toBeGreaterThanOrEqual(before);
  expect(errors).toEqual([]);
});

test('nothing is announced for a rolled-back insert or one whose rows were all duplicates', async () => {
  const [dup] = await insertRows(db.sql, [3000]);
  await notificationWith(3000);
  await db.sql
    .begin(async (tx) => {
      await insertRows(tx, [4000]);
      throw new Error('roll back');
    })
    .catch(() => undefined);
  await db.sql`INSERT INTO events (id, type, "timestamp", device_id, workspace_id, data)
    VALUES (${dup ?? ''}, 'system.heartbeat', now(), 'dev', 'ws', '{"published_at_ms": 5000}') ON CONFLICT (id) DO NOTHING`;
  // Notifications arrive in commit order: once this one is here, the two above would have been.
  await insertRows(db.sql, [6000]);
  await notificationWith(6000);
  const stamps = received.flatMap((r) => r.groups.map((g) => g.publishedAtMs));
  expect(stamps).toEqual([3000, 6000]);
  expect(errors).toEqual([]);
});
