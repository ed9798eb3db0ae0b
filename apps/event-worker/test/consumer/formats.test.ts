import { gitCommitEvent, makeEvent, sessionStartEvent, waitFor, type EnvelopeInput } from '@fuel-code/testing';
import { replayDeadLetters } from '@fuel-code/stream';
import { countEvents, field, groupPending, publishAll, readDeadLetters, useConsumerTestEnv } from './helpers';

const env = useConsumerTestEnv('formats');

/** XADD an envelope in the fuel-code server's format: one field per key, JSON for data and blob_refs, '' for null. */
async function publishAsFields(event: EnvelopeInput, overrides: Record<string, string> = {}): Promise<string> {
  const fields: Record<string, string> = {
    id: event.id,
    type: event.type,
    timestamp: event.timestamp,
    device_id: event.device_id,
    workspace_id: event.workspace_id,
    session_id: event.session_id ?? '',
    data: JSON.stringify(event.data),
    blob_refs: JSON.stringify(event.blob_refs ?? []),
    ingested_at: '',
    ...overrides,
  };
  const id = await env.redis.xadd(env.keys.stream, '*', ...Object.entries(fields).flat());
  if (!id) throw new Error('XADD returned no id');
  return id;
}

test('entries in the fuel-code server format are stored as the single-field ones are', async () => {
  const start = sessionStartEvent('fmt-s1', { session_id: null });
  const commit = gitCommitEvent(null, { blob_refs: [{ key: 'k/1', content_type: 'text/plain', size_bytes: 3 }] });
  const asEvent = makeEvent('system.heartbeat');
  await publishAsFields(start);
  await publishAsFields(commit, { ingested_at: '2026-11-29T10:00:00.000Z' });
  await publishAll(env.redis, env.keys.stream, [asEvent]);
  env.start();
  const ids = [start.id, commit.id, asEvent.id];
  await waitFor(async () => (await countEvents(env.db.sql, ids)) === 3, 10_000, { description: 'three events stored' });
  const rows = await env.db.sql<{ id: string; session_id: string | null; blob_refs: unknown; data: Record<string, unknown> }[]>`
    SELECT id, session_id, blob_refs, data FROM events WHERE id = ANY(${ids}) ORDER BY id`;
  const byId = new Map(rows.map((r) => [r.id, r]));
  expect(byId.get(start.id)?.session_id).toBe('fmt-s1');
  expect(byId.get(start.id)?.data['cwd']).toBe(start.data['cwd']);
  expect(byId.get(commit.id)?.blob_refs).toEqual([{ key: 'k/1', content_type: 'text/plain', size_bytes: 3 }]);
  const [session] = await env.db.sql`SELECT lifecycle FROM sessions WHERE id = 'fmt-s1'`;
  expect(session?.['lifecycle']).toBe('detected');
  expect(await readDeadLetters(env.redis, env.keys.deadLetter)).toHaveLength(0);
});

test('a fields-format entry that cannot be stored is dead-lettered with all its fields, and replay writes them back as fields', async () => {
  const event = makeEvent('system.heartbeat');
  const streamId = await publishAsFields(event, { data: '{not json' });
  const consumer = env.start();
  await waitFor(async () => (await readDeadLetters(env.redis, env.keys.deadLetter)).length === 1, 10_000, { description: 'one dead letter' });
  const [letter] = await readDeadLetters(env.redis, env.keys.deadLetter);
  expect(field(letter, 'reason')).toBe('invalid');
  expect(field(letter, 'format')).toBe('fields');
  expect(field(letter, 'stream_id')).toBe(streamId);
  expect(field(letter, 'error')).toMatch(/^data: not valid JSON/);
  const kept = JSON.parse(field(letter, 'event') ?? '') as Record<string, string>;
  expect(kept).toMatchObject({ id: event.id, type: 'system.heartbeat', data: '{not json', session_id: '' });
  await waitFor(async () => (await groupPending(env.redis, env.keys)) === 0, 5000, { description: 'pending 0' });
  await consumer.stop();

  const before = await env.redis.xlen(env.keys.stream);
  const outcomes = await replayDeadLetters(env.redis, { all: true }, { stream: env.keys.stream, deadLetterStream: env.keys.deadLetter });
  expect(outcomes.map((o) => o.status)).toEqual(['replayed']);
  const [[, replayed] = ['', []]] = await env.redis.xrevrange(env.keys.stream, '+', '-', 'COUNT', 1);
  expect(await env.redis.xlen(env.keys.stream)).toBe(before + 1);
  const asObject: Record<string, string> = {};
  for (let i = 0; i + 1 < replayed.length; i += 2) asObject[replayed[i] ?? ''] = replayed[i + 1] ?? '';
  expect(asObject).toEqual(kept);
});

test('unknown types and off-schema payloads are stored, counted and recorded; an unknown type is logged once', async () => {
  const unknown = [makeEvent('team.disband', { data: { session_id: 'x' } }), makeEvent('team.disband'), makeEvent('future.thing')];
  const offSchema = makeEvent('session.start', { data: { _raw: 'hook input was not JSON' } });
  await publishAll(env.redis, env.keys.stream, [...unknown, offSchema]);
  const consumer = env.start();
  const ids = [...unknown, offSchema].map((e) => e.id);
  await waitFor(async () => (await countEvents(env.db.sql, ids)) === 4, 10_000, { description: 'four events stored' });
  await waitFor(async () => (await groupPending(env.redis, env.keys)) === 0, 5000, { description: 'pending 0' });

  expect(consumer.handle.counters()).toMatchObject({ unknownTypes: 3, payloadInvalid: 1, deadLettered: { invalid: 0, failed: 0 } });
  expect(consumer.logs.find('Events of unknown type team.disband')).toHaveLength(1);
  expect(consumer.logs.find('Events of unknown type future.thing')).toHaveLength(1);
  const failures = await env.db.sql`SELECT event_id, error_code, error_message FROM event_handler_failures WHERE event_id = ANY(${ids})`;
  expect(failures).toEqual([
    expect.objectContaining({ event_id: offSchema.id, error_code: 'PAYLOAD_INVALID', error_message: expect.stringMatching(/data\.cc_session_id: is required/) as unknown }),
  ]);
  const [stored] = await env.db.sql`SELECT data FROM events WHERE id = ${offSchema.id}`;
  expect(stored?.['data']).toEqual({ _raw: 'hook input was not JSON' });
  const sessions = await env.db.sql`SELECT id FROM sessions WHERE id = 'x'`;
  expect(sessions).toHaveLength(0);
  expect(await readDeadLetters(env.redis, env.keys.deadLetter)).toHaveLength(0);
});
