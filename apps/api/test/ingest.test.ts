import type Redis from 'ioredis';
import { parseEventJson } from '@fuel-code/core';
import {
  captureLogs,
  createTestRedis,
  deleteKeys,
  gitCommitEvent,
  makeEvent,
  sessionEndEvent,
  sessionStartEvent,
  testRedisUrl,
  uniqueStreamKeys,
  type LogCapture,
  type TestStreamKeys,
} from '@fuel-code/testing';
import { API_KEY, health, ingest, postRaw, request, startApp, streamEntries, type TestApp } from './helpers';

let keys: TestStreamKeys;
let logs: LogCapture;
let t: TestApp;
let reader: Redis;

beforeAll(() => {
  reader = createTestRedis();
});

afterAll(async () => {
  reader.disconnect();
});

beforeEach(async () => {
  keys = uniqueStreamKeys('api');
  logs = captureLogs('trace');
  t = await startApp(testRedisUrl(), logs.logger, { eventsStream: keys.stream });
});

afterEach(async () => {
  await t.close();
  await deleteKeys(reader, keys);
});

describe('POST /api/events/ingest: accepted batches', () => {
  test('202, and each event is one stream entry with the single field `event` that parses back', async () => {
    const events = [sessionStartEvent('sess-1'), gitCommitEvent('sess-1'), sessionEndEvent('sess-1')];
    const res = await ingest(t.url, events);

    expect(res.status).toBe(202);
    expect(res.json()).toEqual({
      ingested: 3,
      duplicates: 0,
      duplicate_ids: [],
      rejected: 0,
      results: [
        { index: 0, status: 'accepted' },
        { index: 1, status: 'accepted' },
        { index: 2, status: 'accepted' },
      ],
      errors: [],
    });

    const entries = await streamEntries(reader, keys.stream);
    expect(entries).toHaveLength(3);
    entries.forEach((entry, i) => {
      expect(Object.keys(entry.fields)).toEqual(['event']);
      const json = entry.fields['event'] ?? '';
      expect(JSON.parse(json)).toEqual(events[i]);
      const parsed = parseEventJson(json);
      expect(parsed.ok && parsed.event.id).toBe(events[i]?.id);
    });
  });

  test('publishes the envelope as sent: defaults are left to the worker', async () => {
    const event = makeEvent('git.push', { workspace_id: '', data: { ref: 'main' } });
    expect(event.blob_refs).toBeUndefined();
    const res = await ingest(t.url, [event]);
    expect(res.status).toBe(202);
    const [entry] = await streamEntries(reader, keys.stream);
    expect(entry?.fields['event']).toBe(JSON.stringify(event));
  });

  test("publishes each event's own bytes from the body, not a re-serialization; a body whose text is ambiguous is re-serialized", async () => {
    const a = makeEvent('system.heartbeat', { data: { note: 'é \\u00e9 "q" ]}' } });
    const b = makeEvent('system.heartbeat');
    const texts = [JSON.stringify(a, null, 2), `{ "id" : "${b.id}",${JSON.stringify(b).slice(1).replace(/,/g, ' , ')}`];
    const body = `{\n "events" : [ ${texts.join(' ,\n ')} ]\n}`;
    expect((await postRaw(t.url, body)).status).toBe(202);
    expect((await streamEntries(reader, keys.stream)).map((e) => e.fields['event'])).toEqual(texts);

    // A repeated `events` key: JSON.parse keeps the last, and so does what is published.
    const c = makeEvent('system.heartbeat');
    const repeated = `{"events":[${JSON.stringify(a)}],"events":[ ${JSON.stringify(c, null, 1)} ]}`;
    expect((await postRaw(t.url, repeated)).json()).toMatchObject({ ingested: 1 });
    const entries = await streamEntries(reader, keys.stream);
    expect(entries.map((e) => e.fields['event'])).toEqual([...texts, JSON.stringify(c)]);
  });

  test('a mixed batch: sound envelopes published, broken ones rejected by index with the field named', async () => {
    const good0 = gitCommitEvent('s');
    const bad1 = makeEvent('git.commit', { id: 'not-a-ulid' });
    const good2 = sessionStartEvent('s');
    // Off-schema payload: accepted (the worker stores it and records why no handler ran).
    const offSchema3 = sessionEndEvent('s', { dataOverrides: { end_reason: 'bored' } });
    const bad4 = 'not an object';
    const good5 = makeEvent('system.heartbeat');
    const bad6 = makeEvent('system.heartbeat', { data: { note: 'nul \u0000 inside' } });

    const res = await ingest(t.url, [good0, bad1, good2, offSchema3, bad4, good5, bad6]);

    expect(res.status).toBe(202);
    const body = res.json<{
      ingested: number;
      rejected: number;
      results: { index: number; status: string }[];
      errors: { index: number; error: string }[];
    }>();
    expect(body.ingested).toBe(4);
    expect(body.rejected).toBe(3);
    expect(body.results).toEqual([
      { index: 0, status: 'accepted' },
      { index: 1, status: 'rejected' },
      { index: 2, status: 'accepted' },
      { index: 3, status: 'accepted' },
      { index: 4, status: 'rejected' },
      { index: 5, status: 'accepted' },
      { index: 6, status: 'rejected' },
    ]);
    expect(body.errors.map((e) => e.index)).toEqual([1, 4, 6]);
    expect(body.errors[0]?.error).toMatch(/^id: /);
    expect(body.errors[1]?.error).toBeTruthy();
    expect(body.errors[2]?.error).toMatch(/^data\.note: .*U\+0000/);

    const published = (await streamEntries(reader, keys.stream)).map((e) => JSON.parse(e.fields['event'] ?? '') as { id: string });
    expect(published.map((e) => e.id)).toEqual([good0.id, good2.id, offSchema3.id, good5.id]);
  });

  test('a batch of only broken envelopes is 202 with nothing published', async () => {
    const res = await ingest(t.url, [makeEvent('not a type'), { id: 1 }]);
    expect(res.status).toBe(202);
    expect(res.json()).toMatchObject({ ingested: 0, rejected: 2 });
    expect(await reader.exists(keys.stream)).toBe(0);
  });

  test('what the fuel-code client sends is accepted: unknown types, {_raw} payloads, _attempts, ingested_at, null session ids', async () => {
    const events = [
      makeEvent('subagent.start', { data: { session_id: 'cc-1', agent_id: 'a', agent_type: 'task', _device_name: 'box' } }),
      makeEvent('team.disband', { data: { session_id: 'cc-1' } }),
      { ...makeEvent('session.start', { data: { _raw: 'not json' } }), _attempts: 2, ingested_at: null },
      { ...sessionEndEvent('cc-1', { session_id: null, dataOverrides: { duration_ms: 0 } }), ingested_at: '2026-11-29T10:00:00.000Z' },
    ];
    const res = await ingest(t.url, events);
    expect(res.status).toBe(202);
    expect(res.json()).toMatchObject({ ingested: 4, rejected: 0, duplicates: 0 });
    expect(await streamEntries(reader, keys.stream)).toHaveLength(4);
  });

  test('ids repeated within a request are published once and reported as duplicates', async () => {
    const a = makeEvent('system.heartbeat');
    const b = makeEvent('system.heartbeat');
    const res = await ingest(t.url, [a, b, a, { ...a, data: { other: true } }, b]);
    expect(res.status).toBe(202);
    expect(res.json()).toMatchObject({
      ingested: 2,
      duplicates: 3,
      duplicate_ids: [a.id, b.id],
      rejected: 0,
      results: [
        { index: 0, status: 'accepted' },
        { index: 1, status: 'accepted' },
        { index: 2, status: 'duplicate' },
        { index: 3, status: 'duplicate' },
        { index: 4, status: 'duplicate' },
      ],
    });
    const published = (await streamEntries(reader, keys.stream)).map((e) => JSON.parse(e.fields['event'] ?? '') as { id: string });
    expect(published.map((e) => e.id)).toEqual([a.id, b.id]);
  });

  test('what the worker could never store is refused up front, with the reason', async () => {
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 80; i++) cursor = (cursor['n'] = {}) as Record<string, unknown>;
    const cases: [unknown, RegExp][] = [
      [makeEvent('system.heartbeat', { workspace_id: 'w'.repeat(600) }), /^workspace_id: /],
      [makeEvent('system.heartbeat', { session_id: 's'.repeat(600) }), /^session_id: /],
      [makeEvent('system.heartbeat', { timestamp: '0000-01-01T00:00:00Z' }), /^timestamp: .*years/],
      [makeEvent('system.heartbeat', { data: { s: 'lone \ud800 half' } }), /surrogate/],
      [makeEvent('system.heartbeat', { data: deep }), /deeper than 64/],
    ];
    const res = await ingest(t.url, cases.map(([event]) => event));
    const body = res.json<{ ingested: number; errors: { index: number; error: string }[] }>();
    expect(body.ingested).toBe(0);
    cases.forEach(([, rule], index) => expect(body.errors.find((e) => e.index === index)?.error).toMatch(rule));
    expect(await reader.exists(keys.stream)).toBe(0);
  });

  test('100 events is the most a batch may hold', async () => {
    const events = Array.from({ length: 100 }, () => makeEvent('system.heartbeat'));
    const res = await ingest(t.url, events);
    expect(res.status).toBe(202);
    expect(res.json()).toMatchObject({ ingested: 100, rejected: 0 });
    expect(await reader.xlen(keys.stream)).toBe(100);
  });

  test('the response carries a request id, and the request is logged with it, its status and duration', async () => {
    const res = await ingest(t.url, [makeEvent('system.heartbeat')]);
    const requestId = res.headers.get('x-request-id');
    expect(typeof requestId).toBe('string');
    const done = await logs.waitForLine('request completed');
    expect(done).toMatchObject({ reqId: requestId, res: { statusCode: 202 } });
    expect(typeof done['responseTime']).toBe('number');
  });
});

describe('POST /api/events/ingest: refused requests', () => {
  const raw = (payload: string, contentType = 'application/json') => postRaw(t.url, payload, { contentType });

  test.each([
    ['not JSON', '{"events": [', 'application/json', /not valid JSON/],
    ['an empty body', '', 'application/json', /empty/],
    ['JSON that is not an object', '[{"id": "x"}]', 'application/json', /JSON object/],
    ['JSON null', 'null', 'application/json', /JSON object/],
    ['no events field', '{"event": []}', 'application/json', /events must be an array/],
    ['events not an array', '{"events": {"0": {}}}', 'application/json', /events must be an array/],
    ['zero events', '{"events": []}', 'application/json', /1 to 100 events, got 0/],
    ['101 events', JSON.stringify({ events: Array.from({ length: 101 }, () => ({})) }), 'application/json', /1 to 100 events, got 101/],
    ['a text body', 'hello', 'text/plain', /JSON object/],
    ['another media type', '<events/>', 'application/xml', /must be JSON/],
  ])('400 for %s', async (_label, payload, contentType, message) => {
    const res = await raw(payload, contentType);
    expect(res.status).toBe(400);
    expect(res.json<{ error: string }>().error).toMatch(message);
    expect(await reader.exists(keys.stream)).toBe(0);
  });

  test('a JSON parse error is not echoed: V8 quotes a slice of the body in it', async () => {
    const res = await raw('{"events": [SECRET-PAYLOAD');
    expect(res.status).toBe(400);
    expect(res.body).not.toContain('SECRET-PAYLOAD');
    expect(logs.text()).not.toContain('SECRET-PAYLOAD');
  });

  test('413 for a body over 1 MiB', async () => {
    const big = makeEvent('git.commit', { data: { diff: 'x'.repeat(1024 * 1024) } });
    const res = await ingest(t.url, [big]);
    expect(res.status).toBe(413);
    expect(res.json<{ error: string }>().error).toMatch(/at most 1048576 bytes/);
    expect(await reader.exists(keys.stream)).toBe(0);
  });

  test('a body just under 1 MiB is fine', async () => {
    const envelope = makeEvent('git.commit', { data: { diff: '' } });
    const overhead = JSON.stringify({ events: [envelope] }).length;
    envelope.data['diff'] = 'x'.repeat(1024 * 1024 - overhead);
    expect(JSON.stringify({ events: [envelope] }).length).toBe(1024 * 1024);
    expect((await ingest(t.url, [envelope])).status).toBe(202);
  });

  test('401 for a missing key, a wrong key of the same length and of another length; same answer, key never logged', async () => {
    const sameLength = API_KEY.replace(/.$/, (c) => (c === 'x' ? 'y' : 'x'));
    expect(sameLength).toHaveLength(API_KEY.length);
    const attempts = [
      await ingest(t.url, [makeEvent('system.heartbeat')], null),
      await ingest(t.url, [makeEvent('system.heartbeat')], sameLength),
      await ingest(t.url, [makeEvent('system.heartbeat')], 'short'),
      await ingest(t.url, [makeEvent('system.heartbeat')], `${API_KEY}-longer-than-the-real-one`),
      await postRaw(t.url, '{}', { authorization: `Basic ${API_KEY}` }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(401);
      expect(res.json()).toEqual({ error: 'missing or invalid API key' });
    }
    expect(await reader.exists(keys.stream)).toBe(0);

    // And with the right key, for the log assertion to cover a successful request too.
    expect((await ingest(t.url, [makeEvent('system.heartbeat')])).status).toBe(202);
    const text = logs.text();
    expect(logs.find('request completed')).toHaveLength(6);
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(sameLength);
    expect(text).not.toContain('Bearer');
  });

  test('the key is checked before the body is read: a huge unauthenticated body is 401, not 413', async () => {
    const big = makeEvent('git.commit', { data: { diff: 'x'.repeat(2 * 1024 * 1024) } });
    expect((await ingest(t.url, [big], 'wrong')).status).toBe(401);
  });

  test('an Authorization header logged by anyone through the server logger is redacted', () => {
    t.app.log.info({ req: { headers: { authorization: `Bearer ${API_KEY}` } } }, 'probe');
    t.app.log.info({ headers: { authorization: `Bearer ${API_KEY}` } }, 'probe');
    expect(logs.text()).not.toContain(API_KEY);
  });

  test('payloads are never logged', async () => {
    const event = gitCommitEvent('s', { data: { message: 'PAYLOAD-MARKER' } });
    await ingest(t.url, [event, makeEvent('git.commit', { id: 'bad', data: { message: 'PAYLOAD-MARKER' } })]);
    expect(logs.find('Ingested batch')[0]).toMatchObject({ ingested: 1, rejected: 1 });
    expect(logs.text()).not.toContain('PAYLOAD-MARKER');
    expect(logs.text()).not.toContain(event.id);
  });
});

describe('GET /api/health and other routes', () => {
  test('200 {status: "ok"} without a key when Redis answers', async () => {
    const res = await health(t.url);
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  test('an unknown route is a JSON 404', async () => {
    const res = await request(`${t.url}/nope?x=1`);
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({ error: 'no route for GET /nope' });
  });
});
