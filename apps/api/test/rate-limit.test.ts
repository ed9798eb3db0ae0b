import type { FastifyRequest } from 'fastify';
import type Redis from 'ioredis';
import { captureLogs, createTestRedis, deleteKeys, makeEvent, testRedisUrl, uniqueStreamKeys, waitFor, type LogCapture, type TestStreamKeys } from '@fuel-code/testing';
import { createRateLimitKey, rateLimitKey } from '../src/rate-limit';
import { API_KEY, health, ingest, ingestFrom, startApp, type HttpResponse, type TestApp } from './helpers';

let keys: TestStreamKeys;
let logs: LogCapture;
let t: TestApp | undefined;
let reader: Redis;

beforeAll(() => {
  reader = createTestRedis();
});

afterAll(() => reader.disconnect());

beforeEach(() => {
  keys = uniqueStreamKeys('api-rate');
  logs = captureLogs('trace');
});

afterEach(async () => {
  await t?.close();
  t = undefined;
  await deleteKeys(reader, keys);
});

const MAX = 3;
const WINDOW_MS = 600_000; // far longer than the test: the window never resets under it

async function start(): Promise<TestApp> {
  t = await startApp(testRedisUrl(), logs.logger, { eventsStream: keys.stream, rateLimitMax: MAX, rateLimitWindowMs: WINDOW_MS });
  return t;
}

interface Limited {
  error: string;
  retry_after_seconds: number;
}

function expectLimited(res: HttpResponse): void {
  expect(res.status).toBe(429);
  const body = res.json<Limited>();
  expect(body).toEqual({ error: expect.stringContaining('too many requests'), retry_after_seconds: expect.any(Number) });
  expect(body.retry_after_seconds).toBeGreaterThanOrEqual(1);
  expect(body.retry_after_seconds).toBeLessThanOrEqual(WINDOW_MS / 1000);
  expect(res.headers.get('retry-after')).toBe(String(body.retry_after_seconds));
}

test('with a valid key: RATE_LIMIT_MAX requests pass, the next gets 429 + Retry-After and publishes nothing', async () => {
  const { url } = await start();
  for (let i = 0; i < MAX; i++) expect((await ingest(url, [makeEvent('system.heartbeat')])).status).toBe(202);
  expect(await reader.xlen(keys.stream)).toBe(MAX);

  expectLimited(await ingest(url, [makeEvent('system.heartbeat')]));
  expect(await reader.xlen(keys.stream)).toBe(MAX);

  // Keyed by the key, not the address: the same key from another address is limited too.
  expectLimited(await ingestFrom(url, '127.0.0.2', [makeEvent('system.heartbeat')]));
  // The address's own allowance is untouched: an unauthenticated request from it is judged on
  // its key (401), not refused for the key's requests.
  expect((await ingest(url, [makeEvent('system.heartbeat')], null)).status).toBe(401);
  // Health is never limited.
  for (let i = 0; i < MAX + 2; i++) expect((await health(url)).status).toBe(200);

  expect(await reader.xlen(keys.stream)).toBe(MAX);
  const limitedLines = logs.find('Rate limit exceeded');
  expect(limitedLines.map((l) => l['limitedBy'])).toEqual(['api-key', 'api-key']);
  expect(logs.text()).not.toContain(API_KEY);
});

test('without a valid key: limited per client address; another address and the key holder are not affected', async () => {
  const { url } = await start();
  for (let i = 0; i < MAX; i++) expect((await ingest(url, [makeEvent('system.heartbeat')], i % 2 ? 'wrong-key' : null)).status).toBe(401);
  // Whatever token it makes up, the address has used its allowance.
  expectLimited(await ingest(url, [makeEvent('system.heartbeat')], 'yet-another-made-up-key'));

  expect((await ingestFrom(url, '127.0.0.2', [makeEvent('system.heartbeat')], null)).status).toBe(401);
  // The key holder on the limited address has an allowance of its own.
  expect((await ingest(url, [makeEvent('system.heartbeat')])).status).toBe(202);
  expect(await reader.xlen(keys.stream)).toBe(1);
  const limitedLines = logs.find('Rate limit exceeded');
  expect(limitedLines.map((l) => l['limitedBy'])).toEqual(['ip']);
});

test('a window that has passed gives a fresh allowance, and the 429 says when', async () => {
  const windowMs = 1_500;
  t = await startApp(testRedisUrl(), logs.logger, { eventsStream: keys.stream, rateLimitMax: 1, rateLimitWindowMs: windowMs });
  const { url } = t;
  expect((await ingest(url, [makeEvent('system.heartbeat')])).status).toBe(202);
  const limited = await ingest(url, [makeEvent('system.heartbeat')]);
  expect(limited.status).toBe(429);
  expect(limited.json<Limited>().retry_after_seconds).toBe(Math.ceil(windowMs / 1000));
  // Polled, not slept: the window ends windowMs after the first request.
  await waitFor(async () => (await ingest(url, [makeEvent('system.heartbeat')])).status === 202, windowMs * 4, { intervalMs: 100, description: 'a 202 in the next window' });
  expectLimitedAfter(await ingest(url, [makeEvent('system.heartbeat')]));
  expect(await reader.xlen(keys.stream)).toBe(2);
});

function expectLimitedAfter(res: HttpResponse): void {
  expect(res.status).toBe(429);
  expect(res.headers.get('retry-after')).toBe(String(res.json<Limited>().retry_after_seconds));
}

describe('rateLimitKey', () => {
  const fakeRequest = (authorization: string | undefined, ip: string) => ({ headers: { authorization }, ip }) as unknown as FastifyRequest;
  // Two valid keys, as a server that accepted several would have: each is a bucket of its own.
  const keyMatches = (header: string | undefined) => header === 'Bearer key-one' || header === 'Bearer key-two';

  test('a valid key is its own bucket, whatever the address, and only its digest is kept', () => {
    const one = rateLimitKey(fakeRequest('Bearer key-one', '10.0.0.1'), keyMatches);
    expect(rateLimitKey(fakeRequest('Bearer key-one', '10.0.0.2'), keyMatches)).toBe(one);
    expect(rateLimitKey(fakeRequest('Bearer key-two', '10.0.0.1'), keyMatches)).not.toBe(one);
    expect(one).toMatch(/^key:[\w-]{43}$/);
    expect(one).not.toContain('key-one');
  });

  test('no key or a wrong one: the address, IPv6 by /64 and IPv4-mapped as IPv4', () => {
    expect(rateLimitKey(fakeRequest(undefined, '10.0.0.1'), keyMatches)).toBe('ip:10.0.0.1');
    expect(rateLimitKey(fakeRequest('Bearer made-up', '10.0.0.1'), keyMatches)).toBe('ip:10.0.0.1');
    expect(rateLimitKey(fakeRequest(undefined, '::ffff:10.0.0.1'), keyMatches)).toBe('ip:10.0.0.1');
    expect(rateLimitKey(fakeRequest(undefined, '2001:db8:1:2::1'), keyMatches)).toBe(rateLimitKey(fakeRequest(undefined, '2001:db8:1:2:ffff::9'), keyMatches));
  });

  test('createRateLimitKey remembers a valid header\'s bucket and gives what rateLimitKey gives', () => {
    let checks = 0;
    const counting = (header: string | undefined) => {
      checks++;
      return keyMatches(header);
    };
    const keyOf = createRateLimitKey(counting);
    const requests = [
      fakeRequest('Bearer key-one', '10.0.0.1'),
      fakeRequest('Bearer key-two', '10.0.0.1'),
      fakeRequest('Bearer made-up', '10.0.0.1'),
      fakeRequest(undefined, '10.0.0.3'),
      fakeRequest('Bearer key-one', '2001:db8:1:2::1'),
    ];
    for (let round = 0; round < 3; round++) {
      for (const request of requests) expect(keyOf(request)).toBe(rateLimitKey(request, keyMatches));
    }
    // The key check is still asked every time a header is presented: remembering the bucket
    // never skips it (a remembered header is cheap to check again: see createKeyCheck).
    expect(checks).toBe(3 * 4);
  });
});
