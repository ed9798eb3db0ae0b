import { gitCommitEvent, makeEvent, seededRandom, sessionEndEvent, sessionStartEvent } from '@fuel-code/testing';
import { EVENT_TYPES, parseEvent, parseEventJson, type EventType } from '@fuel-code/core';
import { fastEnvelopeOk, fastParseEvent, fastPayloadCheck } from '../src/fast-parse';
import { parseEventWithZod } from '../src/parse-event';
import { storableJsonText } from '../src/storable';

/*
 * fast-parse.ts may only accept what zod accepts, and must return what zod returns. Held to
 * that here over valid events of every type and over every single-field mutation of them
 * (deleted, retyped, out of range, wrong format), plus random multi-field ones.
 */

type Json = Record<string, unknown>;

/** A valid payload of each known type, with the optional fields set. */
export const VALID_DATA: Record<string, Json> = {
  'session.compact': { cc_session_id: 's-1', compact_sequence: 2, transcript_path: 't' },
  'git.push': { branch: 'main', remote: 'origin', commit_count: 2, commits: ['a', 'b'] },
  'git.checkout': { from_ref: 'a', to_ref: 'b', from_branch: 'main', to_branch: null },
  'git.merge': { merge_commit: 'c', message: 'm', merged_branch: 'f', into_branch: 'main', files_changed: 3, had_conflicts: false },
  'subagent.start': { session_id: 's-1', agent_id: 'a-1', agent_type: 'task', agent_name: 'n', model: 'm', team_name: 't', isolation: 'worktree', run_in_background: true },
  'subagent.stop': { session_id: 's-1', agent_id: 'a-1', agent_type: 'task', agent_transcript_path: 'p' },
  'team.create': { session_id: 's-1', team_name: 't', description: 'd' },
  'team.message': { session_id: 's-1', team_name: 't', message_type: 'chat', from: 'a', to: 'b' },
  'skill.invoke': { session_id: 's-1', skill_name: 'commit', args: '-m x', invoked_by: 'user' },
  'worktree.create': { session_id: 's-1', worktree_name: 'w', branch: 'b' },
  'worktree.remove': { session_id: 's-1', worktree_name: 'w', had_changes: true },
};

function validEvents(): Json[] {
  const events: object[] = [
    sessionStartEvent('s-1'),
    sessionStartEvent('s-2', { workspace_id: '', dataOverrides: { git_branch: null, model: null, git_remote: null, cc_version: null, source: 'backfill', extra: { a: 1 } } }),
    sessionStartEvent('s-4', { workspace_id: '  ', dataOverrides: { _device_name: 'laptop', _device_type: 'local' } }),
    sessionEndEvent('s-1'),
    sessionEndEvent('s-3', { dataOverrides: { duration_ms: 2_147_483_647, end_reason: 'crash', cwd: null, model: 'm' } }),
    gitCommitEvent('s-1'),
    gitCommitEvent(null, { blob_refs: [{ key: 'k/1', content_type: 'text/plain', size_bytes: 12 }] }),
    makeEvent('system.heartbeat', { timestamp: '2026-11-27T10:00:00.123456+05:30', data: { _raw: 'not json' } }),
    makeEvent('git.push', { timestamp: '2024-02-29T23:59:59Z', device_id: 'd'.repeat(200), data: VALID_DATA['git.push'] ?? {} }),
    makeEvent('future.type', { data: { anything: [1, { deep: true }] } }),
    { ...makeEvent('team.message', { data: VALID_DATA['team.message'] ?? {} }), ingested_at: null, _attempts: 2 },
    { ...makeEvent('skill.invoke', { data: VALID_DATA['skill.invoke'] ?? {} }), ingested_at: '2026-11-27T10:00:00Z' },
  ];
  for (const type of EVENT_TYPES) {
    if (type.startsWith('session.start') || type.startsWith('session.end') || type === 'git.commit') continue;
    events.push(makeEvent(type, { data: { ...(VALID_DATA[type] ?? {}), n: 1, nested: { list: [1, 'a', null] } } }));
  }
  // zod strips keys a blob ref does not define.
  events.push({ ...gitCommitEvent(null), blob_refs: [{ key: 'k', content_type: 'a/b', size_bytes: 0, etag: 'x' }] });
  // As the stream hands them over: parsed from JSON.
  return events.map((e) => JSON.parse(JSON.stringify(e)) as Json);
}

const ODD_VALUES: unknown[] = [
  undefined, null, '', 'x', 'd'.repeat(201), 0, -1, 1.5, 2_147_483_648, Number.MAX_SAFE_INTEGER + 2, true, [], {}, [{}],
  '01hzy8k3v4q5r6s7t8v9w0x1yz', '01HZY8K3V4Q5R6S7T8V9W0X1YI', '2026-11-27T10:00:00', '2026-02-30T10:00:00Z', '2026-11-27 10:00:00Z',
  'startup', 'clear', 'git.rebase', 'session.end', { key: '', content_type: 'a', size_bytes: 1 },
  'a\u0000b', 'a\ud800b', '\ude00', 'x'.repeat(513), '文'.repeat(257), '0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '9999-12-31T23:59:59-05:00',
  '1970-01-01T00:00:00Z', '9999-12-31T23:59Z', '1969-12-31T23:59:59-01:00', '1970-01-01T00:30:00+01:00', '😀', 'é\ud83d',
  'has space', 'backfill', [{ path: 'a', status: 'M' }], [{ path: 1 }], ['a', 2], { a: { b: { c: 'd\u0000' } } },
  JSON.parse('{"k\\u0000": 1}') as unknown, nested(70),
];

/** An object nested n levels deep. */
function nested(n: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < n; i++) value = { v: value };
  return value;
}

function withField(value: Json, path: readonly string[], replacement: unknown): Json {
  const copy = JSON.parse(JSON.stringify(value)) as Json;
  let target: Json = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Json;
  const last = path[path.length - 1] ?? '';
  if (replacement === undefined) delete target[last];
  else target[last] = replacement;
  return copy;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function fieldPaths(event: Json): string[][] {
  const paths: string[][] = Object.keys(event).map((k) => [k]);
  const data = event['data'];
  if (isObject(data)) for (const k of Object.keys(data)) paths.push(['data', k]);
  const refs = event['blob_refs'];
  if (Array.isArray(refs) && isObject(refs[0])) for (const k of Object.keys(refs[0])) paths.push(['blob_refs', '0', k]);
  return paths;
}

/**
 * The fast check either declines, or agrees with zod exactly; fastEnvelopeOk says true only of
 * what zod takes as an event (whatever its payload), and always when fastParseEvent accepts. So
 * does the stream's route, from the JSON text (where storableJsonText may stand in for the walk).
 */
function expectSoundOn(input: unknown): 'fast' | 'zod-only' {
  const fast = fastParseEvent(input);
  const zod = parseEventWithZod(input);
  const envelopeOk = fastEnvelopeOk(input);
  if (envelopeOk && !zod.ok) throw new Error(`fastEnvelopeOk accepted what zod refuses (${zod.error.message}): ${JSON.stringify(input)}`);
  if (fast !== undefined) expect(envelopeOk).toBe(true);
  if (input !== undefined) {
    const text = JSON.stringify(input);
    const fromText = parseEventJson(text);
    const zodOfText = parseEventWithZod(JSON.parse(text));
    expect(fromText.ok ? fromText.event : fromText.error.message).toStrictEqual(zodOfText.ok ? zodOfText.event : zodOfText.error.message);
  }
  if (fast === undefined) return 'zod-only';
  if (!zod.ok) throw new Error(`fast-parse accepted what zod refuses (${zod.error.message}): ${JSON.stringify(input)}`);
  expect(fast).toStrictEqual(zod.event);
  return 'fast';
}

test('every valid event is accepted by the fast check, with the value zod gives', () => {
  for (const event of validEvents()) expect([event['type'], expectSoundOn(event)]).toEqual([event['type'], 'fast']);
});

test('single-field mutations: the fast check never accepts what zod refuses, and returns what zod returns', () => {
  let refusedByZod = 0;
  let mutations = 0;
  for (const event of validEvents()) {
    for (const path of fieldPaths(event)) {
      for (const value of ODD_VALUES) {
        const mutated = withField(event, path, value);
        mutations++;
        expectSoundOn(mutated);
        const zod = parseEventWithZod(mutated);
        if (!zod.ok || zod.event.payload !== 'valid') refusedByZod++;
      }
    }
  }
  // The mutations really do probe the edges: most of them are refused.
  expect(mutations).toBeGreaterThan(3000);
  expect(refusedByZod).toBeGreaterThan(mutations / 2);
});

test('random multi-field mutations agree too', () => {
  const random = seededRandom(7);
  const events = validEvents();
  for (let i = 0; i < 3000; i++) {
    let mutated = events[Math.floor(random() * events.length)] ?? {};
    for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
      const paths = fieldPaths(mutated);
      const path = paths[Math.floor(random() * paths.length)] ?? ['id'];
      mutated = withField(mutated, path, ODD_VALUES[Math.floor(random() * ODD_VALUES.length)]);
    }
    expectSoundOn(mutated);
  }
});

test('shapes zod handles specially go to zod: a __proto__ key, a non-plain object, extra envelope keys', () => {
  const proto = JSON.parse(`{"__proto__": {"x": 1}, "n": 1}`) as Json;
  const withProto = { ...validEvents()[4], data: proto };
  expect(fastParseEvent(withProto)).toBeUndefined();
  const parsed = parseEvent(withProto);
  expect(parsed.ok && parsed.event.data).toEqual({ n: 1 });

  expect(fastParseEvent(new Map())).toBeUndefined();
  expect(fastParseEvent([])).toBeUndefined();
  // zod strips envelope keys it does not know; so does the fast check.
  const extra = { ...validEvents()[0], unknown_key: 1 };
  expect(expectSoundOn(extra)).toBe('fast');
  expect(fastParseEvent(extra)).not.toHaveProperty('unknown_key');
});

test('the payload checks agree with the schemas on every type', () => {
  const start = sessionStartEvent('s-9').data as Json;
  const end = sessionEndEvent('s-9').data as Json;
  expect(fastPayloadCheck('session.start', start)).toBe(true);
  expect(fastPayloadCheck('session.end', end)).toBe(true);
  expect(fastPayloadCheck('session.start', { ...start, source: 'reboot' })).toBe(false);
  expect(fastPayloadCheck('session.end', { ...end, duration_ms: -1 })).toBe(false);
  expect(fastPayloadCheck('session.end', { ...end, duration_ms: 1.5 })).toBe(false);
  for (const [type, data] of Object.entries(VALID_DATA)) {
    expect(fastPayloadCheck(type as EventType, data)).toBe(true);
    expect(fastPayloadCheck(type as EventType, {})).toBe(false);
  }
});

test('what each outcome looks like: valid, off-schema, unknown type, refused', () => {
  const hints = parseEvent(sessionStartEvent('s-5', { dataOverrides: { _device_name: 'Box', _device_type: 'remote' } }));
  expect(hints.ok && hints.event).toMatchObject({ payload: 'valid', device_name: 'Box', device_type: 'remote' });
  expect(hints.ok && hints.event.data).not.toHaveProperty('_device_name');
  const raw = parseEvent(makeEvent('session.start', { data: { _raw: 'oops' } }));
  expect(raw.ok && raw.event).toMatchObject({ payload: 'invalid', data: { _raw: 'oops' } });
  expect(raw.ok && raw.event.payload === 'invalid' && raw.event.payloadError).toMatch(/data\.cc_session_id/);
  const unknown = parseEvent(makeEvent('team.disband', { data: { x: 1 } }));
  expect(unknown.ok && unknown.event).toMatchObject({ payload: 'unknown-type', type: 'team.disband' });
  const blank = parseEvent(makeEvent('system.heartbeat', { workspace_id: ' \t' }));
  expect(blank.ok && blank.event.workspace_id).toBe('_unassociated');
  for (const [field, value, rule] of [
    ['timestamp', '0000-01-01T00:00:00Z', /years/],
    ['session_id', 's'.repeat(513), /512/],
    ['workspace_id', 'w'.repeat(513), /512/],
    ['data', { note: 'a\u0000' }, /U\+0000/],
    ['data', { note: '\ud800' }, /surrogate/],
    ['data', nested(65), /deeper/],
  ] as const) {
    const result = parseEvent({ ...makeEvent('system.heartbeat'), [field]: value });
    expect(result.ok ? 'accepted' : result.error.message).toMatch(rule);
  }
});

test('fastEnvelopeOk: an event whose payload its schema refuses is still an event; a refused envelope is not', () => {
  const offSchema = makeEvent('session.start', { data: { _raw: 'oops' } });
  expect(fastParseEvent(offSchema)).toBeUndefined();
  expect(fastEnvelopeOk(offSchema)).toBe(true);
  expect(fastEnvelopeOk(makeEvent('team.disband', { data: { x: 1 } }))).toBe(true);
  expect(fastEnvelopeOk(makeEvent('system.heartbeat', { timestamp: '0000-01-01T00:00:00Z' }))).toBe(false);
  expect(fastEnvelopeOk(makeEvent('system.heartbeat', { data: { s: 'nul \u0000' } }))).toBe(false);
  expect(fastEnvelopeOk({ id: 'broken' })).toBe(false);
});

test('the timestamp year bounds fall exactly on the first and last instants of the sane years', () => {
  const at = (timestamp: string) => fastEnvelopeOk(makeEvent('system.heartbeat', { timestamp }));
  expect([at('1970-01-01T00:00:00Z'), at('1969-12-31T23:59:59.999Z'), at('1970-01-01T00:30:00+01:00')]).toEqual([true, false, false]);
  expect([at('9999-12-31T23:59:59.999Z'), at('9999-12-31T23:30:00-01:00')]).toEqual([true, false]);
});

test('the JSON text screen: true only where the walk finds nothing, and parseEventJson refuses what the walk refuses', () => {
  const event = makeEvent('system.heartbeat', { data: { note: 'plain' } });
  const text = JSON.stringify(event);
  expect(storableJsonText(text)).toBe(true);
  // A lone surrogate written as itself (not escaped) in a text that is not all ASCII.
  const rawSurrogate = text.replace('plain', 'x\ud800');
  const escapedNul = text.replace('plain', 'a\\u0000');
  const deep = JSON.stringify({ ...event, data: nested(65) });
  const emoji = text.replace('plain', '😀');
  for (const [t, screen, rule] of [
    [rawSurrogate, false, /surrogate/],
    [escapedNul, false, /U\+0000/],
    [deep, false, /deeper/],
    [emoji, true, null],
    // The envelope's bracket counts too: the screen declines where the walk still accepts.
    [JSON.stringify({ ...event, data: nested(64) }), false, null],
    [JSON.stringify({ ...event, data: nested(60) }), true, null],
  ] as const) {
    expect(storableJsonText(t)).toBe(screen);
    const parsed = parseEventJson(t);
    if (rule === null) expect(parsed.ok).toBe(true);
    else expect(parsed.ok ? 'accepted' : parsed.error.message).toMatch(rule);
  }
});
