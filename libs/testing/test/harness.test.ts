import { captureLogs, createTestDatabase, uniqueStreamKeys, waitFor } from '@fuel-code/testing';

test('waitFor resolves with the first truthy value', async () => {
  let calls = 0;
  const value = await waitFor(() => (++calls >= 3 ? { calls } : undefined), 1000, { intervalMs: 1 });
  expect(value).toEqual({ calls: 3 });
});

test('waitFor times out naming what it waited for and the last error', async () => {
  await expect(
    waitFor(
      () => {
        throw new Error('still down');
      },
      50,
      { description: 'the server', intervalMs: 5 },
    ),
  ).rejects.toThrow(/the server not met within 50 ms; last error: still down/);
});

test('captureLogs keeps pino JSON lines with their fields', async () => {
  const capture = captureLogs('info');
  capture.logger.child({ component: 'x' }).info({ eventId: 'e1' }, 'hello world');
  capture.logger.debug('below the level');
  expect(capture.lines).toHaveLength(1);
  expect(capture.find('hello')[0]).toMatchObject({ level: 30, component: 'x', eventId: 'e1', msg: 'hello world' });
  setImmediate(() => capture.logger.warn('later'));
  await expect(capture.waitForLine(/lat/, 1000)).resolves.toMatchObject({ level: 40 });
});

test('each test database is migrated and separate from the others', async () => {
  const [a, b] = await Promise.all([createTestDatabase('iso'), createTestDatabase('iso')]);
  if (!a || !b) throw new Error('databases not created');
  try {
    expect(a.name).not.toBe(b.name);
    await a.sql`INSERT INTO devices (id, name, first_seen_at, last_seen_at) VALUES ('only-in-a', 'a', now(), now())`;
    const inB = await b.sql`SELECT 1 FROM devices WHERE id = 'only-in-a'`;
    expect(inB).toHaveLength(0);
    const migrated = await b.sql`SELECT count(*)::int AS n FROM schema_migrations`;
    expect(migrated[0]?.['n']).toBeGreaterThan(0);
  } finally {
    await Promise.all([a.drop(), b.drop()]);
  }
});

test('stream keys are unique per call', () => {
  const a = uniqueStreamKeys('t');
  const b = uniqueStreamKeys('t');
  expect(a.stream).not.toBe(b.stream);
  expect(a.group).not.toBe(b.group);
  expect(a.deadLetter).not.toBe(b.deadLetter);
});
