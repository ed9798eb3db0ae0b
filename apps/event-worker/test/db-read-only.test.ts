import { createSqlClient } from '@fuel-code/db';
import { freePort, gitCommitEvent, waitFor, withDatabase } from '@fuel-code/testing';
import { countEvents, groupPending, publishAll, spawnWorker, useWorkerProcessEnv } from './worker-process';

/** This file's one test makes its database read-only: it has that database to itself. */
const ctx = useWorkerProcessEnv('worker_read_only', 'readonly');

async function readyz(base: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('the database turns read-only: /readyz says so, the worker keeps every event pending and dead-letters none; lifted, all are stored once', async () => {
  const port = await freePort();
  const worker = spawnWorker({ keys: ctx.keys, databaseUrl: ctx.db.url, env: { WORKER_HTTP_PORT: String(port) } });
  ctx.workers.push(worker);
  const base = `http://127.0.0.1:${port}`;
  await worker.waitForLine('Event consumer started', 20_000);
  expect(await readyz(base)).toMatchObject({ status: 200, body: { status: 'ready', postgres: 'ok' } });

  const admin = createSqlClient({ url: withDatabase(ctx.db.url, 'postgres'), max: 1 });
  try {
    // New sessions of this database start read-only, and every open one is ended.
    await admin.unsafe(`ALTER DATABASE "${ctx.db.name}" SET default_transaction_read_only = on`);
    await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${ctx.db.name}`;
    const rolledBackBefore = await rollbacks();
    const events = Array.from({ length: 50 }, () => gitCommitEvent(null));
    await publishAll(ctx.redis, ctx.keys.stream, events);

    const notReady = await waitFor(async () => {
      const r = await readyz(base);
      return r.status === 503 && r.body['postgres'] === 'read-only' ? r : undefined;
    }, 15_000, { description: '/readyz 503 naming read-only' });
    expect(notReady.body).toMatchObject({ status: 'not ready', redis: 'ok', postgres: 'read-only' });
    await worker.waitForLine(/^postgres unavailable during/, 15_000);
    // Each refused attempt is a transaction rolled back: wait through several of them.
    await waitFor(async () => (await rollbacks()) - rolledBackBefore >= 5, 30_000, { description: 'five refused attempts' });
    expect(await countEvents(ctx.db.sql)).toBe(0);
    expect(await ctx.redis.xlen(ctx.keys.deadLetter)).toBe(0);
    expect(await groupPending(ctx.redis, ctx.keys)).toBeGreaterThan(0);
    expect((await readyz(base)).status).toBe(503);

    await admin.unsafe(`ALTER DATABASE "${ctx.db.name}" RESET default_transaction_read_only`);
    await waitFor(async () => (await countEvents(ctx.db.sql)) === events.length, 30_000, { description: 'all 50 events stored' });
    await waitFor(async () => (await groupPending(ctx.redis, ctx.keys)) === 0, 10_000, { description: 'pending 0' });
    await waitFor(async () => (await readyz(base)).status === 200, 15_000, { description: '/readyz back to 200' });
    const [row] = await ctx.db.sql<{ n: number; distinct: number }[]>`SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct FROM events`;
    expect(row).toEqual({ n: 50, distinct: 50 });
    expect(await ctx.redis.xlen(ctx.keys.deadLetter)).toBe(0);
    expect(worker.lines.filter((l) => l['level'] === 50)).toEqual([]);
    expect(worker.child.exitCode).toBeNull();
  } finally {
    await admin.unsafe(`ALTER DATABASE "${ctx.db.name}" RESET default_transaction_read_only`).catch(() => undefined);
    await admin.end({ timeout: 2 });
  }

  async function rollbacks(): Promise<number> {
    const [stats] = await admin<{ n: string }[]>`SELECT xact_rollback::text AS n FROM pg_stat_database WHERE datname = ${ctx.db.name}`;
    return Number(stats?.n ?? 0);
  }
});
