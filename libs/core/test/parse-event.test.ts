import { sessionEndEvent, sessionStartEvent, makeEvent } from '@fuel-code/testing';
import { EVENT_TYPES, InvalidEventError, parseEvent, parseEventJson } from '@fuel-code/core';

function expectInvalid(input: unknown, field: string): InvalidEventError {
  const result = parseEvent(input);
  if (result.ok) throw new Error(`expected ${field} to be rejected`);
  expect(result.error).toBeInstanceOf(InvalidEventError);
  expect(result.error.code).toBe('EVENT_INVALID');
  expect(result.error.issues.map((i) => i.field)).toContain(field);
  expect(result.error.message).toContain(field);
  return result.error;
}

/** A sound envelope whose payload fails its schema: accepted, stored, not handled. */
function expectOffSchema(input: unknown, field: string): string {
  const result = parseEvent(input);
  if (!result.ok) throw new Error(`expected an event with an off-schema payload, got: ${result.error.message}`);
  if (result.event.payload !== 'invalid') throw new Error(`expected ${field} to fail the payload schema`);
  expect(result.event.payloadError).toContain(field);
  return result.event.payloadError ?? '';
}

function expectValid(input: unknown) {
  const result = parseEvent(input);
  if (!result.ok) throw new Error(`expected valid, got: ${result.error.message}`);
  return result.event;
}

describe('parseEvent: the envelope (CONTRACT §1)', () => {
  test('id must be a ULID', () => {
    expectValid(makeEvent('git.commit', { id: '01HZY8K3V4Q5R6S7T8V9W0X1YZ' }));
    expectInvalid(makeEvent('git.commit', { id: 'not-a-ulid' }), 'id');
    expectInvalid(makeEvent('git.commit', { id: '01HZY8K3V4Q5R6S7T8V9W0X1Y' }), 'id'); // 25 chars
    expectInvalid(makeEvent('git.commit', { id: '01HZY8K3V4Q5R6S7T8V9W0X1YI' }), 'id'); // I is not Crockford
    expectInvalid(makeEvent('git.commit', { id: '01hzy8k3v4q5r6s7t8v9w0x1yz' }), 'id'); // lower case
  });

  test('type: the 21 known types, an unknown well-formed name kept as such, anything else refused', () => {
    for (const type of EVENT_TYPES) expect(expectValid(makeEvent(type)).type).toBe(type);
    expect(EVENT_TYPES).toHaveLength(21);
    expect(expectValid(makeEvent('git.rebase'))).toMatchObject({ type: 'git.rebase', payload: 'unknown-type' });
    expectInvalid({ ...makeEvent('git.commit'), type: 42 }, 'type');
    expectInvalid(makeEvent('has space'), 'type');
    expectInvalid(makeEvent(''), 'type');
  });

  test('timestamp must be ISO-8601 with an offset', () => {
    expectValid(makeEvent('git.commit', { timestamp: '2026-11-27T10:00:00Z' }));
    expectValid(makeEvent('git.commit', { timestamp: '2026-11-27T10:00:00.123+05:30' }));
    expectInvalid(makeEvent('git.commit', { timestamp: '2026-11-27T10:00:00' }), 'timestamp');
    expectInvalid(makeEvent('git.commit', { timestamp: 'yesterday' }), 'timestamp');
    expectInvalid(makeEvent('git.commit', { timestamp: '2026-11-27' }), 'timestamp');
  });

  test('device_id is 1..200 chars', () => {
    expectValid(makeEvent('git.commit', { device_id: 'd' }));
    expectValid(makeEvent('git.commit', { device_id: 'd'.repeat(200) }));
    expectInvalid(makeEvent('git.commit', { device_id: '' }), 'device_id');
    expectInvalid(makeEvent('git.commit', { device_id: 'd'.repeat(201) }), 'device_id');
  });

  test('workspace_id: a canonical name, empty meaning _unassociated', () => {
    expect(expectValid(makeEvent('git.commit', { workspace_id: 'github.com/acme/app' })).workspace_id).toBe(
      'github.com/acme/app',
    );
    expect(expectValid(makeEvent('git.commit', { workspace_id: '' })).workspace_id).toBe('_unassociated');
    expectInvalid({ ...makeEvent('git.commit'), workspace_id: null }, 'workspace_id');
  });

  test('session_id is a string or null, and must be present', () => {
    expect(expectValid(makeEvent('git.commit', { session_id: 'sess-1' })).session_id).toBe('sess-1');
    expect(expectValid(makeEvent('git.commit', { session_id: null })).session_id).toBeNull();
    expectInvalid({ ...makeEvent('git.commit'), session_id: 7 }, 'session_id');
    const { session_id: _omitted, ...withoutSession } = makeEvent('git.commit');
    expectInvalid(withoutSession, 'session_id');
  });

  test('data must be a JSON object', () => {
    expectValid(makeEvent('git.commit', { data: { any: ['thing', 1] } }));
    expectInvalid({ ...makeEvent('git.commit'), data: [1, 2] }, 'data');
    expectInvalid({ ...makeEvent('git.commit'), data: 'a string' }, 'data');
    expectInvalid({ ...makeEvent('git.commit'), data: null }, 'data');
    const { data: _omitted, ...withoutData } = makeEvent('git.commit');
    expectInvalid(withoutData, 'data');
  });

  test('blob_refs is optional, defaults to [] and is checked when present', () => {
    const { blob_refs: _none, ...withoutBlobs } = makeEvent('git.commit');
    expect(expectValid(withoutBlobs).blob_refs).toEqual([]);
    const ref = { key: 'transcripts/a.jsonl', content_type: 'application/jsonl', size_bytes: 1024 };
    expect(expectValid(makeEvent('git.commit', { blob_refs: [ref] })).blob_refs).toEqual([ref]);
    expectInvalid({ ...makeEvent('git.commit'), blob_refs: [{ key: 'k', content_type: 'x', size_bytes: -1 }] }, 'blob_refs.0.size_bytes');
    expectInvalid({ ...makeEvent('git.commit'), blob_refs: {} }, 'blob_refs');
  });

  test('a non-object envelope is refused, not thrown', () => {
    for (const input of [null, undefined, 42, 'event', [makeEvent('git.commit')]]) {
      const result = parseEvent(input);
      expect(result.ok).toBe(false);
    }
  });

  test('parseEventJson refuses bytes that are not JSON with a reason', () => {
    const result = parseEventJson('{"id": ');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/not valid JSON/);
    expect(parseEventJson(JSON.stringify(makeEvent('git.push'))).ok).toBe(true);
  });
});

describe('parseEvent: payload schemas', () => {
  const startRules: [string, unknown, unknown][] = [
    ['cc_session_id', 's', ''],
    ['cwd', '/x', ''],
    ['git_branch', null, 5],
    ['git_remote', null, 5],
    ['cc_version', null, 5],
    ['model', null, 5],
    ['source', 'resume', 'reboot'],
    ['transcript_path', '/t', null],
  ];
  test.each(startRules)('session.start data.%s: good and bad', (field, good, bad) => {
    expect(expectValid(sessionStartEvent('s1', { dataOverrides: { [field]: good } })).payload).toBe('valid');
    expectOffSchema(sessionStartEvent('s1', { dataOverrides: { [field]: bad } }), `data.${field}`);
  });

  test.each(['startup', 'resume', 'clear', 'compact', 'backfill'])('session.start source %s is accepted', (source) => {
    expectValid(sessionStartEvent('s1', { dataOverrides: { source } }));
  });

  const endRules: [string, unknown, unknown][] = [
    ['cc_session_id', 's', ''],
    ['duration_ms', 0, -1],
    ['duration_ms', 1500, 1.5],
    ['end_reason', 'crash', 'timeout'],
    ['transcript_path', '/t', 3],
  ];
  test.each(endRules)('session.end data.%s: good %p, bad %p', (field, good, bad) => {
    expect(expectValid(sessionEndEvent('s1', { dataOverrides: { [field]: good } })).payload).toBe('valid');
    expectOffSchema(sessionEndEvent('s1', { dataOverrides: { [field]: bad } }), `data.${field}`);
  });

  test.each(['exit', 'clear', 'logout', 'crash'])('session.end end_reason %s is accepted', (end_reason) => {
    expectValid(sessionEndEvent('s1', { dataOverrides: { end_reason } }));
  });

  test('a required payload field that is missing is named', () => {
    const event = sessionStartEvent('s1');
    delete event.data['cwd'];
    expect(expectOffSchema(event, 'data.cwd')).toMatch(/data\.cwd: is required/);
  });

  test('other types take any JSON object and keep it whole', () => {
    const data = { nested: { deep: [1, { x: null }] }, flag: true };
    expect(expectValid(makeEvent('system.heartbeat', { data })).data).toEqual(data);
  });

  test('payload fields beyond the schema are kept', () => {
    const event = expectValid(sessionStartEvent('s1', { dataOverrides: { extra: 'kept' } }));
    expect(event.data['extra']).toBe('kept');
  });
});
