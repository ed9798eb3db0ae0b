import { spawnSync } from 'node:child_process';
import {
  captureLogs,
  gitCommitEvent,
  sessionEndEvent,
  sessionStartEvent,
  skillInvokeEvent,
  subagentStartEvent,
  subagentStopEvent,
  teamCreateEvent,
  teamMessageEvent,
  worktreeCreateEvent,
  worktreeRemoveEvent,
} from '@fuel-code/testing';
import {
  createDefaultRegistry,
  createHandlerRegistry,
  handleSessionEvents,
  isSendingAtOnce,
  processBatch,
  sendsAtOnce,
  type Db,
  type EventHandler,
  type EventType,
  type HandlerItem,
} from '@fuel-code/core';
import { parsed, useTestDatabase } from './helpers';

/**
 * The fast path sends the batch's COMMIT behind its handlers' statements (docs/adr/010-pipelined-commit.md):
 * Postgres commits, and releases the session rows and the git-link lock, without waiting for
 * the worker to read a result. Seen from another process while this one's event loop is blocked.
 */

type SessionEventType = 'session.start' | 'session.end' | 'session.compact';

const ctx = useTestDatabase('pipelined_commit');
const logs = captureLogs();

const PROBE = `
const postgres = require('postgres');
const sql = postgres(process.env.PROBE_URL, { max: 1, onnotice: () => undefined });
const deadline = Date.now() + Number(process.env.PROBE_DEADLINE_MS);
(async () => {
  for (;;) {
    const rows = await sql\`SELECT 1 FROM events WHERE id = \${process.env.PROBE_EVENT_ID}\`;
    if (rows.length > 0) break;
    if (Date.now() > deadline) { process.exitCode = 1; break; }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await sql.end({ timeout: 1 });
})();`;

/** Whether another connection sees the event committed within `deadlineMs`, this process blocked all along. */
function committedWhileBlocked(eventId: string, deadlineMs: number): boolean {
  const env = { ...process.env, PROBE_URL: ctx.db.url, PROBE_EVENT_ID: eventId, PROBE_DEADLINE_MS: String(deadlineMs) };
  const run = spawnSync(process.execPath, ['-e', PROBE], { env, encoding: 'utf8', timeout: deadlineMs + 10_000 });
  if (run.status !== 0 && run.status !== 1) throw new Error(`probe failed: ${run.stderr}`);
  return run.status === 0;
}

/**
 * The session handler, blocking the event loop two turns after the batch's statements were
 * issued (by then they, and a pipelined COMMIT, are on the wire) to probe from another process.
 */
function probingHandler(deadlineMs: number, seen: boolean[]): EventHandler<SessionEventType> {
  return (handlerCtx) => {
    const [first] = handlerCtx.items;
    setImmediate(() => setImmediate(() => first && seen.push(committedWhileBlocked(first.event.id, deadlineMs))));
    return handleSessionEvents(handlerCtx);
  };
}

const registryWith = (handler: EventHandler<SessionEventType>) =>
  createHandlerRegistry({ 'session.start': handler, 'session.end': handler, 'session.compact': handler });

test('the batch commits while the worker is blocked: COMMIT went out with the handlers, no round trip after them', async () => {
  // A statement with parameters is prepared on its connection's first use of it: postgres.js
  // waits for its Describe before sending what follows. Batches in a row share a connection.
  const registry = createDefaultRegistry();
  await processBatch(ctx.db.sql, [parsed(sessionStartEvent('pipelined-warm'))], registry, logs.logger);
  const seen: boolean[] = [];
  const event = parsed(sessionStartEvent('pipelined-1'));
  await processBatch(ctx.db.sql, [event], registryWith(sendsAtOnce(probingHandler(5000, seen))), logs.logger);
  expect(seen).toEqual([true]);
});

test('a handler not marked as sending at once gets the COMMIT after its results, as before (and the probe is real)', async () => {
  const seen: boolean[] = [];
  const event = parsed(sessionStartEvent('pipelined-2'));
  await processBatch(ctx.db.sql, [event], registryWith(probingHandler(500, seen)), logs.logger);
  expect(seen).toEqual([false]);
  const [row] = await ctx.db.sql`SELECT count(*)::int AS n FROM sessions WHERE id = 'pipelined-2'`;
  expect(row?.['n']).toBe(1);
});

test('a failing statement in the pipelined round trip rolls the whole batch back and reruns it on the isolated path', async () => {
  let calls = 0;
  const failingOnce = sendsAtOnce<SessionEventType>((handlerCtx) => {
    calls += 1;
    return calls === 1 ? handlerCtx.sql`SELECT 1 / 0`.then(() => undefined) : handleSessionEvents(handlerCtx);
  });
  const event = parsed(sessionStartEvent('pipelined-3'));
  const [result] = await processBatch(ctx.db.sql, [event], registryWith(failingOnce), logs.logger);
  expect(calls).toBe(2);
  expect(result?.status).toBe('processed');
  expect(result?.handlerResults.map((r) => r.status)).toEqual(['ok']);
  const [row] = await ctx.db.sql`SELECT count(*)::int AS n FROM sessions WHERE id = 'pipelined-3'`;
  expect(row?.['n']).toBe(1);
});

test('every handler of the default registry issues all its statements before it awaits one (the sendsAtOnce contract)', async () => {
  const registry = createDefaultRegistry();
  const events = [
    sessionStartEvent('s'), sessionEndEvent('s'), gitCommitEvent('s'), subagentStartEvent('s', 'a'), subagentStopEvent('s', 'a'),
    teamCreateEvent('s', 't'), teamMessageEvent('s', 't'), skillInvokeEvent('s', 'k'), worktreeCreateEvent('s', 'w'), worktreeRemoveEvent('s', 'w'),
  ].map(parsed);
  for (const type of registry.listRegisteredTypes()) {
    const handler = registry.handlerFor(type) as EventHandler | undefined;
    expect({ type, marked: handler !== undefined && isSendingAtOnce(handler) }).toEqual({ type, marked: true });
  }
  // Each distinct handler, through one of its types.
  for (const event of events) {
    const { type } = event;
    const handler = registry.handlerFor(type as EventType) as EventHandler;
    const items = [{ event, workspaceId: 'w-1' } as HandlerItem];
    let issued = 0;
    // A stand-in for a transaction: counts the statements (and fragments) issued through it.
    const db = ((..._args: unknown[]) => {
      issued += 1;
      return Promise.resolve([]);
    }) as unknown as Db;
    const done = handler({ sql: db, items, logger: logs.logger });
    const atOnce = issued;
    await done;
    expect({ type, atOnce: atOnce > 0, after: issued }).toEqual({ type, atOnce: true, after: atOnce });
  }
});
