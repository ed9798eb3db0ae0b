import {
  captureLogs,
  makeEvent,
  sessionEndEvent,
  sessionStartEvent,
  waitFor,
  type EnvelopeInput,
} from '@fuel-code/testing';
import {
  createDefaultRegistry,
  createHandlerRegistry,
  processEvent,
  TransientError,
  type FuelEvent,
} from '@fuel-code/core';
import { gitCommit } from './arrangements';
import { parsed, useTestDatabase } from './helpers';

const ctx = useTestDatabase('process_event');


const registry = createDefaultRegistry();
const logs = captureLogs();

async function run(input: EnvelopeInput) {
  return processEvent(ctx.db.sql, parsed(input), registry, logs.logger);
}

async function countRows(table: string, where: string, value: string): Promise<number> {
  const rows = await ctx.db.sql.unsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where} = $1`, [value]);
  return rows[0]?.n ?? 0;
}

test('an event is stored once; the same id again is a duplicate and runs no handler', async () => {
  const event = sessionStartEvent('dedup-session');
  const first = await run(event);
  expect(first).toMatchObject({ eventId: event.id, status: 'processed' });
  expect(first.handlerResults).toEqual([{ type: 'session.start', status: 'ok' }]);

  // Mutate the session so a re-run of the handler would show.
  await ctx.db.sql`UPDATE sessions SET model = 'changed' WHERE id = 'dedup-session'`;
  const second = await run(event);
  expect(second).toEqual({ eventId: event.id, type: 'session.start', status: 'duplicate', payload: 'valid', handlerResults: [] });
  expect(await countRows('events', 'id', event.id)).toBe(1);
  const [session] = await ctx.db.sql`SELECT model FROM sessions WHERE id = 'dedup-session'`;
  expect(session?.['model']).toBe('changed');
});

test('data is stored as a jsonb object, not a JSON string', async () => {
  const event = makeEvent('git.commit', { data: { hash: 'h1', files: ['a', 'b'], nested: { n: 1 } } });
  await run(event);
  const [row] = await ctx.db.sql`SELECT jsonb_typeof(data) AS kind, data->'nested'->>'n' AS n, jsonb_typeof(blob_refs) AS refs FROM events WHERE id = ${event.id}`;
  expect(row).toEqual({ kind: 'object', n: '1', refs: 'array' });
});

test('workspaces, devices and links are created once across many events', async () => {
  const workspaces = ['github.com/acme/one', 'github.com/acme/two', ''];
  const devices = ['dev-a', 'dev-b'];
  const events: EnvelopeInput[] = [];
  for (let i = 0; i < 30; i++) {
    events.push(
      makeEvent('system.heartbeat', {
        workspace_id: workspaces[i % workspaces.length] ?? '',
        device_id: devices[i % devices.length] ?? 'dev-a',
      }),
    );
  }
  // Concurrently, so racing first sightings are covered too.
  await Promise.all(events.map((e) => run(e)));

  for (const canonical of ['github.com/acme/one', 'github.com/acme/two', '_unassociated']) {
    expect(await countRows('workspaces', 'canonical_id', canonical)).toBe(1);
  }
  for (const device of devices) expect(await countRows('devices', 'id', device)).toBe(1);
  const links = await ctx.db.sql`
    SELECT w.canonical_id, l.device_id FROM workspace_devices l JOIN workspaces w ON w.id = l.workspace_id
    WHERE l.device_id IN ('dev-a', 'dev-b') ORDER BY 1, 2`;
  expect(links).toHaveLength(6);

  const [ws] = await ctx.db.sql`SELECT id, display_name FROM workspaces WHERE canonical_id = 'github.com/acme/one'`;
  expect(ws?.['id']).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  expect(ws?.['display_name']).toBe('one');
  const [stored] = await ctx.db.sql`SELECT workspace_id FROM events WHERE id = ${events[0]?.id ?? ''}`;
  expect(stored?.['workspace_id']).toBe(ws?.['id']);
});

describe('a handler that throws', () => {
  const failing = createHandlerRegistry({
    'git.commit': async ({ sql, items }) => {
      for (const { event } of items) {
        await sql`INSERT INTO sessions (id, workspace_id, device_id, lifecycle) VALUES (${`written-by-${event.id}`}, 'w', 'd', 'detected')`;
      }
      throw new Error('commit handler exploded');
    },
  });

  test('keeps the event row, rolls back its own writes, logs and records the error', async () => {
    const capture = captureLogs();
    const event = gitCommit();
    const result = await processEvent(ctx.db.sql, parsed(event), failing, capture.logger);

    expect(result.status).toBe('processed');
    expect(result.handlerResults).toHaveLength(1);
    const handlerResult = result.handlerResults[0];
    expect(handlerResult?.status).toBe('failed');
    if (handlerResult?.status === 'failed') expect(handlerResult.error.message).toBe('commit handler exploded');

    expect(await countRows('events', 'id', event.id)).toBe(1);
    expect(await countRows('sessions', 'id', `written-by-${event.id}`)).toBe(0);

    const [line] = capture.find('commit handler exploded');
    expect(line).toMatchObject({ level: 50, eventId: event.id, type: 'git.commit' });

    const [failure] = await ctx.db.sql`SELECT event_type, error_message FROM event_handler_failures WHERE event_id = ${event.id}`;
    expect(failure).toEqual({ event_type: 'git.commit', error_message: 'commit handler exploded' });
  });
});

describe('sessions commute (CONTRACT §3)', () => {
  const startTs = '2026-11-27T10:00:00.000Z';
  const endTs = '2026-11-27T10:30:00.000Z';

  async function sessionRow(id: string) {
    const [row] = await ctx.db.sql`
      SELECT lifecycle, started_at, ended_at, end_reason, duration_ms, git_branch, model, source
      FROM sessions WHERE id = ${id}`;
    return row;
  }

  const expectedEnded = {
    lifecycle: 'ended',
    started_at: new Date(startTs),
    ended_at: new Date(endTs),
    end_reason: 'crash',
    duration_ms: 1_700_000,
    git_branch: 'feature/x',
    model: 'opus',
    source: 'resume',
  };

  const start = (id: string) =>
    sessionStartEvent(id, { timestamp: startTs, dataOverrides: { git_branch: 'feature/x', model: 'opus', source: 'resume' } });
  const end = (id: string) =>
    sessionEndEvent(id, { timestamp: endTs, dataOverrides: { duration_ms: 1_700_000, end_reason: 'crash' } });

  test('start then end', async () => {
    await run(start('s-start-end'));
    expect(await sessionRow('s-start-end')).toMatchObject({ lifecycle: 'detected', started_at: new Date(startTs), ended_at: null });
    await run(end('s-start-end'));
    expect(await sessionRow('s-start-end')).toEqual(expectedEnded);
  });

  test('end then start', async () => {
    await run(end('s-end-start'));
    await run(start('s-end-start'));
    expect(await sessionRow('s-end-start')).toEqual(expectedEnded);
  });

  test('end only: ended, started_at = ended_at - duration_ms', async () => {
    await run(end('s-end-only'));
    expect(await sessionRow('s-end-only')).toEqual({
      lifecycle: 'ended',
      started_at: new Date(Date.parse(endTs) - 1_700_000),
      ended_at: new Date(endTs),
      end_reason: 'crash',
      duration_ms: 1_700_000,
      git_branch: null,
      model: null,
      source: null,
    });
  });

  test('start and end processed concurrently', async () => {
    await Promise.all([run(end('s-concurrent')), run(start('s-concurrent'))]);
    expect(await sessionRow('s-concurrent')).toEqual(expectedEnded);
  });
});

test('a connection terminated mid-event gives a TransientError and leaves no partial rows', async () => {
  const pids: number[] = [];
  const slow = createHandlerRegistry({
    'git.push': async ({ sql }) => {
      const [row] = await sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
      if (row) pids.push(row.pid);
      await sql`SELECT pg_sleep(30)`;
    },
  });
  const event = makeEvent('git.push', {
    device_id: 'terminated-device',
    workspace_id: 'github.com/acme/terminated',
    data: { branch: 'main', remote: 'origin', commit_count: 1 },
  });
  const pending = processEvent(ctx.db.sql, parsed(event), slow, logs.logger);
  // Taken at once: a rejection that came before the expectation would count as unhandled.
  const transient = expect(pending).rejects.toBeInstanceOf(TransientError);
  const pid = await waitFor(() => pids[0], 10_000, { description: 'the handler to start' });
  await ctx.db.sql`SELECT pg_terminate_backend(${pid})`;

  await transient;
  await expect(pending).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', dependency: 'postgres' });
  expect(await countRows('events', 'id', event.id)).toBe(0);
  expect(await countRows('devices', 'id', 'terminated-device')).toBe(0);
  expect(await countRows('workspaces', 'canonical_id', 'github.com/acme/terminated')).toBe(0);
});

test('a value Postgres refuses is a ProcessingError, not transient', async () => {
  // The parser refuses NUL up front; put one in after parsing to reach Postgres with it.
  const event = parsed(makeEvent('system.heartbeat', { data: { note: 'fine' } }));
  const refused = { ...event, data: { note: 'nul \u0000 byte' } } as FuelEvent;
  await expect(processEvent(ctx.db.sql, refused, registry, logs.logger)).rejects.toMatchObject({ code: 'PROCESSING_FAILED' });
  expect(await countRows('events', 'id', event.id)).toBe(0);
});
