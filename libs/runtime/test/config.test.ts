import { ConfigError } from '@fuel-code/core';
import { configReader, durationMs, integer, logLevel, MAX_TIMER_MS, name, secretToken, url, type Env, type Place } from '@fuel-code/runtime';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configReader: flag > env > default', () => {
  const place = (flag?: string): Place => ({ flag: ['--batch-size', flag], env: 'BATCH_SIZE' });
  const read = (env: Env, flag?: string) => configReader(env).value(place(flag), integer(1, 100), 7);

  test('the first place given wins', () => {
    expect(read({})).toBe(7);
    expect(read({ BATCH_SIZE: '5' })).toBe(5);
    expect(read({ BATCH_SIZE: '5' }, '9')).toBe(9);
  });

  test('a blank variable counts as unset; a blank flag is a value (and refused here)', () => {
    expect(read({ BATCH_SIZE: '' })).toBe(7);
    expect(read({ BATCH_SIZE: '   ' })).toBe(7);
    expect(refusal(() => read({}, ''))).toBe('Invalid --batch-size: expected an integer from 1 to 100, got ""');
  });

  test('the message names where the bad value came from', () => {
    expect(refusal(() => read({ BATCH_SIZE: 'abc' }))).toBe('Invalid BATCH_SIZE: expected an integer from 1 to 100, got "abc"');
    expect(refusal(() => read({ BATCH_SIZE: '5' }, '0'))).toBe('Invalid --batch-size: expected an integer from 1 to 100, got "0"');
  });

  test('required: unset is refused naming every place and what it expects', () => {
    const reader = configReader({ KEY: ' ' });
    expect(refusal(() => reader.required({ env: 'KEY' }, secretToken(), 'the secret clients send'))).toBe('Missing KEY: the secret clients send');
    expect(refusal(() => reader.required(place(), integer(1, 2), 'a size'))).toBe('Missing --batch-size or BATCH_SIZE: a size');
    expect(configReader({ KEY: 'k' }).required({ env: 'KEY' }, secretToken(), 'x')).toBe('k');
  });
});

describe('rules', () => {
  const parse = <T>(rule: Parameters<ReturnType<typeof configReader>['value']>[1], raw: string): T =>
    configReader({ X: raw }).value({ env: 'X' }, rule, undefined) as T;

  test('integer: plain digits within bounds, spaces around allowed', () => {
    expect(parse(integer(0, 10), ' 10 ')).toBe(10);
    for (const bad of ['-1', '11', '1.5', '1e1', '0x5', '5abc', String(2 ** 60)]) {
      expect(refusal(() => parse(integer(0, 10), bad))).toBe(`Invalid X: expected an integer from 0 to 10, got ${JSON.stringify(bad)}`);
    }
  });

  test('durationMs: never above what a Node timer can wait', () => {
    expect(parse(durationMs(1), String(MAX_TIMER_MS))).toBe(MAX_TIMER_MS);
    expect(refusal(() => parse(durationMs(1), String(MAX_TIMER_MS + 1)))).toMatch(/^Invalid X: expected an integer from 1 to 2147483647/);
    expect(refusal(() => parse(durationMs(1, 2 ** 40), String(MAX_TIMER_MS + 1)))).toMatch(/to 2147483647,/);
  });

  test('url: the scheme is checked, the value kept as written, a password never echoed', () => {
    const redis = url(['redis:', 'rediss:']);
    expect(parse(redis, 'rediss://u:pw@h:6380/2')).toBe('rediss://u:pw@h:6380/2');
    const wrongScheme = refusal(() => parse(redis, 'http://u:hunter2@h:6379'));
    expect(wrongScheme).toBe('Invalid X: expected a redis: or rediss: URL, got "http://u:***@h:6379/"');
    const unfaithful = refusal(() => parse(redis, 'redis://u:ab/cd@h:6379'));
    expect(unfaithful).toMatch(/^Invalid X: expected a URL \(redis: or rediss:\) with any '\/'.*percent-encoded/);
    expect(unfaithful).not.toContain('ab/cd');
  });

  test('name: 1 to 200 characters without spaces', () => {
    expect(parse(name(), ' s:1 ')).toBe('s:1');
    expect(refusal(() => parse(name(), 'a b'))).toBe('Invalid X: expected 1 to 200 characters without spaces, got "a b"');
    expect(refusal(() => parse(name(), 'x'.repeat(201)))).toMatch(/^Invalid X: expected 1 to 200/);
  });

  test('logLevel: a pino level in any case', () => {
    expect(parse(logLevel(), ' DEBUG ')).toBe('debug');
    expect(refusal(() => parse(logLevel(), 'loud'))).toBe('Invalid X: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"');
  });

  test('secretToken: whitespace refused, the value never echoed', () => {
    const message = refusal(() => parse(secretToken(), 'two words'));
    expect(message).toBe('Invalid X: expected no whitespace (it travels as one header token)');
  });
});
