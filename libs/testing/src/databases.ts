import { createHash, randomBytes } from 'node:crypto';
import pino from 'pino';
import postgres, { type Sql } from 'postgres';
import { createSqlClient, loadMigrations, migrate } from '@fuel-code/db';
import { testDatabaseUrl, withDatabase } from './urls';

export interface TestDatabase {
  name: string;
  url: string;
  sql: Sql;
  /** Close the client and drop the database. Idempotent. */
  drop(): Promise<void>;
}

const TEMPLATE_LOCK_KEY = 727_1847_0002;

function adminClient(): Sql {
  return postgres(testDatabaseUrl(), { max: 1, onnotice: () => undefined, connect_timeout: 10 });
}

/** A template named after the migrations' content, so a schema change gets a fresh one. */
async function templateName(): Promise<string> {
  const hash = createHash('sha256');
  for (const m of await loadMigrations()) hash.update(m.file).update(m.checksum);
  return `fuel_code_tpl_${hash.digest('hex').slice(0, 12)}`;
}

async function ensureTemplate(admin: Sql): Promise<string> {
  const name = await templateName();
  await admin`SELECT pg_advisory_lock(${TEMPLATE_LOCK_KEY})`;
  try {
    const found = await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`;
    if (found.length > 0) return name;
    const building = `${name}_build_${randomBytes(3).toString('hex')}`;
    await admin.unsafe(`CREATE DATABASE "${building}"`);
    const sql = createSqlClient({ url: withDatabase(testDatabaseUrl(), building), max: 1 });
    try {
      await migrate({ sql, logger: pino({ level: 'silent' }) });
    } finally {
      await sql.end({ timeout: 5 });
    }
    // Renamed only once complete, so a half-built template is never cloned.
    await admin.unsafe(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
    return name;
  } finally {
    await admin`SELECT pg_advisory_unlock(${TEMPLATE_LOCK_KEY})`;
  }
}

/** A fresh, migrated database of its own, cloned from a template in a few milliseconds. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const admin = adminClient();
  const template = await ensureTemplate(admin);
  const name = `fc_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 20)}_${randomBytes(5).toString('hex')}`;
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
      break;
    } catch (err) {
      // 55006: another CREATE DATABASE is copying the same template right now.
      const code = (err as { code?: string }).code;
      if (code !== '55006' || attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
  return openDatabase(admin, name);
}

/** An empty database with no migrations applied, for testing the migrator itself. */
export async function createEmptyDatabase(label = 'empty'): Promise<TestDatabase> {
  const admin = adminClient();
  const name = `fc_${label}_${randomBytes(5).toString('hex')}`;
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  return openDatabase(admin, name);
}

function openDatabase(admin: Sql, name: string): TestDatabase {
  const url = withDatabase(testDatabaseUrl(), name);
  const sql = createSqlClient({ url, max: 5, applicationName: 'fuel-code-test' });
  let dropped = false;
  return {
    name,
    url,
    sql,
    async drop() {
      if (dropped) return;
      dropped = true;
      await sql.end({ timeout: 2 }).catch(() => undefined);
      try {
        await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end({ timeout: 2 });
      }
    },
  };
}
