import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { DEFAULT_MIGRATIONS_DIR, migrate } from '@fuel-code/db';
import { createEmptyDatabase, type TestDatabase } from '@fuel-code/testing';

/*
 * Migrations 006 and 007 change how rows are stored and indexed, not what they hold: a
 * database of 001-005 keeps its rows; sessions leave room for HOT updates; events keep only
 * the indexes a read uses.
 */

let db: TestDatabase;
let oldDir: string;
const silent = pino({ level: 'silent' });

beforeAll(async () => {
  db = await createEmptyDatabase('mig006');
  oldDir = await mkdtemp(path.join(tmpdir(), 'fc-mig-'));
  for (const file of (await readdir(DEFAULT_MIGRATIONS_DIR)).filter((f) => /^00[1-5]_/.test(f))) {
    await cp(path.join(DEFAULT_MIGRATIONS_DIR, file), path.join(oldDir, file));
  }
  await migrate({ sql: db.sql, logger: silent, migrationsDir: oldDir });
});

afterAll(async () => {
  await db.drop();
  await rm(oldDir, { recursive: true, force: true });
});

test('rows stored before 006 and 007 are kept; sessions get a fillfactor, events lose the unread index', async () => {
  const sql = db.sql;
  await sql`INSERT INTO workspaces (id, canonical_id, display_name) VALUES ('W1', 'github.com/a/app', 'app')`;
  await sql`INSERT INTO sessions (id, workspace_id, device_id, lifecycle, started_at) VALUES ('S1', 'W1', 'dev-1', 'detected', '2026-11-27T10:00Z')`;
  await sql`INSERT INTO events (id, type, "timestamp", device_id, workspace_id, session_id, data)
            VALUES ('01A', 'session.start', '2026-11-27T10:00Z', 'dev-1', 'W1', 'S1', '{"cc_session_id": "S1"}')`;
  const before = {
    events: await sql`SELECT id, type, "timestamp", device_id, workspace_id, session_id, data, blob_refs, ingested_at FROM events`,
    sessions: await sql`SELECT * FROM sessions`,
  };

  await migrate({ sql, logger: silent });

  expect({ events: await sql`SELECT id, type, "timestamp", device_id, workspace_id, session_id, data, blob_refs, ingested_at FROM events`, sessions: await sql`SELECT * FROM sessions` }).toEqual(before);
  const [sessions] = await sql<{ reloptions: string[] | null }[]>`SELECT reloptions FROM pg_class WHERE oid = 'sessions'::regclass`;
  expect(sessions?.reloptions).toEqual(['fillfactor=80']);
  const indexes = await sql<{ indexname: string }[]>`SELECT indexname FROM pg_indexes WHERE tablename = 'events' ORDER BY indexname`;
  expect(indexes.map((i) => i.indexname)).toEqual(['events_ingested_at_brin', 'events_pkey', 'events_session_id_idx']);
});
