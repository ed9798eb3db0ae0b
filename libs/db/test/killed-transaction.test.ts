import type { TransactionSql } from 'postgres';
import { createSqlClient } from '@fuel-code/db';
import { useMarksDatabase } from './marks-database';

/**
 * postgres.js issue #1216: Postgres ends a session left idle inside a transaction
 * (idle_in_transaction_session_timeout), sql.begin() rejects, but its callback goes on. With a
 * pool of one the connection reopens for the next transaction, and the old callback's later
 * statements, and the COMMIT it sends when it returns, used to run inside that next transaction.
 */

const db = useMarksDatabase('fc_killed_tx');
const labels = () => db.labels();

/** A promise and the function that settles it: the test's way to hold a callback at a point. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** `promise`, or a rejection naming what was awaited once `ms` pass: a deadline, not a sleep. */
async function withDeadline<T>(promise: Promise<T> | undefined, ms: number, what: string): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

test('a transaction killed while idle: its later statements and its COMMIT run nowhere; the next transaction commits alone', async () => {
  const sql = createSqlClient({ url: db.url, max: 1, idleInTransactionTimeoutMs: 200, applicationName: 'fc-killed-tx-test' });
  try {
    const resumeStale = gate();
    const staleDone = gate();
    const nextOpen = gate();
    const staleErrors: (string | undefined)[] = [];

    const stalled = sql.begin(async (tx) => {
      await tx`INSERT INTO marks VALUES ('stale-before')`;
      // Idle inside the transaction, past the timeout: Postgres ends the session.
      await resumeStale.opened;
      for (const label of ['stale-after-1', 'stale-after-2']) {
        try {
          await tx`INSERT INTO marks VALUES (${label})`;
        } catch (err) {
          staleErrors.push(codeOf(err));
        }
      }
      staleDone.open();
      // Returning makes begin() send COMMIT through this transaction's handler.
      return 'returned';
    });
    const stalledOutcome = stalled.then(
      () => 'resolved',
      (err: unknown) => codeOf(err),
    );
    expect(await stalledOutcome).toBe('CONNECTION_CLOSED');

    // The pool's one connection reopens for this transaction; the stale callback resumes inside it.
    const next = sql.begin(async (tx) => {
      await tx`INSERT INTO marks VALUES ('next-1')`;
      nextOpen.open();
      await staleDone.opened;
      await tx`INSERT INTO marks VALUES ('next-2')`;
      return 'next committed';
    });
    await nextOpen.opened;
    resumeStale.open();
    await expect(next).resolves.toBe('next committed');
    await staleDone.opened;

    expect(staleErrors).toEqual(['CONNECTION_CLOSED', 'CONNECTION_CLOSED']);
    expect(await labels()).toEqual(['next-1', 'next-2']);
    // And the pool goes on working.
    await sql.begin((tx) => tx`INSERT INTO marks VALUES ('after')`);
    expect(await labels()).toEqual(['after', 'next-1', 'next-2']);
  } finally {
    await sql.end({ timeout: 1 });
  }
});

test('a statement issued through a transaction after it committed is refused, not run inside the next one', async () => {
  const sql = createSqlClient({ url: db.url, max: 1 });
  try {
    let leaked: TransactionSql | undefined;
    await sql.begin(async (tx) => {
      await tx`INSERT INTO marks VALUES ('committed')`;
      leaked = tx;
    });
    const other = gate();
    const release = gate();
    const next = sql.begin(async (tx) => {
      await tx`INSERT INTO marks VALUES ('next')`;
      other.open();
      await release.opened;
      return 'next committed';
    });
    await other.opened;
    const late = leaked ? leaked`INSERT INTO marks VALUES ('late')`.then(() => 'ran', (err: unknown) => codeOf(err)) : undefined;
    release.open();
    await expect(next).resolves.toBe('next committed');
    expect(await late).toBe('TRANSACTION_ENDED');
    expect(await labels()).toEqual(['committed', 'next']);
  } finally {
    await sql.end({ timeout: 1 });
  }
});

test('work a failed transaction left running (a Promise.all that rejected early) is refused after the rollback, not run in the next one', async () => {
  const sql = createSqlClient({ url: db.url, max: 1 });
  try {
    const resume = gate();
    let lingering: Promise<string | undefined> | undefined;
    const failed = sql.begin(async (tx) => {
      const slowHandler = (async () => {
        await resume.opened;
        await tx`INSERT INTO marks VALUES ('lingering')`;
      })();
      lingering = slowHandler.then(() => 'ran', (err: unknown) => codeOf(err));
      await Promise.all([slowHandler, Promise.reject(new Error('another write failed'))]);
    });
    await expect(failed).rejects.toThrow('another write failed');

    const nextOpen = gate();
    const next = sql.begin(async (tx) => {
      await tx`INSERT INTO marks VALUES ('next')`;
      nextOpen.open();
      await lingering;
      return 'next committed';
    });
    await nextOpen.opened;
    resume.open();
    await expect(next).resolves.toBe('next committed');
    expect(await lingering).toBe('TRANSACTION_ENDED');
    expect(await labels()).toEqual(['next']);
  } finally {
    await sql.end({ timeout: 1 });
  }
});

test('queries still queued inside a transaction when its connection is killed are rejected, not left pending', async () => {
  const sql = createSqlClient({ url: db.url, max: 1, applicationName: 'fc-killed-queue-test' });
  try {
    const started = gate();
    let settled: Promise<PromiseSettledResult<unknown>[]> | undefined;
    const killed = sql.begin(async (tx) => {
      const [me] = await tx<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
      // One slow statement, then more than the connection pipelines (100): the rest wait in the
      // transaction's own queue.
      const queries = [tx`SELECT pg_sleep(30)`, ...Array.from({ length: 150 }, (_, i) => tx`SELECT ${i}::int AS i`)];
      settled = Promise.allSettled(queries);
      started.open();
      await db.observer`SELECT pg_terminate_backend(${me?.pid ?? 0})`;
      await settled;
    });
    await expect(killed).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    await started.opened;
    const results = await withDeadline(settled, 10_000, 'the queued queries to settle');
    expect(results?.map((r) => r.status)).toEqual(Array.from({ length: 151 }, () => 'rejected'));
    // The first query on the reopened connection does not get the old session's FATAL error.
    await expect(sql`SELECT 1 AS one`).resolves.toEqual([{ one: 1 }]);
  } finally {
    await sql.end({ timeout: 1 });
  }
});
