import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import {
  captureLogs,
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  gitCommitEvent,
  sessionEndEvent,
  sessionStartEvent,
  testRedisUrl,
  uniqueStreamKeys,
  waitFor,
  type TestDatabase,
  type TestStreamKeys,
} from '@fuel-code/testing';
import { ingest, startApp, startWorkerProcess, type Child, type TestApp } from './helpers';


let db: TestDatabase | undefined;
let t: TestApp | undefined;
let worker: Child | undefined;
let reader: Redis | undefined;
let keys: TestStreamKeys;

afterEach(async () => {
  await worker?.stop('SIGKILL');
  await t?.close();
  if (reader) {
    await deleteKeys(reader, keys);
    reader.disconnect();
  }
  await db?.drop();
});

interface SessionRow {
  lifecycle: string;
  started_at: Date | null;
  ended_at: Date | null;
  end_reason: string | null;
  duration_ms: number | null;
  git_branch: string | null;
  model: string | null;
  source: string | null;
}

test('a session POSTed to the API ends up in Postgres through the worker, ended, with its events', async () => {
  keys = uniqueStreamKeys('e2e');
  reader = createTestRedis();
  db = await createTestDatabase('api_e2e');
  t = await startApp(testRedisUrl(), captureLogs().logger, { eventsStream: keys.stream });

  const sessionId = `sess-${randomUUID()}`;
  const t0 = Date.parse('2025-03-01T10:00:00.000Z');
  const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString();
  const events = [
    sessionStartEvent(sessionId, { timestamp: at(0) }),
    gitCommitEvent(sessionId, { timestamp: at(10) }),
    gitCommitEvent(sessionId, { timestamp: at(20), data: { hash: 'def456', message: 'feat: another', files_changed: 1 } }),
    sessionEndEvent(sessionId, { timestamp: at(60), dataOverrides: { duration_ms: 60_000, end_reason: 'exit' } }),
  ];
  const res = await ingest(t.url, events);
  expect(res.status).toBe(202);
  expect(res.json()).toMatchObject({ ingested: 4, rejected: 0 });

  worker = startWorkerProcess(db.url, keys, testRedisUrl());
  const sql = db.sql;
  const w = worker;

  const session = await waitFor(
    async () => {
      if (w.process.exitCode !== null) throw new Error(`worker exited ${w.process.exitCode}: ${w.stderr()}${w.stdout()}`);
      const [row] = await sql<SessionRow[]>`
        SELECT lifecycle, started_at, ended_at, end_reason, duration_ms, git_branch, model, source
        FROM sessions WHERE id = ${sessionId}`;
      const [{ count } = { count: 0 }] = await sql<{ count: number }[]>`
        SELECT count(*)::int AS count FROM events WHERE session_id = ${sessionId}`;
      return row?.lifecycle === 'ended' && count === 4 ? row : undefined;
    },
    30_000,
    { description: 'the session row to be ended with its 4 events' },
  );

  expect(session).toEqual({
    lifecycle: 'ended',
    started_at: new Date(at(0)),
    ended_at: new Date(at(60)),
    end_reason: 'exit',
    duration_ms: 60_000,
    git_branch: 'main',
    model: 'claude-sonnet',
    source: 'startup',
  });
  const rows = await sql<{ id: string; type: string; data_type: string }[]>`
    SELECT id, type, jsonb_typeof(data) AS data_type FROM events WHERE session_id = ${sessionId} ORDER BY "timestamp"`;
  expect(rows).toEqual(events.map((e) => ({ id: e.id, type: e.type, data_type: 'object' })));
  expect(await reader.xlen(keys.deadLetter)).toBe(0);

  worker.process.kill('SIGTERM');
  const exit = await Promise.race([
    worker.exited,
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref()),
  ]);
  expect(exit).toEqual({ code: 0, signal: null });
});
