import {
  captureLogs,
  gitCommitEvent,
  makeEvent,
  sessionEndEvent,
  sessionStartEvent,
  type EnvelopeInput,
} from '@fuel-code/testing';
import {
  createDefaultRegistry,
  createHandlerRegistry,
  processBatch,
  processEvent,
  ProcessingError,
  WorkspaceIdCache,
  type Db,
  type FuelEvent,
} from '@fuel-code/core';
import { parsed, useTestDatabase } from './helpers';

const ctx = useTestDatabase('process_batch');

const logs = captureLogs();

async function sessionRow(id: string) {
  const [row] = await ctx.db.sql`
    SELECT lifecycle, started_at, ended_at, end_reason, duration_ms, git_branch, model, source
    FROM sessions WHERE id = ${id}`;
  return row;
}

test('a batch gives the same rows as the same events one by one, in any order', async () => {
  const script = (prefix: string): EnvelopeInput[] => [
    sessionEndEvent(`${prefix}-a`, { timestamp: '2026-11-27T11:00:00Z', device_id: `${prefix}-dev`, dataOverrides: { duration_ms: 3_600_000 } }),
    sessionStartEvent(`${prefix}-a`, { timestamp: '2026-11-27T10:00:00Z', device_id: `${prefix}-dev`, workspace_id: `github.com/${prefix}/one` }),
    gitCommitEvent(`${prefix}-a`, { timestamp: '2026-11-27T10:30:00Z', device_id: `${prefix}-dev2`, workspace_id: `github.com/${prefix}/two` }),
    sessionEndEvent(`${prefix}-b`, { timestamp: '2026-11-27T12:00:00Z', device_id: `${prefix}-dev` }),
    sessionStartEvent(`${prefix}-c`, { timestamp: '2026-11-27T09:00:00Z', device_id: `${prefix}-dev`, dataOverrides: { model: 'first' } }),
    sessionStartEvent(`${prefix}-c`, { timestamp: '2026-11-27T09:05:00Z', device_id: `${prefix}-dev`, dataOverrides: { model: 'second' } }),
  ];
  const registry = createDefaultRegistry();
  const batch = script('batch').map(parsed);
  const single = script('single').map(parsed);

  const results = await processBatch(ctx.db.sql, batch, registry, logs.logger);
  expect(results.map((r) => r.status)).toEqual(Array(6).fill('processed'));
  for (const event of single) await processEvent(ctx.db.sql, event, registry, logs.logger);

  for (const suffix of ['a', 'b', 'c']) {
    expect(await sessionRow(`batch-${suffix}`)).toEqual(await sessionRow(`single-${suffix}`));
  }
  expect(await sessionRow('batch-a')).toMatchObject({ lifecycle: 'ended', started_at: new Date('2026-11-27T10:00:00Z'), duration_ms: 3_600_000 });
  // The earliest start sets the start fields (issue 12 §2).
  expect(await sessionRow('batch-c')).toMatchObject({ lifecycle: 'detected', model: 'first', started_at: new Date('2026-11-27T09:00:00Z') });

  const devices = await ctx.db.sql`SELECT id, first_seen_at, last_seen_at FROM devices WHERE id LIKE 'batch-dev%' OR id LIKE 'single-dev%' ORDER BY id`;
  const strip = (rows: readonly Record<string, unknown>[]) => rows.map((r) => ({ ...r, id: String(r['id']).replace(/^(batch|single)/, '') }));
  expect(strip(devices.filter((d) => String(d['id']).startsWith('batch')))).toEqual(strip(devices.filter((d) => String(d['id']).startsWith('single'))));
  const links = await ctx.db.sql`
    SELECT w.canonical_id, l.device_id, l.local_path FROM workspace_devices l JOIN workspaces w ON w.id = l.workspace_id
    WHERE l.device_id LIKE 'batch%' ORDER BY 1, 2`;
  expect(links).toEqual([
    { canonical_id: 'github.com/acme/app', device_id: 'batch-dev', local_path: '/home/dev/app' },
    { canonical_id: 'github.com/batch/one', device_id: 'batch-dev', local_path: '/home/dev/app' },
    { canonical_id: 'github.com/batch/two', device_id: 'batch-dev2', local_path: null },
  ]);
});

test('devices and links: many sightings in one batch give what they give one by one', async () => {
  // Out of order, with offsets and sub-millisecond digits; paths from several session.starts.
  const script = (prefix: string): EnvelopeInput[] => {
    const on = { device_id: `${prefix}-sight`, workspace_id: `github.com/${prefix}/sight` };
    return [
      sessionStartEvent(`${prefix}-s1`, { ...on, timestamp: '2026-11-27T10:00:00.000500Z', dataOverrides: { cwd: '/first' } }),
      gitCommitEvent(`${prefix}-s1`, { ...on, timestamp: '2026-11-27T15:30:00.000+05:30' }),
      sessionStartEvent(`${prefix}-s2`, { ...on, timestamp: '2026-11-27T09:00:00.000Z', dataOverrides: { cwd: '/second' } }),
      gitCommitEvent(`${prefix}-s1`, { ...on, timestamp: '2026-11-27T10:00:00.000900Z' }),
      gitCommitEvent(`${prefix}-s1`, { ...on, timestamp: '2026-11-27T02:00:00.000-08:00' }),
      gitCommitEvent(`${prefix}-s2`, { ...on, timestamp: '2026-11-27T08:59:59.999999Z' }),
    ];
  };
  const registry = createDefaultRegistry();
  await processBatch(ctx.db.sql, script('bsight').map(parsed), registry, logs.logger);
  for (const event of script('ssight').map(parsed)) await processEvent(ctx.db.sql, event, registry, logs.logger);

  const rows = async (prefix: string) => ({
    device: await ctx.db.sql`SELECT first_seen_at, last_seen_at FROM devices WHERE id = ${`${prefix}-sight`}`,
    link: await ctx.db.sql`SELECT local_path, last_active_at FROM workspace_devices WHERE device_id = ${`${prefix}-sight`}`,
  });
  const batch = await rows('bsight');
  expect(batch).toEqual(await rows('ssight'));
  // Microseconds survive: the earliest and latest sightings are exact.
  const [first] = await ctx.db.sql`SELECT to_char(first_seen_at AT TIME ZONE 'UTC', 'HH24:MI:SS.US') AS f, to_char(last_seen_at AT TIME ZONE 'UTC', 'HH24:MI:SS.US') AS l FROM devices WHERE id = 'bsight-sight'`;
  expect(first).toEqual({ f: '08:59:59.999999', l: '10:00:00.000900' });
  // The path of the latest event with one (10:00), not of the last one in the stream (09:00).
  expect(batch.link[0]?.['local_path']).toBe('/first');
});

test('a link keeps the path of its latest event whatever order batches commit in', async () => {
  const on = { device_id: 'order-dev', workspace_id: 'github.com/order/app' };
  const newer = sessionStartEvent('order-new', { ...on, timestamp: '2026-11-27T12:00:00Z', dataOverrides: { cwd: '/newer' } });
  const older = sessionStartEvent('order-old', { ...on, timestamp: '2026-11-27T08:00:00Z', dataOverrides: { cwd: '/older' } });
  const registry = createDefaultRegistry();
  // The newer event's batch commits first; the older one's after it must not win.
  await processBatch(ctx.db.sql, [parsed(newer)], registry, logs.logger);
  await processBatch(ctx.db.sql, [parsed(older)], registry, logs.logger);
  const [link] = await ctx.db.sql`SELECT local_path, last_active_at FROM workspace_devices WHERE device_id = 'order-dev'`;
  expect(link).toEqual({ local_path: '/newer', last_active_at: new Date('2026-11-27T12:00:00Z') });
});

test('duplicates: already stored, and twice within the batch', async () => {
  const stored = gitCommitEvent(null);
  await processEvent(ctx.db.sql, parsed(stored), createDefaultRegistry(), logs.logger);
  const fresh = sessionStartEvent('dup-in-batch');
  const results = await processBatch(ctx.db.sql, [stored, fresh, fresh].map(parsed), createDefaultRegistry(), logs.logger);
  expect(results.map((r) => [r.eventId, r.status])).toEqual([
    [stored.id, 'duplicate'],
    [fresh.id, 'processed'],
    [fresh.id, 'duplicate'],
  ]);
  expect(results[1]?.handlerResults).toEqual([{ type: 'session.start', status: 'ok' }]);
  expect(results[2]?.handlerResults).toEqual([]);
});

test("one event's handler failure does not roll back another's handler writes", async () => {
  const write = async (sql: Db, event: FuelEvent) => {
    await sql`INSERT INTO sessions (id, workspace_id, device_id, lifecycle) VALUES (${`by-${event.id}`}, 'w', 'd', 'detected')`;
    if (event.data['explode']) throw new Error(`handler exploded on ${event.id}`);
  };
  const registry = createHandlerRegistry({
    'git.push': async ({ sql, items }) => {
      for (const { event } of items) await write(sql, event);
    },
  });
  const push = (extra: Record<string, unknown> = {}) => makeEvent('git.push', { data: { branch: 'main', remote: 'origin', commit_count: 1, ...extra } });
  const events = [push(), push({ explode: true }), push()].map(parsed);
  const capture = captureLogs();
  const results = await processBatch(ctx.db.sql, events, registry, capture.logger);

  expect(results.map((r) => r.handlerResults[0]?.status)).toEqual(['ok', 'failed', 'ok']);
  const written = await ctx.db.sql`SELECT id FROM sessions WHERE id = ANY(${events.map((e) => `by-${e.id}`)}) ORDER BY id`;
  expect(written.map((r) => r['id'])).toEqual([`by-${events[0]?.id}`, `by-${events[2]?.id}`]);
  const stored = await ctx.db.sql`SELECT count(*)::int AS n FROM events WHERE id = ANY(${events.map((e) => e.id)})`;
  expect(stored[0]?.['n']).toBe(3);
  const [failure] = await ctx.db.sql`SELECT error_message FROM event_handler_failures WHERE event_id = ${events[1]?.id ?? ''}`;
  expect(failure?.['error_message']).toMatch(/handler exploded/);
  expect(capture.find('running its events one by one')).toHaveLength(1);
  expect(capture.find(`handler exploded on ${events[1]?.id}`)[0]).toMatchObject({ level: 50, eventId: events[1]?.id });
});

test('a value Postgres refuses fails the whole batch with a ProcessingError and writes nothing', async () => {
  const good = gitCommitEvent(null);
  const refused = makeEvent('system.heartbeat', { data: { note: 'fine' } });
  // The parser refuses NUL up front; put one in after parsing to reach Postgres with it.
  const refusedEvent: FuelEvent = { ...parsed(refused), data: { note: 'NUL \u0000 here' } } as FuelEvent;
  await expect(processBatch(ctx.db.sql, [parsed(good), refusedEvent], createDefaultRegistry(), logs.logger)).rejects.toBeInstanceOf(ProcessingError);
  const rows = await ctx.db.sql`SELECT count(*)::int AS n FROM events WHERE id = ANY(${[good.id, refused.id]})`;
  expect(rows[0]?.['n']).toBe(0);
});

test.each([
  // Quotes, backslashes or control characters somewhere in each column: the driver builds the array literals.
  ['with escapes', ['NULL', 'a "quoted" {brace, comma}', 'back\\slash\\', 'tab\tnew\nline', 'é 😀', ' padded ']],
  // None anywhere: the literals are written from JSON.stringify (sql/events.ts).
  ['without escapes', ['NULL', 'null', '{brace, comma}', 'é 😀', ' padded ', 'a,b}']],
])('text that looks like array syntax or NULL survives the column arrays unchanged (%s)', async (_, awkward) => {
  const events = awkward.map((text, i) =>
    parsed(
      sessionStartEvent(`${text}-${i}`, {
        device_id: `${text}-dev`,
        workspace_id: `github.com/${text}`,
        dataOverrides: { git_branch: text, model: i === 0 ? null : text },
      }),
    ),
  );
  await processBatch(ctx.db.sql, events, createDefaultRegistry(), logs.logger);
  const rows = await ctx.db.sql`
    SELECT e.session_id, e.device_id, w.canonical_id, s.git_branch, s.model, e.data->>'git_branch' AS data_branch
    FROM events e JOIN workspaces w ON w.id = e.workspace_id JOIN sessions s ON s.id = e.session_id
    WHERE e.id = ANY(${events.map((e) => e.id)})`;
  const byId = new Map(rows.map((r) => [r['session_id'], r]));
  awkward.forEach((text, i) => {
    expect(byId.get(`${text}-${i}`)).toEqual({
      session_id: `${text}-${i}`,
      device_id: `${text}-dev`,
      canonical_id: `github.com/${text}`,
      git_branch: text,
      model: i === 0 ? null : text,
      data_branch: text,
    });
  });
});

test('a cached workspace id whose row was deleted is resolved again, not dead-ended', async () => {
  const cache = new WorkspaceIdCache();
  const workspace = `github.com/cache/${Date.now()}`;
  const first = parsed(sessionStartEvent('cache-1', { workspace_id: workspace, device_id: 'cache-dev' }));
  await processBatch(ctx.db.sql, [first], createDefaultRegistry(), logs.logger, { workspaceIds: cache });
  const oldId = cache.known.get(workspace);
  expect(oldId).toBeDefined();

  // An operator removes the workspace (its links first, for the foreign key).
  await ctx.db.sql`DELETE FROM workspace_devices WHERE workspace_id = ${oldId ?? ''}`;
  await ctx.db.sql`DELETE FROM workspaces WHERE id = ${oldId ?? ''}`;

  const second = parsed(sessionStartEvent('cache-2', { workspace_id: workspace, device_id: 'cache-dev' }));
  const [result] = await processBatch(ctx.db.sql, [second], createDefaultRegistry(), logs.logger, { workspaceIds: cache });
  expect(result?.status).toBe('processed');
  const [row] = await ctx.db.sql`
    SELECT w.id, w.canonical_id FROM events e JOIN workspaces w ON w.id = e.workspace_id WHERE e.id = ${second.id}`;
  expect(row?.['canonical_id']).toBe(workspace);
  expect(row?.['id']).not.toBe(oldId);
  expect(cache.known.get(workspace)).toBe(row?.['id']);
});
