import type { Logger } from 'pino';
import type { ReservedSql, Sql } from 'postgres';
import { MigrationError } from './errors';
import { loadMigrations, type Migration } from './migrations';

/** pg_advisory_lock key shared by every process that migrates this database. */
export const MIGRATION_LOCK_KEY = 727_1847_0001;

export interface MigrationReport {
  applied: string[];
  skipped: string[];
}

export interface MigrateDeps {
  sql: Sql;
  logger: Logger;
  migrationsDir?: string;
}

/**
 * Apply pending migrations in order, each in its own transaction, recording each in
 * schema_migrations. The whole run holds a session advisory lock on one reserved
 * connection, so processes booting together take turns and the later ones find nothing
 * left to do.
 */
export async function migrate({ sql, logger, migrationsDir }: MigrateDeps): Promise<MigrationReport> {
  const log = logger.child({ component: 'migrator' });
  const migrations = await loadMigrations(migrationsDir);
  const conn = await sql.reserve();
  try {
    await conn`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      return await applyPending(conn, migrations, log);
    } finally {
      await conn`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => undefined);
    }
  } finally {
    conn.release();
  }
}

async function applyPending(conn: ReservedSql, migrations: Migration[], log: Logger): Promise<MigrationReport> {
  await conn`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`;
  const rows = await conn<{ version: number; name: string; checksum: string }[]>`
    SELECT version, name, checksum FROM schema_migrations`;
  const done = new Map(rows.map((r) => [r.version, r.checksum]));
  warnUnknown(rows, migrations, log);
  const report: MigrationReport = { applied: [], skipped: [] };

  for (const m of migrations) {
    const checksum = done.get(m.version);
    if (checksum !== undefined) {
      if (checksum !== m.checksum) {
        log.warn({ migration: m.file }, `Migration ${m.file} changed after it was applied; not re-running it`);
      }
      report.skipped.push(m.file);
      continue;
    }
    await applyOne(conn, m);
    log.info({ migration: m.file }, `Applied migration ${m.file}`);
    report.applied.push(m.file);
  }
  log.info(
    { applied: report.applied, skipped: report.skipped },
    `Migrations: ${report.applied.length} applied, ${report.skipped.length} already applied`,
  );
  return report;
}

/**
 * Migrations recorded in the database that this build does not ship: a newer release ran
 * them (or this one is a rollback). Not an error, since a rolling deploy has old and new
 * workers side by side, but worth a clear warning: the schema may be ahead of this code.
 */
function warnUnknown(rows: readonly { version: number; name: string }[], migrations: readonly Migration[], log: Logger): void {
  const known = new Set(migrations.map((m) => m.version));
  const unknown = rows
    .filter((r) => !known.has(r.version))
    .sort((a, b) => a.version - b.version)
    .map((r) => `${String(r.version).padStart(3, '0')}_${r.name}`);
  if (unknown.length === 0) return;
  log.warn(
    { unknownMigrations: unknown },
    `The database has ${unknown.length} migration${unknown.length === 1 ? '' : 's'} this build does not know: ${unknown.join(', ')}; ` +
      'a newer release applied them. Carrying on, but this code may not match the schema',
  );
}

async function applyOne(conn: ReservedSql, m: Migration): Promise<void> {
  await conn.unsafe('BEGIN');
  try {
    await conn.unsafe(m.sql);
    await conn`
      INSERT INTO schema_migrations (version, name, checksum)
      VALUES (${m.version}, ${m.name}, ${m.checksum})`;
    await conn.unsafe('COMMIT');
  } catch (thrown) {
    await conn.unsafe('ROLLBACK').catch(() => undefined);
    const err = thrown instanceof Error ? thrown : new Error(String(thrown));
    throw new MigrationError(`migration ${m.file} failed: ${err.message}`, { cause: err });
  }
}
