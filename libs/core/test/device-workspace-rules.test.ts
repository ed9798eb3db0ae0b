import { captureLogs, makeEvent, sessionStartEvent } from '@fuel-code/testing';
import { createDefaultRegistry, processBatch } from '@fuel-code/core';
import { displayNameOf } from '../src/sql/workspaces';
import { everywhere, inEveryArrangement } from './arrangements';
import { parsed, useTestDatabase } from './helpers';

const ctx = useTestDatabase('device_workspace_rules');
const logs = captureLogs();

const T = (hhmm: string) => `2026-11-27T${hhmm}:00.000Z`;

const heartbeat = (p: string, at: string, hints: Record<string, unknown>, dev = 'dev') =>
  makeEvent('system.heartbeat', { device_id: `${p}-${dev}`, workspace_id: `github.com/${p}/app`, timestamp: T(at), data: { status: 'ok', ...hints } });

async function device(prefix: string, dev = 'dev') {
  const [row] = await ctx.db.sql`SELECT id, name, type, first_seen_at, last_seen_at FROM devices WHERE id = ${`${prefix}-${dev}`}`;
  return row && { ...row, id: String(row['id']).replace(prefix, 'P'), name: String(row['name']).replace(prefix, 'P') };
}

describe('devices', () => {
  test('the latest _device_name and _device_type win, each on its own; events without them change neither', async () => {
    const rows = await inEveryArrangement(ctx.db.sql, logs.logger, (p) => [
      heartbeat(p, '10:00', { _device_name: 'old-name', _device_type: 'remote' }),
      heartbeat(p, '11:00', { _device_name: 'new-name' }),
      heartbeat(p, '12:00', {}),
      heartbeat(p, '09:00', { _device_name: 'oldest-name', _device_type: 'local' }),
    ], (p) => device(p));
    expect(rows).toEqual(everywhere({ id: 'P-dev', name: 'new-name', type: 'remote', first_seen_at: new Date(T('09:00')), last_seen_at: new Date(T('12:00')) }));
  });

  test('the hints are taken out of the stored data', async () => {
    const event = heartbeat('strip', '10:00', { _device_name: 'laptop', _device_type: 'local' });
    await processBatch(ctx.db.sql, [parsed(event)], createDefaultRegistry(), logs.logger);
    const [row] = await ctx.db.sql`SELECT data FROM events WHERE id = ${event.id}`;
    expect(row?.['data']).toEqual({ status: 'ok' });
  });

  test('without hints: the device id names it and its type is local', async () => {
    const rows = await inEveryArrangement(ctx.db.sql, logs.logger, (p) => [heartbeat(p, '10:00', {}), heartbeat(p, '11:00', {})], (p) => device(p));
    expect(rows).toEqual(everywhere(expect.objectContaining({ name: 'P-dev', type: 'local' })));
  });

  test('two hints at the same instant: the higher event id wins', async () => {
    const rows = await inEveryArrangement(ctx.db.sql, logs.logger, (p) => [
      heartbeat(p, '10:00', { _device_name: 'lower-id' }),
      heartbeat(p, '10:00', { _device_name: 'higher-id' }),
    ], (p) => device(p));
    expect(rows).toEqual(everywhere(expect.objectContaining({ name: 'higher-id' })));
  });
});

describe('workspaces', () => {
  test.each([
    ['github.com/org/repo', 'repo'],
    ['local:0123456789abcdef0123', 'local-01234567'],
    ['/home/dev/projects/thing', 'thing'],
    ['gitlab.example.com/group/sub/tool/', 'tool'],
    ['_unassociated', '_unassociated'],
  ])('display_name of %s is %s, in code and in the stored row', async (canonical, expected) => {
    expect(displayNameOf(canonical)).toBe(expected);
    await processBatch(ctx.db.sql, [parsed(makeEvent('system.heartbeat', { workspace_id: canonical }))], createDefaultRegistry(), logs.logger);
    const [row] = await ctx.db.sql`SELECT display_name FROM workspaces WHERE canonical_id = ${canonical}`;
    expect(row?.['display_name']).toBe(expected);
  });

  const branchOf = async (p: string) => {
    const [row] = await ctx.db.sql`SELECT default_branch FROM workspaces WHERE canonical_id = ${`github.com/${p}/app`}`;
    return row?.['default_branch'];
  };
  const start = (p: string, id: string, at: string, branch: string | null) =>
    sessionStartEvent(`${p}-${id}`, { workspace_id: `github.com/${p}/app`, device_id: `${p}-dev`, timestamp: T(at), dataOverrides: { git_branch: branch } });

  test('default_branch is the git_branch of the latest session.start that has one', async () => {
    const rows = await inEveryArrangement(ctx.db.sql, logs.logger, (p) => [
      start(p, 's1', '10:00', 'old'),
      start(p, 's2', '12:00', 'newest'),
      start(p, 's3', '11:00', 'middle'),
      start(p, 's4', '13:00', null),
      start(p, 's5', '14:00', ''),
    ], branchOf);
    expect(rows).toEqual(everywhere('newest'));
  });

  test('an older start does not write the workspace row at all', async () => {
    const registry = createDefaultRegistry();
    await processBatch(ctx.db.sql, [parsed(start('hot', 's1', '12:00', 'main'))], registry, logs.logger);
    const version = async () => (await ctx.db.sql`SELECT xmin::text AS v, default_branch FROM workspaces WHERE canonical_id = 'github.com/hot/app'`)[0];
    const before = await version();
    await processBatch(ctx.db.sql, [parsed(start('hot', 's2', '11:00', 'older'))], registry, logs.logger);
    expect(await version()).toEqual(before);
    await processBatch(ctx.db.sql, [parsed(start('hot', 's3', '13:00', 'newer'))], registry, logs.logger);
    expect(await version()).toMatchObject({ default_branch: 'newer' });
    expect((await version())?.['v']).not.toBe(before?.['v']);
  });
});
