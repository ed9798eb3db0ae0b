import { randomBytes } from 'node:crypto';
import postgres, { type Sql } from 'postgres';

/**
 * A throwaway database with one table, `marks(label)`, for the file's tests: made before them,
 * emptied before each, dropped after. This package sits below the test harness, so it makes
 * its own. `url` and `observer` (a separate one-connection client) are set in beforeAll.
 */
export function useMarksDatabase(prefix: string): { url: string; observer: Sql; labels(): Promise<string[]> } {
  const adminUrl = process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  const dbName = `${prefix}_${randomBytes(5).toString('hex')}`;
  const ctx = {
    url: '',
    observer: undefined as unknown as Sql,
    async labels(): Promise<string[]> {
      const rows = await ctx.observer<{ label: string }[]>`SELECT label FROM marks ORDER BY label`;
      return rows.map((r) => r.label);
    },
  };
  beforeAll(async () => {
    await admin.unsafe(`CREATE DATABASE "${dbName}"`);
    const u = new URL(adminUrl);
    u.pathname = `/${dbName}`;
    ctx.url = u.toString();
    ctx.observer = postgres(ctx.url, { max: 1, onnotice: () => undefined });
    await ctx.observer`CREATE TABLE marks (label text NOT NULL)`;
  });
  afterAll(async () => {
    await ctx.observer.end({ timeout: 1 });
    await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end({ timeout: 1 });
  });
  beforeEach(async () => {
    await ctx.observer`TRUNCATE marks`;
  });
  return ctx;
}
