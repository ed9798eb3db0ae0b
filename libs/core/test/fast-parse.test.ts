import { gitCommitEvent, makeEvent, seededRandom, sessionEndEvent, sessionStartEvent } from '@fuel-code/testing';
import { EVENT_TYPES, parseEvent } from '@fuel-code/core';
import { fastParseEvent, fastSessionEndData, fastSessionStartData } from '../src/fast-parse';
import { parseEventWithZod } from '../src/parse-event';

/*
 * fast-parse.ts may only accept what zod accepts, and must return what zod returns. Held to
 * that here over valid events of every type and over every single-field mutation of them
 * (deleted, retyped, out of range, wrong format), plus random multi-field ones.
 */

type Json = Record<string, unknown>;

function validEvents(): Json[] {
  const events: object[] = [
    sessionStartEvent('s-1'),
    sessionStartEvent('s-2', { workspace_id: '', dataOverrides: { git_branch: null, model: null, git_remote: null, extra: { a: 1 } } }),
    sessionEndEvent('s-1'),
    sessionEndEvent('s-3', { dataOverrides: { duration_ms: 2_147_483_647, end_reason: 'crash' } }),
    gitCommitEvent('s-1'),
    gitCommitEvent(null, { blob_refs: [{ key: 'k/1', content_type: 'text/plain', size_bytes: 12 }] }),
    makeEvent('system.heartbeat', { timestamp: '2026-11-27T10:00:00.123456+05:30' }),
    makeEvent('git.push', { timestamp: '2024-02-29T23:59:59Z', device_id: 'd'.repeat(200) }),
  ];
  for (const type of EVENT_TYPES) if (!type.startsWith('session.')) events.push(makeEvent(type, { data: { n: 1, nested: { list: [1, 'a', null] } } }));
  // zod strips keys a blob ref does not define.
  events.push({ ...makeEvent('git.commit'), blob_refs: [{ key: 'k', content_type: 'a/b', size_bytes: 0, etag: 'x' }] });
  // As the stream hands them over: parsed from JSON.
  return events.map((e) => JSON.parse(JSON.stringify(e)) as Json);
}

const ODD_VALUES: unknown[] = [
  undefined, null, '', 'x', 'd'.repeat(201), 0, -1, 1.5, 2_147_483_648, Number.MAX_SAFE_INTEGER + 2, true, [], {}, [{}],
  '01hzy8k3v4q5r6s7t8v9w0x1yz', '01HZY8K3V4Q5R6S7T8V9W0X1YI', '2026-11-27T10:00:00', '2026-02-30T10:00:00Z', '2026-11-27 10:00:00Z',
  'startup', 'clear', 'git.rebase', 'session.end', { key: '', content_type: 'a', size_bytes: 1 },
];

function withField(value: Json, path: readonly string[], replacement: unknown): Json {
  const copy = JSON.parse(JSON.stringify(value)) as Json;
  let target: Json = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Json;
  const last = path[path.length - 1] ?? '';
  if (replacement === undefined) delete target[last]; // eslint-disable-line @typescript-eslint/no-dynamic-delete
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

/** The fast check either declines, or agrees with zod exactly. */
function expectSoundOn(input: unknown): 'fast' | 'zod-only' {
  const fast = fastParseEvent(input);
  const zod = parseEventWithZod(input);
  if (fast === undefined) return "zod-only";
  if (!zod.ok) throw new Error(`fast-parse accepted what zod refuses (${zod.error.message}): ${JSON.stringify(input)}`);
  expect(fast).toStrictEqual(zod.event);
  return 'fast';
}

test('every valid event is accepted by the fast check, with the value zod gives', () => {
  for (const event of validEvents()) expect(expectSoundOn(event)).toBe('fast');
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
        if (!parseEventWithZod(mutated).ok) refusedByZod++;
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

test('the session payload checks agree with the handlers’ schemas', () => {
  const start = sessionStartEvent('s-9').data;
  const end = sessionEndEvent('s-9').data;
  expect(fastSessionStartData(start)).toBe(start);
  expect(fastSessionEndData(end)).toBe(end);
  expect(fastSessionStartData({ ...start, source: 'reboot' })).toBeUndefined();
  expect(fastSessionEndData({ ...end, duration_ms: -1 })).toBeUndefined();
  expect(fastSessionEndData({ ...end, duration_ms: 1.5 })).toBeUndefined();
});
