import postgres, { type Sql } from 'postgres';
import { createSqlClient, reconnectDelaySeconds } from '@fuel-code/db';
import { startTcpProxy, testDatabaseUrl, waitFor, withHostPort, type TcpProxy } from '@fuel-code/testing';

/**
 * The behaviour of postgres.js (as patched in patches/postgres+3.4.9.patch) when a connection
 * is reset under a query. After the socket's 'error', its 'close' comes a turn of the event
 * loop later; a query sent in between (the rollback of the failed transaction, or the next
 * batch's BEGIN) used to stay pending forever, which froze a worker's batch in the chaos run.
 */

const pgTarget = new URL(testDatabaseUrl());
const clients: Sql[] = [];
let proxy: TcpProxy | undefined;

async function clientBehindProxy(): Promise<Sql> {
  proxy = await startTcpProxy({ targetHost: pgTarget.hostname, targetPort: Number(pgTarget.port || 5432) });
  const sql = postgres(withHostPort(testDatabaseUrl(), proxy.host, proxy.port), { max: 1, connect_timeout: 10, onnotice: () => undefined });
  clients.push(sql);
  return sql;
}

/** How `promise` settled, or 'pending' if it has not within `ms` (it must not stay pending). */
async function settlement(promise: Promise<unknown>, ms = 5000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  const settled = promise.then(
    () => 'resolved',
    (err: unknown) => `rejected ${(err as { code?: string }).code ?? String(err)}`,
  );
  try {
    return await Promise.race([settled, pending]);
  } finally {
    clearTimeout(timer);
  }
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((sql) => sql.end({ timeout: 1 })));
  await proxy?.close();
  proxy = undefined;
});

/**
 * Cut the connection under a slow query and call `send` from the query's rejection handler:
 * the socket has errored and is not closed yet. Returns how what `send` started settled.
 */
async function sendBetweenResetAndClose(send: (sql: Sql) => Promise<unknown>): Promise<{ sql: Sql; outcome: string }> {
  const sql = await clientBehindProxy();
  await sql`SELECT 1`;
  const slow = sql`SELECT pg_sleep(10)`.execute();
  setTimeout(() => void proxy?.cut(), 100);
  // Wrapped, so that the handler's promise is not chained into `slow`.
  const next = await slow.then(
    () => undefined,
    () => ({ sent: send(sql) }),
  );
  if (!next) throw new Error('the slow query was not cut');
  return { sql, outcome: await settlement(next.sent) };
}

test('a query sent between a reset and the close of its connection is rejected, not left pending', async () => {
  const { sql, outcome } = await sendBetweenResetAndClose((sql) => sql`SELECT 2`.execute());
  expect(outcome).toBe('rejected CONNECTION_CLOSED');
  // The client recovers once the network does.
  await proxy?.restore();
  expect(await sql`SELECT 3 AS three`).toEqual([{ three: 3 }]);
});

test('a transaction begun in that window fails rather than hanging, and the next one works', async () => {
  // As when one batch's transaction fails and the next batch begins at once.
  const { sql, outcome } = await sendBetweenResetAndClose((sql) => sql.begin((tx) => tx`SELECT 1`));
  expect(outcome).toBe('rejected CONNECTION_CLOSED');
  await proxy?.restore();
  expect(await sql.begin((tx) => tx`SELECT 4 AS four`)).toEqual([{ four: 4 }]);
});

test('after an outage of many failed attempts, the pool reconnects as soon as the network is back', async () => {
  // postgres.js's own reconnect delay grows with the pool's failed attempts to 10–20 s (a
  // worker sat idle 10 s after a 6 s cut in the chaos run); createSqlClient caps it at 1 s.
  proxy = await startTcpProxy({ targetHost: pgTarget.hostname, targetPort: Number(pgTarget.port || 5432) });
  const sql = createSqlClient({ url: withHostPort(testDatabaseUrl(), proxy.host, proxy.port), max: 4 });
  clients.push(sql);
  expect(sql.options.backoff).toBe(reconnectDelaySeconds);
  await sql`SELECT 1`;
  await proxy.cut();
  let failures = 0;
  const cutUntil = Date.now() + 3000;
  while (Date.now() < cutUntil) {
    await Promise.all([1, 2, 3, 4].map(() => sql`SELECT 1`.execute().catch(() => failures++)));
  }
  expect(failures).toBeGreaterThan(8);
  await proxy.restore();
  const restoredAt = Date.now();
  await waitFor(async () => sql`SELECT 1 AS one`.execute().then(() => true, () => false), 30_000, { description: 'a query to succeed' });
  // Generous against the 1 s cap; the driver's default would by now wait 10–20 s at times.
  expect(Date.now() - restoredAt).toBeLessThan(3000);
});

test('reconnectDelaySeconds starts at tens of milliseconds and never exceeds 1 s', () => {
  for (let attempt = 0; attempt < 40; attempt++) {
    const delay = reconnectDelaySeconds(attempt);
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(1);
  }
  expect(reconnectDelaySeconds(0)).toBeLessThanOrEqual(0.05);
});
