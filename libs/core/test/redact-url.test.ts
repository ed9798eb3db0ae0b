import { parseUrlFaithfully, redactUrl, redactUrlIn } from '@fuel-code/core';

describe('redactUrl', () => {
  test.each([
    // [what, url, expected, the password]
    ['a normal URL', 'postgres://app:s3cret@db.example:5432/fuel', 'postgres://app:***@db.example:5432/fuel', 's3cret'],
    ["a password with '/' (does not parse)", 'postgres://u:ab/cd@host/db', 'postgres://u:***@host/db', 'ab/cd'],
    ["a password with '/' after digits (parses, wrongly)", 'postgres://u:12/cd@host/db', 'postgres://u:***@host/db', '12/cd'],
    ["a password with '@'", 'postgres://u:p@ss@host:5432/db', 'postgres://u:***@host:5432/db', 'p@ss'],
    ['a password in the query', 'postgres://u@host/db?password=hunter2&sslmode=require', 'postgres://u@host/db?password=***&sslmode=require', 'hunter2'],
    ['sslpassword, token and key', 'postgres://u@host/db?sslpassword=aa1&token=bb2&key=cc3&x=1', 'postgres://u@host/db?sslpassword=***&token=***&key=***&x=1', 'aa1'],
    ['a Redis password', 'redis://:r3dis@cache:6379/0', 'redis://:***@cache:6379/0', 'r3dis'],
    ['both, in a URL that does not parse', 'postgres://u:ab/cd@host/db?secret=zz9', 'postgres://u:***@host/db?secret=***', 'zz9'],
    ['no scheme at all', 'u:plain1@host/db', 'u:***@host/db', 'plain1'],
  ])('%s', (_what, url, expected, password) => {
    const out = redactUrl(url);
    expect(out).toBe(expected);
    expect(out).not.toContain(password);
    expect(out).not.toContain(encodeURIComponent(password));
  });

  test('keeps a URL without secrets as it is', () => {
    expect(redactUrl('postgres://postgres@127.0.0.1:5432/postgres')).toBe('postgres://postgres@127.0.0.1:5432/postgres');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  test("an '@' in the query hides more than the password, never less", () => {
    const out = redactUrl('postgres://u:pw9@host/db?application_name=me@laptop');
    expect(out).not.toContain('pw9');
    expect(out).toBe('postgres://u:***@laptop');
  });

  test('redactUrlIn masks every copy of the URL inside a message', () => {
    const url = 'postgres://u:ab/cd@host/db';
    expect(redactUrlIn(`could not use ${url} (${url})`, url)).toBe('could not use postgres://u:***@host/db (postgres://u:***@host/db)');
  });
});

describe('parseUrlFaithfully', () => {
  test('parses what WHATWG parses with the host after the last @', () => {
    expect(parseUrlFaithfully('postgres://u:p@ss@host/db')?.password).toBe('p%40ss');
    expect(parseUrlFaithfully('postgres://host/db?password=x')?.host).toBe('host');
  });

  test('refuses a parse that took part of the password for the host, port or path', () => {
    expect(parseUrlFaithfully('postgres://u:12/cd@host/db')).toBeUndefined();
    expect(parseUrlFaithfully('postgres://u:ab/cd@host/db')).toBeUndefined();
    expect(parseUrlFaithfully('not a url')).toBeUndefined();
  });
});
