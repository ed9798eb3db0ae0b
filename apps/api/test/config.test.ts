import { ConfigError } from '@fuel-code/core';
import { parseApiConfig, type Env } from '../src/config';

function configError(env: Env): ConfigError {
  try {
    parseApiConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('parseApiConfig', () => {
  test('defaults everything but API_KEY', () => {
    expect(parseApiConfig({ API_KEY: 'k' })).toEqual({
      port: 3000,
      apiKey: 'k',
      redisUrl: 'redis://127.0.0.1:6379',
      eventsStream: 'events:incoming',
      logLevel: 'info',
      consumerGroup: 'event-processors',
      rateLimitMax: 600,
      rateLimitWindowMs: 60_000,
      ingestMaxBacklog: 1_000_000,
      requestTimeoutMs: 30_000,
      connectionTimeoutMs: 60_000,
      keepAliveTimeoutMs: 5_000,
      maxConnections: 256,
    });
  });

  test('reads every variable', () => {
    expect(
      parseApiConfig({
        API_KEY: 'secret',
        PORT: '8080',
        REDIS_URL: 'rediss://user:pw@redis.internal:6380/2',
        EVENTS_STREAM: 'custom:stream',
        LOG_LEVEL: 'DEBUG',
        CONSUMER_GROUP: 'custom-group',
        RATE_LIMIT_MAX: '50',
        RATE_LIMIT_WINDOW_MS: '10000',
        INGEST_MAX_BACKLOG: '5',
        REQUEST_TIMEOUT_MS: '1500',
        CONNECTION_TIMEOUT_MS: '2500',
        KEEP_ALIVE_TIMEOUT_MS: '750',
        MAX_CONNECTIONS: '16',
      }),
    ).toEqual({
      port: 8080,
      apiKey: 'secret',
      redisUrl: 'rediss://user:pw@redis.internal:6380/2',
      eventsStream: 'custom:stream',
      logLevel: 'debug',
      consumerGroup: 'custom-group',
      rateLimitMax: 50,
      rateLimitWindowMs: 10_000,
      ingestMaxBacklog: 5,
      requestTimeoutMs: 1500,
      connectionTimeoutMs: 2500,
      keepAliveTimeoutMs: 750,
      maxConnections: 16,
    });
  });

  test('the result is frozen', () => {
    const config = parseApiConfig({ API_KEY: 'k' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('an empty variable means unset', () => {
    expect(parseApiConfig({ API_KEY: 'k', PORT: '', EVENTS_STREAM: ' ' }).port).toBe(3000);
    expect(parseApiConfig({ API_KEY: 'k', EVENTS_STREAM: ' ' }).eventsStream).toBe('events:incoming');
  });

  test('API_KEY is required, and says how it is used', () => {
    for (const env of [{}, { API_KEY: '' }, { API_KEY: '   ' }]) {
      const err = configError(env);
      expect(err.message).toContain('Missing API_KEY');
      expect(err.code).toBe('CONFIG_INVALID');
    }
    expect(configError({ API_KEY: 'two words' }).message).toBe('Invalid API_KEY: expected no whitespace (it travels as one header token)');
  });

  test('PORT must be an integer from 0 to 65535', () => {
    expect(parseApiConfig({ API_KEY: 'k', PORT: '0' }).port).toBe(0);
    expect(parseApiConfig({ API_KEY: 'k', PORT: '65535' }).port).toBe(65535);
    for (const bad of ['abc', '-1', '65536', '3.5', '1e3', '0x50', '80abc']) {
      const err = configError({ API_KEY: 'k', PORT: bad });
      expect(err.message).toMatch(/^Invalid PORT: expected an integer from 0 to 65535/);
      expect(err.message).toContain(JSON.stringify(bad));
    }
  });

  test('REDIS_URL must be a redis URL, and a bad one is not echoed (it may hold a password)', () => {
    expect(configError({ API_KEY: 'k', REDIS_URL: 'not a url:pw' }).message).toMatch(/^Invalid REDIS_URL: expected a URL/);
    const err = configError({ API_KEY: 'k', REDIS_URL: 'http://user:hunter2@host:6379' });
    expect(err.message).toMatch(/^Invalid REDIS_URL: expected a redis: or rediss: URL/);
    expect(err.message).not.toContain('hunter2');
  });

  test('LOG_LEVEL must be a pino level', () => {
    expect(parseApiConfig({ API_KEY: 'k', LOG_LEVEL: 'silent' }).logLevel).toBe('silent');
    expect(configError({ API_KEY: 'k', LOG_LEVEL: 'loud' }).message).toMatch(/^Invalid LOG_LEVEL: expected one of fatal, error, warn, info/);
  });

  test('limits and timeouts must be integers in range, and the message names the variable and the range', () => {
    const cases: [string, string, string][] = [
      ['RATE_LIMIT_MAX', '0', 'from 1 to 1000000000'],
      ['RATE_LIMIT_MAX', 'many', 'from 1 to 1000000000'],
      ['RATE_LIMIT_WINDOW_MS', '999', 'from 1000 to 2147483647'],
      ['RATE_LIMIT_WINDOW_MS', '1m', 'from 1000 to 2147483647'],
      ['INGEST_MAX_BACKLOG', '-5', 'from 1 to 9007199254740991'],
      ['INGEST_MAX_BACKLOG', '1e6', 'from 1 to 9007199254740991'],
      ['REQUEST_TIMEOUT_MS', '0', 'from 1 to 2147483647'],
      ['CONNECTION_TIMEOUT_MS', '2.5', 'from 1 to 2147483647'],
      // Above 2^31-1 ms a Node timer fires at once: refused rather than silently inverted.
      ['KEEP_ALIVE_TIMEOUT_MS', '2147483648', 'from 1 to 2147483647'],
      ['MAX_CONNECTIONS', '0x10', 'from 1 to 1000000'],
    ];
    for (const [name, bad, range] of cases) {
      const err = configError({ API_KEY: 'k', [name]: bad });
      expect(err.message).toBe(`Invalid ${name}: expected an integer ${range}, got ${JSON.stringify(bad)}`);
    }
  });

  test('limits accept their bounds and surrounding spaces', () => {
    const config = parseApiConfig({ API_KEY: 'k', RATE_LIMIT_MAX: ' 1 ', RATE_LIMIT_WINDOW_MS: '1000', MAX_CONNECTIONS: '1000000' });
    expect(config).toMatchObject({ rateLimitMax: 1, rateLimitWindowMs: 1000, maxConnections: 1_000_000 });
  });

  test('an empty CONSUMER_GROUP means the default group', () => {
    expect(parseApiConfig({ API_KEY: 'k', CONSUMER_GROUP: '  ' }).consumerGroup).toBe('event-processors');
  });
});
