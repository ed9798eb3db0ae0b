import type { Sql, TransactionSql } from 'postgres';

/** A client, a transaction or a savepoint: every statement function takes one first. */
export type Db = Sql | TransactionSql;
