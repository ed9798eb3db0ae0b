import type { Sql, TransactionSql } from 'postgres';

/**
 * A client, a transaction or a savepoint: every statement function takes one first.
 * Multi-row statements take their columns as parallel arrays expanded by unnest (one
 * round trip whatever the batch size) and order rows by key, so concurrent workers lock
 * shared rows in the same order.
 */
export type Db = Sql | TransactionSql;
