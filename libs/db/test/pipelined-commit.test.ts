import { spawnSync } from 'node:child_process';
import type { TransactionSql } from 'postgres';
import { createSqlClient } from '@fuel-code/db';
import { useMarksDatabase } from './marks-database';

/**
 * Our postgres.js patch adds `commit()` to a transaction's `sql` (docs/adr/010-pipelined-commit.md):
 * COMMIT goes out behind the statements already issued, before their results come back, so
 * Postgres commits (and releases the locks) without waiting for the client.
 */

const db = useMarksDatabase('fc_pipelined');
const labels = () => db.labels();
const LOCK_KEY = 727_1847_0103;

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

const commit = (tx: TransactionSql): Promise<void> => (tx as TransactionSql & { commit(): Promise<void> }).commit();

/** `n` turns of the event loop: by then whatever was issued before has been written to the socket. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const PROBE = `
const postgres = require('postgres');
const sql = postgres(process.env.PROBE_URL, { max: 1, onnotice: () => undefined });
const deadline = Date.now() + Number(process.env.PROBE_DEADLINE_MS);
(async () => {
  for (;;) {
    const [row] = await sql.unsafe(process.env.PROBE_SQL);
    if (row.ok) break;
    if (Date.now() > deadline) { process.exitCode = 1; break; }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await sql.end({ timeout: 1 });
})();`;

/**
 * Whether `probe` (a query returning one row with a boolean `ok`) turns true on another
 * connection within `deadlineMs`, run from a child process while this one's event loop is
 * blocked: nothing this process has not already sent can reach Postgres meanwhile.
 */
function seenWhileBlocked(probe: string, deadlineMs: number): boolean {
  const env = { ...process.env, PROBE_URL: db.url, PROBE_SQL: probe, PROBE_DEADLINE_MS: String(deadlineMs) };
  const run = spawnSync(process.execPath, ['-e', PROBE], { env, encoding: 'utf8', timeout: deadlineMs + 10_000 });
  if (run.status !== 0 && run.status !== 1) throw new Error(`probe failed: ${run.stderr}`);
  return run.status === 0;
}

// No parameters: a statement with parameters not yet prepared on the connection waits for its
// Describe first, and postgres.js holds back what follows it until the answer is read.
const LOCK = `SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
const released = `SELECT pg_try_advisory_lock(${LOCK_KEY}) AND EXISTS (SELECT 1 FROM marks WHERE label = 'pipelined') AS ok`;

test('commit(): the lock is released and the rows committed while the client is blocked, before it reads a result', async () => {
  const sql = createSqlClient({ url: db.url, max: 1 });
  try {
    const seen = await sql.begin(async (tx) => {
      const written = Promise.all([tx.unsafe(LOCK), tx`INSERT INTO marks VALUES ('pipelined')`]);
      const committed = commit(tx);
      await turns(2);
      const observed = seenWhileBlocked(released, 5000);
      await Promise.all([written, committed]);
      return observed;
    });
    expect(seen).toBe(true);
    expect(await labels()).toEqual(['pipelined']);
  } finally {
    await sql.end({ timeout: 1 });
  }
});

test('without commit(), the same probe sees the lock held until the client reads the results (the probe is real)', async () => {
  const sql = createSqlClient({ url: db.url, max: 1 });
  try {
    const seen = await sql.begin(async (tx) => {
      const written = Promise.all([tx.unsafe(LOCK), tx`INSERT INTO marks VALUES ('pipelined')`]);
      await turns(2);
      const observed = seenWhileBlocked(released, 500);
      await written;
      return observed;
    });
    expect(seen).toBe(false);
  } finally {
    await sql.end({ timeout: 1 });
  }
});

test('a statement that fails before the pipelined COMMIT: begin() rejects with its error and nothing is committed', async () => {
  const sql = createSqlClient({ url: db.url, max: 1 });
  try {
    const outcome = sql.begin(async (tx) => {
      const written = Promise.all([tx`INSERT INTO marks VALUES ('before')`, tx`SELECT 1 / 0`, tx`INSERT INTO marks VALUES ('after')`]);
      const committed = commit(tx);
      await Promise.all([written, committed]);
    });
    await expect(outcome).rejects.toMatchObject({ code: '22012' });
    expect(await labels()).toEqual([]);
    // A failure the callback swallowed still rolls the transaction back, and says why.
    const swallowed = sql.begin(async (tx) => {
      const failing = tx`SELECT 1 / 0`.catch(() => 'swallowed');
      const inserted = tx`INSERT INTO marks VALUES ('kept?')`.catch(() => 'aborted');
      await Promise.all([failing, inserted, commit(tx)]);
    });
    await expect(swallowed).rejects.toMatchObject({ code: '22012' });
    expect(await labels()).toEqual([]);
    await sql.begin((tx) => tx`INSERT INTO marks VALUES ('next')`);
    expect(await labels()).toEqual(['next']);
  } finally {
    await sql.end({ timeout: 1 });
  }
});

test('a statement issued after the pipelined COMMIT went out is refused, not run inside the next transaction', async () => {
  const sql = createSqlClient({ url: db.url, max: 1 });
  try {
    let late: Promise<string | undefined> | undefined;
    const outcome = sql.begin(async (tx) => {
      await Promise.all([tx`INSERT INTO marks VALUES ('committed')`, commit(tx)]);
      late = tx`INSERT INTO marks VALUES ('late')`.then(() => 'ran', (err: unknown) => codeOf(err));
    });
    // The transaction committed without it; begin() says that a statement was refused.
    await expect(outcome).rejects.toMatchObject({ code: 'TRANSACTION_ENDED' });
    await sql.begin((tx) => tx`INSERT INTO marks VALUES ('next')`);
    expect(await late).toBe('TRANSACTION_ENDED');
    expect(await labels()).toEqual(['committed', 'next']);
  } finally {
    await sql.end({ timeout: 1 });
  }
});

test('the session killed in the pipeline: begin() rejects with CONNECTION_CLOSED (not TRANSACTION_ENDED), nothing is committed, the pool reconnects', async () => {
  const sql = createSqlClient({ url: db.url, max: 1 });
  try {
    const outcome = sql.begin(async (tx) => {
      const written = Promise.all([tx`INSERT INTO marks VALUES ('lost')`, tx`SELECT pg_terminate_backend(pg_backend_pid())`]);
      const committed = commit(tx);
      await Promise.all([written, committed]);
    });
    const code = await outcome.then(() => 'resolved', (err: unknown) => codeOf(err));
    expect(code).toBe('CONNECTION_CLOSED');
    expect(await labels()).toEqual([]);
    await sql.begin((tx) => tx`INSERT INTO marks VALUES ('after')`);
    expect(await labels()).toEqual(['after']);
  } finally {
    await sql.end({ timeout: 1 });
  }
});
