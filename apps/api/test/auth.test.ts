import { bearerToken, createKeyCheck } from '../src/auth';

describe('bearerToken', () => {
  test('takes the token of a Bearer header, scheme case-insensitive', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Bearer   abc  ')).toBe('abc');
  });

  test('anything else is no token', () => {
    for (const header of [undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'abc', 'Bearer a b']) {
      expect(bearerToken(header)).toBe('');
    }
  });
});

describe('createKeyCheck', () => {
  const check = createKeyCheck('s3cret-key');

  test('accepts the key and nothing else', () => {
    expect(check('Bearer s3cret-key')).toBe(true);
    expect(check('Bearer s3cret-kez')).toBe(false); // same length
    expect(check('Bearer s3cret')).toBe(false); // prefix
    expect(check('Bearer s3cret-key-and-more')).toBe(false); // longer
    expect(check(undefined)).toBe(false);
    expect(check('s3cret-key')).toBe(false); // no scheme
  });

  test('refuses an empty key, which an absent header would match', () => {
    expect(() => createKeyCheck('')).toThrow();
  });
});
