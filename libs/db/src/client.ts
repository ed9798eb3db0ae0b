import postgres, { type Sql } from 'postgres';

export interface SqlClientOptions {
  url: string;
  /** Pool size. */
  max?: number;
  /** Give up on a connection attempt after this long. */
  connectTimeoutSeconds?: number;
  /** Close a connection idle this long. */
  idleTimeoutSeconds?: number;
  /** Recycle every connection after this long, so a failover or DNS change is picked up. */
  maxLifetimeSeconds?: number;
  applicationName?: string;
  /**
   * End a session that sits idle inside a transaction this long (Postgres'
   * idle_in_transaction_session_timeout). A frozen process (SIGSTOP, a GC pause gone wild)
   * then releases its row locks instead of stalling every other worker.
   */
  idleInTransactionTimeoutMs?: number;
  /** Cancel a statement running longer than this (Postgres' statement_timeout): a reader that must never hog the database. */
  statementTimeoutMs?: number;
  /**
   * Let Postgres JIT-compile expensive-looking statements (its `jit`, on by default in
   * Postgres 12 and later). Off unless asked for: every statement of ours is a handful of index
   * probes whose cost the planner overestimates while a table's statistics lag behind its
   * growth, and past jit_above_cost it then spends tens of milliseconds compiling a plan that
   * runs in one (docs/adr/012-jit-off.md).
   */
  jit?: boolean;
}

/** 50 ms doubling per failed attempt, at most 1 s, with jitter (half to all of it). */
export function reconnectDelaySeconds(failedAttempts: number): number {
  return (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** failedAttempts, 1);
}

export function createSqlClient(options: SqlClientOptions): Sql {
  return postgres(options.url, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    idle_timeout: options.idleTimeoutSeconds ?? 30,
    max_lifetime: options.maxLifetimeSeconds ?? 30 * 60,
    connection: {
      application_name: options.applicationName ?? 'fuel-code',
      jit: options.jit ? 'on' : 'off',
      ...(options.idleInTransactionTimeoutMs ? { idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs } : {}),
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    },
    // Seconds before a dropped connection tries again. postgres.js's own default grows with
    // every failed attempt of the whole pool, to 10–20 s: after a 6 s outage a worker then sat
    // idle 10 s more. Callers back off themselves; the driver only needs to not hammer.
    backoff: reconnectDelaySeconds,
    // NOTICEs (e.g. "relation already exists, skipping") are not worth a log line each.
    onnotice: () => undefined,
  });
}

/**
 * End every connection of the pool once it is idle, as max_lifetime would; unlike end(), the
 * pool stays usable and opens fresh sessions for the next queries. A session keeps settings
 * it started with (e.g. a read-only default set by ALTER DATABASE), so this is how a caller
 * sees what a new session would see.
 */
export async function recycleSqlClient(sql: Sql): Promise<void> {
  // close() is postgres.js's own (3.4.x), missing from its type declarations.
  await (sql as Sql & { close(): Promise<void> }).close();
}
