export { createSqlClient, reconnectDelaySeconds, recycleSqlClient, type SqlClientOptions } from './client';
export { DEFAULT_MIGRATIONS_DIR, loadMigrations, type Migration } from './migrations';
export { migrate, MIGRATION_LOCK_KEY, type MigrateDeps, type MigrationReport } from './migrator';
export { MigrationError } from './errors';
