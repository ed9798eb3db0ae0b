import type { TransactionSql } from 'postgres';

/** What our postgres.js patch adds to a transaction's `sql` (docs/adr/010-pipelined-commit.md). */
interface PipelinedCommit {
  commit?: () => Promise<void>;
}

/**
 * Sends the transaction's COMMIT behind the statements it has issued, before their results
 * come back, instead of after the callback of `sql.begin` returns: the locks they take are
 * released as soon as Postgres has run them, whatever the client does meanwhile. Issue every
 * statement of the transaction before calling it (one issued later is refused with
 * TRANSACTION_ENDED). Rejects with the first statement's error if one failed: the transaction
 * then rolled back whole, and `sql.begin` rejects with that error too.
 */
export function commitPipelined(tx: TransactionSql): Promise<void> {
  const { commit } = tx as TransactionSql & PipelinedCommit;
  if (typeof commit !== 'function') throw new Error('postgres.js is not patched (patches/postgres+3.4.9.patch): no pipelined commit');
  return commit.call(tx);
}
