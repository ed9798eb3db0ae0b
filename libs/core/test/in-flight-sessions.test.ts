import { captureLogs, makeEvent, sessionEndEvent, sessionStartEvent, waitFor } from '@fuel-code/testing';
import { createDefaultRegistry, InFlightSessions, processBatch } from '@fuel-code/core';
import { gitLinkGuesses, sessionBoundsOf } from '../src/git-link-guess';
import { GIT_LINK_LOCK_CLASS } from '../src/sql/git-activity';
import type { StoredItem } from '../src/store-batch';
import { gitCommit } from './arrangements';
import { parsed, useTestDatabase } from './helpers';

/*
 * A worker keeps several batches in flight, so a batch's events insert often runs before an
 * earlier batch's COMMIT. Its git events' links are guessed with the sessions of those earlier
 * batches too: when the earlier batch commits before this one takes the git-link lock, the
 * guess is the exact link and the events row is never updated to correct it.
 */

const ctx = useTestDatabase('in_flight_sessions');
const logs = captureLogs();
const registry = createDefaultRegistry();
const T = (hhmm: string) => `2026-11-27T${hhmm}:00.000Z`;
const where = { workspace_id: 'github.com/inflight/app', device_id: 'inflight-dev' };

const item = (input: Parameters<typeof parsed>[0]): StoredItem => ({ event: parsed(input), workspaceId: 'w1' });
const isGit = (e: { type: string }) => e.type.startsWith('git.');

describe('gitLinkGuesses with the sessions of batches in flight', () => {
  /** What a batch of `batch` would guess with the given batches in flight. */
  const guessIn = (inFlight: InFlightSessions, batch: StoredItem[]) => {
    const { known, leave } = inFlight.enter(sessionBoundsOf(batch));
    leave();
    return known;
  };

  it("takes a start from another batch, and honours that batch's end", () => {
    const inFlight = new InFlightSessions();
    const { leave } = inFlight.enter(sessionBoundsOf([item(sessionStartEvent('s1', { ...where, timestamp: T('10:00') }))]));
    const inside = item(gitCommit({ ...where, timestamp: T('10:15') }));
    expect(gitLinkGuesses([inside], isGit).get(inside.event.id)).toBeNull();
    expect(gitLinkGuesses([inside], isGit, guessIn(inFlight, [inside])).get(inside.event.id)).toEqual({ sessionId: 's1', at: T('10:00') });

    const end = inFlight.enter(sessionBoundsOf([item(sessionEndEvent('s1', { ...where, timestamp: T('10:10') }))]));
    expect(gitLinkGuesses([inside], isGit, guessIn(inFlight, [inside])).get(inside.event.id)).toBeNull();
    end.leave();
    leave();
    expect(guessIn(inFlight, [inside]).starts.size).toBe(0);
  });

  it('a batch with no session events registers nothing', () => {
    const inFlight = new InFlightSessions();
    const commit = item(gitCommit({ ...where, timestamp: T('10:15') }));
    inFlight.enter(sessionBoundsOf([commit]));
    const known = guessIn(inFlight, [commit]);
    expect([known.starts.size, known.ends.size]).toEqual([0, 0]);
  });
});

describe('two batches of one process in flight', () => {
  let workspaceId = '';

  beforeAll(async () => {
    await processBatch(ctx.db.sql, [parsed(makeEvent('system.heartbeat', { ...where, timestamp: T('09:00'), data: {} }))], registry, logs.logger);
    const [row] = await ctx.db.sql<{ id: string }[]>`SELECT id FROM workspaces WHERE canonical_id = ${where.workspace_id}`;
    workspaceId = row?.id ?? '';
    // Every later correction of an events row's session_id is counted.
    await ctx.db.sql.unsafe(`
      CREATE TABLE link_corrections (id text NOT NULL);
      CREATE FUNCTION count_link_correction() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN INSERT INTO link_corrections VALUES (NEW.id); RETURN NEW; END $$;
      CREATE TRIGGER count_link_correction AFTER UPDATE OF session_id ON events
        FOR EACH ROW WHEN (OLD.session_id IS DISTINCT FROM NEW.session_id) EXECUTE FUNCTION count_link_correction();`);
  });

  /** Backends of this database waiting for an advisory lock. */
  const advisoryWaiters = async () => {
    const [row] = await ctx.db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`;
    return row?.n ?? 0;
  };

  async function runPair(label: string, inFlight: InFlightSessions | undefined): Promise<{ link: string | null; corrections: number }> {
    const start = parsed(sessionStartEvent(`${label}-s`, { ...where, timestamp: T('10:00') }));
    const commit = parsed(gitCommit({ ...where, timestamp: T('10:15') }));
    const options = inFlight ? { inFlightSessions: inFlight } : {};
    // The git-link key held from outside: batch A (the start) stops at it, after its events insert.
    const holder = await ctx.db.sql.reserve();
    try {
      await holder`SELECT pg_advisory_lock(${GIT_LINK_LOCK_CLASS}, hashtext(${workspaceId} || chr(31) || ${where.device_id}))`;
      const a = processBatch(ctx.db.sql, [start], registry, logs.logger, options);
      await waitFor(async () => (await advisoryWaiters()) === 1, 10_000, { description: 'batch A waiting for the git-link lock' });
      // Batch B's events insert runs now, before A commits; B then queues for the key behind A.
      const b = processBatch(ctx.db.sql, [commit], registry, logs.logger, options);
      await waitFor(async () => (await advisoryWaiters()) === 2, 10_000, { description: 'batch B waiting for the git-link lock' });
      await holder`SELECT pg_advisory_unlock(${GIT_LINK_LOCK_CLASS}, hashtext(${workspaceId} || chr(31) || ${where.device_id}))`;
      await Promise.all([a, b]);
    } finally {
      holder.release();
    }
    const [row] = await ctx.db.sql<{ link: string | null; corrections: number }[]>`
      SELECT e.session_id AS link, (SELECT count(*)::int FROM link_corrections c WHERE c.id = e.id) AS corrections
      FROM events e WHERE e.id = ${commit.id}`;
    return { link: row?.link ?? null, corrections: row?.corrections ?? -1 };
  }

  it('with the earlier batch known, the commit is stored with its link and never corrected', async () => {
    expect(await runPair('known', new InFlightSessions())).toEqual({ link: 'known-s', corrections: 0 });
  });

  it('without it, the same commit is stored unlinked and corrected under the lock (the control)', async () => {
    expect(await runPair('unknown', undefined)).toEqual({ link: 'unknown-s', corrections: 1 });
  });
});
