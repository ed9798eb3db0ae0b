import { isLoopbackHost, readCookie, secretsEqual, sessionCookie, SessionStore, tokenMatches, tokenMissingForHost } from '@fuel-code/console';

test('loopback hosts: 127.x, ::1 and localhost; anything else is not', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST']) expect(isLoopbackHost(h)).toBe(true);
  for (const h of ['0.0.0.0', '::', '10.0.0.5', 'console.internal', '128.0.0.1', '127.0.0.1.evil.com']) expect(isLoopbackHost(h)).toBe(false);
});

test('a token is required off loopback only', () => {
  expect(tokenMissingForHost('0.0.0.0', undefined)).toBe(true);
  expect(tokenMissingForHost('0.0.0.0', '')).toBe(true);
  expect(tokenMissingForHost('0.0.0.0', 'a-long-enough-token')).toBe(false);
  expect(tokenMissingForHost('127.0.0.1', undefined)).toBe(false);
});

test('token comparison: equal only for the same token, whatever the lengths; never for an empty expected token', () => {
  expect(tokenMatches('s3cret-token-value', 's3cret-token-value')).toBe(true);
  expect(tokenMatches('s3cret-token-valuE', 's3cret-token-value')).toBe(false);
  expect(tokenMatches('s3cret', 's3cret-token-value')).toBe(false);
  expect(tokenMatches('', '')).toBe(false);
  expect(secretsEqual('abc', 'abc')).toBe(true);
  expect(secretsEqual('abc', 'abd')).toBe(false);
  expect(secretsEqual('abc', 'abcd')).toBe(false);
});

test('sessions: random ids and CSRF tokens, expire after their TTL, oldest dropped when full', () => {
  let now = 1_000;
  const store = new SessionStore({ ttlMs: 100, maxSessions: 2, now: () => now });
  const a = store.create();
  expect(a.id).toMatch(/^[\w-]{43}$/);
  expect(a.csrfToken).not.toBe(a.id);
  expect(store.get(a.id)).toBe(a);
  const b = store.create();
  store.create();
  expect(store.get(a.id)).toBeUndefined();
  expect(store.get(b.id)).toBe(b);
  now += 100;
  expect(store.get(b.id)).toBeUndefined();
  expect(store.get(undefined)).toBeUndefined();
});

test('the session cookie is HttpOnly and SameSite=Strict, Secure when asked; cookies are read by name', () => {
  expect(sessionCookie('v', { secure: false, maxAgeSeconds: 60 })).toBe('fuel_console_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60');
  expect(sessionCookie('v', { secure: true, maxAgeSeconds: 60 })).toMatch(/; Secure$/);
  expect(readCookie('a=1; fuel_console_session=xyz; b=2', 'fuel_console_session')).toBe('xyz');
  expect(readCookie('a=1', 'fuel_console_session')).toBeUndefined();
  expect(readCookie(undefined, 'a')).toBeUndefined();
});
