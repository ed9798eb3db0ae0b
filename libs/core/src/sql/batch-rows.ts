import type { JSONValue } from 'postgres';
import type { Db } from './types';

/**
 * Multi-row statements take their rows as one jsonb array expanded by jsonb_to_recordset:
 * one parameter, one round trip, whatever the batch size. Rows are ordered by key inside
 * each statement so concurrent workers lock shared rows in the same order (no deadlocks).
 */
export function rowsParam(db: Db, rows: readonly object[]) {
  return db.json(rows as unknown as JSONValue);
}
