import type { Sql } from 'postgres';
import { captureLogs, createTestDatabase, makeEvent, seededRandom, type EnvelopeInput, type TestDatabase } from '@fuel-code/testing';
import { createDefaultRegistry, processBatch } from '@fuel-code/core';
import { gitCommit, sessionCompactEvent } from './arrangements';
import { parsed } from './helpers';

/*
 * Issue 12 §2, as a property: random sessions' events (duplicate starts and ends, compacts,
 * commits inside and outside sessions, device hints) give the same sessions, devices,
 * workspaces, git links and events.session_id whatever the order, the batch split and the
 * number of workers taking batches at once. Each run has a database of its own, so the event
 * ids are the same in every run and the rows compare exactly.
 */

const logs = captureLogs('warn');
const MINUTE = 60_000;
const BASE = Date.UTC(2026, 10, 27, 9);

function scenario(random: () => number): EnvelopeInput[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const at = (minutes: number) => new Date(BASE + minutes * MINUTE + Math.floor(random() * 3) * 7).toISOString();
  const keys = [['github.com/prop/one', 'dev-a'], ['github.com/prop/one', 'dev-b'], ['local:0123456789abcdef', 'dev-a']] as const;
  const events: EnvelopeInput[] = [];
  for (let s = 0; s < 6; s++) {
    const [workspace_id, device_id] = pick(keys);
    const where = { workspace_id, device_id };
    const id = `prop-${s}`;
    const start = Math.floor(random() * 120);
    const length = 5 + Math.floor(random() * 60);
    const starts = random() < 0.85 ? 1 + Math.floor(random() * 2) : 0;
    for (let i = 0; i < starts; i++) {
      events.push(makeEvent('session.start', {
        ...where, timestamp: at(start + i * 3),
        data: { cc_session_id: id, cwd: `/w/${s}`, git_branch: pick(['main', 'feat', null]), git_remote: null, cc_version: null,
                model: pick(['opus', 'sonnet']), source: pick(['startup', 'resume']), transcript_path: '/t' },
      }));
    }
    const ends = random() < 0.8 ? 1 + Math.floor(random() * 2) : 0;
    for (let i = 0; i < ends; i++) {
      events.push(makeEvent('session.end', {
        ...where, timestamp: at(start + length + i * 2),
        data: { cc_session_id: id, duration_ms: pick([0, length * MINUTE]), end_reason: pick(['exit', 'crash']), transcript_path: '/t' },
      }));
    }
    if (random() < 0.5) events.push(sessionCompactEvent(id, Math.floor(random() * 5), { ...where, timestamp: at(start + 1) }));
  }
  for (let c = 0; c < 25; c++) {
    const [workspace_id, device_id] = pick(keys);
    events.push(gitCommit({ workspace_id, device_id, timestamp: at(Math.floor(random() * 200)), dataOverrides: { message: `c${c}` } }));
  }
  for (let h = 0; h < 6; h++) {
    const [workspace_id, device_id] = pick(keys);
    const hints = random() < 0.7 ? { _device_name: `name-${h}`, _device_type: pick(['local', 'remote']) } : {};
    events.push(makeEvent('system.heartbeat', { workspace_id, device_id, timestamp: at(Math.floor(random() * 200)), data: hints }));
  }
  return events;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function split<T>(items: readonly T[], random: () => number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; ) {
    const size = 1 + Math.floor(random() * 12);
    batches.push(items.slice(i, i + size));
    i += size;
  }
  return batches;
}

/** Batches taken by `workers` workers at once, each one batch after another. */
async function deliver(sql: Sql, batches: readonly EnvelopeInput[][], workers: number): Promise<void> {
  const registry = createDefaultRegistry();
  let next = 0;
  const worker = async () => {
    for (let b = next++; b < batches.length; b = next++) {
      await processBatch(sql, (batches[b] ?? []).map(parsed), registry, logs.logger);
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
}

/** The tables the rules write, without server-made ids and clock columns. */
async function tables(sql: Sql) {
  return {
    sessions: await sql`
      SELECT s.id, w.canonical_id, s.device_id, s.lifecycle, s.started_at, s.ended_at, s.end_reason, s.duration_ms, s.duration_ms_sent,
             s.git_branch, s.model, s.source, s.compact_sequence, s.start_event_id, s.end_event_id
      FROM sessions s JOIN workspaces w ON w.id = s.workspace_id ORDER BY s.id`,
    devices: await sql`SELECT id, name, type, first_seen_at, last_seen_at FROM devices ORDER BY id`,
    workspaces: await sql`SELECT canonical_id, display_name, default_branch FROM workspaces ORDER BY canonical_id`,
    git: await sql`SELECT id, session_id, type, branch, commit_sha, "timestamp" FROM git_activity ORDER BY id`,
    events: await sql`SELECT id, session_id FROM events ORDER BY id`,
  };
}

const databases: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(databases.map((d) => d.drop()));
});

async function outcome(events: readonly EnvelopeInput[][], workers: number) {
  const db = await createTestDatabase('commute');
  databases.push(db);
  await deliver(db.sql, events, workers);
  const result = await tables(db.sql);
  await db.drop();
  return result;
}

test.each([1, 2, 3])('seed %i: any order, any batch split, one to three workers give the same tables', async (seed) => {
  const random = seededRandom(seed * 7919);
  const events = scenario(random);
  const reference = await outcome([events], 1);
  // Not vacuous: sessions ended, commits linked and left alone, devices named.
  expect(reference.git.some((g) => g['session_id'] !== null)).toBe(true);
  expect(reference.git.some((g) => g['session_id'] === null)).toBe(true);
  for (const workers of [1, 2, 3]) {
    for (let round = 0; round < 2; round++) {
      expect(await outcome(split(shuffled(events, random), random), workers)).toEqual(reference);
    }
  }
});
