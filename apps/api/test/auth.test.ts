import { bearerToken, createKeyCheck, KNOWN_VALID_HEADERS_MAX } from '../src/auth';

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

  test('a remembered valid header lets nothing else through', () => {
    const remembering = createKeyCheck('s3cret-key');
    for (let i = 0; i < 3; i++) expect(remembering('Bearer s3cret-key')).toBe(true);
    expect(remembering('Bearer s3cret-kez')).toBe(false);
    expect(remembering('Bearer s3cret-key ')).toBe(true); // another spelling of the same key
    expect(remembering('Bearer s3cret-key x')).toBe(false);
    expect(remembering('bearer S3CRET-KEY')).toBe(false); // the token is case-sensitive
    expect(remembering(undefined)).toBe(false);
    expect(remembering('')).toBe(false);
  });

  test('wrong keys are never remembered, and spellings past the bound are still checked in full', () => {
    const remembering = createKeyCheck('s3cret-key');
    // Many made-up keys, each twice: the second time is refused too.
    for (let i = 0; i < KNOWN_VALID_HEADERS_MAX * 4; i++) {
      expect(remembering(`Bearer guess-${i}`)).toBe(false);
      expect(remembering(`Bearer guess-${i}`)).toBe(false);
    }
    // More valid spellings than the set holds (trailing blanks): every one is accepted, every time.
    const spellings = Array.from({ length: KNOWN_VALID_HEADERS_MAX + 5 }, (_, i) => `Bearer s3cret-key${' '.repeat(i)}`);
    for (let round = 0; round < 2; round++) for (const header of spellings) expect(remembering(header)).toBe(true);
    expect(remembering('Bearer s3cret-kez')).toBe(false);
  });
});
