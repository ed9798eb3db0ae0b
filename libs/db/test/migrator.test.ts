import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import postgres, { type Sql } from 'postgres';
import { createSqlClient, loadMigrations, migrate, MigrationError } from '@fuel-code/db';

// This package sits below the test harness, so it makes its own throwaway databases.
const adminUrl = process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
const created: string[] = [];
const clients: Sql[] = [];
const silent = pino({ level: 'silent' });

async function freshDatabaseUrl(): Promise<string> {
  const name = `fc_migrator_${randomBytes(5).toString('hex')}`;
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  created.push(name);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function client(url: string): Sql {
  const sql = createSqlClient({ url, max: 2 });
  clients.push(sql);
  return sql;
}

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end({ timeout: 2 })));
  for (const name of created) await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
});

test('four concurrent runs on a fresh database all succeed, and each migration is applied once', async () => {
  const url = await freshDatabaseUrl();
  const all = (await loadMigrations()).map((m) => m.file);
  expect(all.length).toBeGreaterThan(0);

  // Four separate clients, as four worker processes booting together would have.
  const reports = await Promise.all([1, 2, 3, 4].map(() => migrate({ sql: client(url), logger: silent })));

  const appliedEverywhere = reports.flatMap((r) => r.applied);
  expect(appliedEverywhere.sort()).toEqual([...all].sort());
  for (const report of reports) expect([...report.applied, ...report.skipped].sort()).toEqual([...all].sort());

  const sql = client(url);
  const rows = await sql<{ version: number }[]>`SELECT version FROM schema_migrations ORDER BY version`;
  expect(rows).toHaveLength(all.length);
  const tables = await sql`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`;
  expect(tables.map((t) => t['tablename'])).toEqual(
    expect.arrayContaining(['devices', 'event_handler_failures', 'events', 'sessions', 'workspace_devices', 'workspaces']),
  );

  const rerun = await migrate({ sql, logger: silent });
  expect(rerun).toEqual({ applied: [], skipped: all });
});

test('a failing migration fails loudly, rolls back, and the ones before it stay applied', async () => {
  const url = await freshDatabaseUrl();
  const dir = await mkdtemp(path.join(tmpdir(), 'fc-migrations-'));
  await writeFile(path.join(dir, '001_good.sql'), 'CREATE TABLE good (id int);');
  await writeFile(path.join(dir, '002_bad.sql'), 'CREATE TABLE half (id int);\nSELECT * FROM no_such_table;');
  const sql = client(url);

  const failure = migrate({ sql, logger: silent, migrationsDir: dir });
  await expect(failure).rejects.toBeInstanceOf(MigrationError);
  await expect(failure).rejects.toThrow(/002_bad\.sql failed: .*no_such_table/);

  const versions = await sql<{ version: number }[]>`SELECT version FROM schema_migrations`;
  expect(versions.map((v) => v.version)).toEqual([1]);
  const [half] = await sql`SELECT to_regclass('public.half') AS t`;
  expect(half?.['t']).toBeNull();
  // The lock was released: another run can go ahead (and fails on the same file again).
  await expect(migrate({ sql, logger: silent, migrationsDir: dir })).rejects.toThrow(/002_bad/);
});

test('migration files must be named NNN_name.sql with unique numbers', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'fc-migrations-'));
  await writeFile(path.join(dir, 'create-things.sql'), 'SELECT 1;');
  await expect(loadMigrations(dir)).rejects.toThrow(/not named NNN_name\.sql/);

  const dup = await mkdtemp(path.join(tmpdir(), 'fc-migrations-'));
  await writeFile(path.join(dup, '001_a.sql'), 'SELECT 1;');
  await writeFile(path.join(dup, '01_b.sql'), 'SELECT 1;');
  await expect(loadMigrations(dup)).rejects.toThrow(/share version 1/);
});

test('migrations in the database that this build does not know are named in a warning, and the run carries on', async () => {
  const url = await freshDatabaseUrl();
  const sql = client(url);
  const newer = await mkdtemp(path.join(tmpdir(), 'fc-migrations-'));
  await writeFile(path.join(newer, '001_base.sql'), 'CREATE TABLE base (id int);');
  await writeFile(path.join(newer, '002_from_the_future.sql'), 'CREATE TABLE future (id int);');
  await writeFile(path.join(newer, '010_further_still.sql'), 'SELECT 1;');
  await migrate({ sql, logger: silent, migrationsDir: newer });

  // This (older) build ships 001 only, and a 003 the database has not seen.
  const older = await mkdtemp(path.join(tmpdir(), 'fc-migrations-'));
  await writeFile(path.join(older, '001_base.sql'), 'CREATE TABLE base (id int);');
  await writeFile(path.join(older, '003_local.sql'), 'CREATE TABLE local_only (id int);');
  const lines: { level: number; msg: string; unknownMigrations?: string[] }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });

  const report = await migrate({ sql, logger, migrationsDir: older });
  expect(report).toEqual({ applied: ['003_local.sql'], skipped: ['001_base.sql'] });
  const warnings = lines.filter((l) => l.level === 40);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]?.unknownMigrations).toEqual(['002_from_the_future', '010_further_still']);
  expect(warnings[0]?.msg).toMatch(/has 2 migrations this build does not know: 002_from_the_future, 010_further_still/);

  // A build that knows every one of them says nothing.
  await writeFile(path.join(newer, '003_local.sql'), 'CREATE TABLE local_only (id int);');
  lines.length = 0;
  await migrate({ sql, logger, migrationsDir: newer });
  expect(lines.filter((l) => l.level === 40)).toEqual([]);
});
