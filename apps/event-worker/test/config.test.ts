import { ConfigError } from '@fuel-code/core';
import { parseWorkerConfig } from '../src/config';

test('defaults', () => {
  const config = parseWorkerConfig({}, {}, 4242);
  expect(config).toMatchObject({
    redisUrl: 'redis://127.0.0.1:6379',
    databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
    logLevel: 'info',
    httpPort: 9464,
    consumer: {
      stream: 'events:incoming',
      group: 'event-processors',
      deadLetterStream: 'events:dead-letter',
      batchSize: 500,
      inFlightBatches: 4,
      blockMs: 5000,
      claimIdleMs: 60_000,
      maxAttempts: 3,
      statsIntervalMs: 60_000,
      maxEntryBytes: 1_048_576,
      maxBatchBytes: 4_194_304,
    },
  });
  expect(config.consumer.consumerName).toMatch(/-4242$/);
  expect(Object.isFrozen(config)).toBe(true);
  expect(Object.isFrozen(config.consumer)).toBe(true);
});

test('env beats default, flag beats env', () => {
  const env = {
    REDIS_URL: 'redis://redis:6379',
    DATABASE_URL: 'postgresql://u:p@db/fuel',
    EVENTS_STREAM: 's',
    CONSUMER_GROUP: 'g',
    CONSUMER_NAME: 'from-env',
    DEAD_LETTER_STREAM: 'dl',
    LOG_LEVEL: 'debug',
    WORKER_HTTP_PORT: '0',
  };
  const fromEnv = parseWorkerConfig({}, env);
  expect(fromEnv).toMatchObject({ redisUrl: 'redis://redis:6379', databaseUrl: 'postgresql://u:p@db/fuel', logLevel: 'debug', httpPort: 0 });
  expect(fromEnv.consumer).toMatchObject({ stream: 's', group: 'g', consumerName: 'from-env', deadLetterStream: 'dl' });

  const fromFlags = parseWorkerConfig({ consumerName: 'from-flag', httpPort: '9999', batchSize: '500', inFlightBatches: '1', blockMs: '100', claimIdleMs: '1000', maxAttempts: '5', statsIntervalMs: '250' }, env);
  expect(fromFlags.httpPort).toBe(9999);
  expect(fromFlags.consumer).toMatchObject({ consumerName: 'from-flag', batchSize: 500, inFlightBatches: 1, blockMs: 100, claimIdleMs: 1000, maxAttempts: 5, statsIntervalMs: 250 });
});

test.each([
  [{ batchSize: 'abc' }, {}, /Invalid --batch-size: expected an integer from 1 to 10000, got "abc"/],
  [{ batchSize: '0' }, {}, /--batch-size/],
  [{ blockMs: '-5' }, {}, /--block-ms/],
  [{ maxAttempts: '1.5' }, {}, /--max-attempts/],
  [{ httpPort: '70000' }, {}, /--http-port: expected an integer from 0 to 65535/],
  [{}, { WORKER_HTTP_PORT: 'http' }, /Invalid WORKER_HTTP_PORT/],
  [{}, { REDIS_URL: 'localhost:6379' }, /Invalid REDIS_URL/],
  [{}, { DATABASE_URL: 'mysql://db/x' }, /Invalid DATABASE_URL: expected a postgres: or postgresql: URL/],
  [{}, { LOG_LEVEL: 'loud' }, /Invalid LOG_LEVEL: expected one of fatal, error/],
  [{}, { CONSUMER_NAME: 'has space' }, /Invalid CONSUMER_NAME/],
  [{ consumerName: '' }, {}, /Invalid --consumer-name/],
  [{}, { MAX_ENTRY_BYTES: '1MB' }, /Invalid MAX_ENTRY_BYTES: expected an integer from 1024 to 536870912, got "1MB"/],
  [{ maxBatchBytes: '10' }, {}, /Invalid --max-batch-bytes: expected an integer from 1024/],
  [{ maxBatchBytes: '4096' }, { MAX_ENTRY_BYTES: '8192' }, /Invalid --max-batch-bytes: expected at least MAX_ENTRY_BYTES \(8192\), got 4096/],
  [{}, { MAX_ENTRY_BYTES: '8388608' }, /Invalid MAX_BATCH_BYTES: expected at least MAX_ENTRY_BYTES \(8388608\), got 4194304/],
  [{}, { DATABASE_URL: 'postgres://u:12/cd@db/x' }, /Invalid DATABASE_URL: expected a URL .*percent-encoded.*got "postgres:\/\/u:\*\*\*@db\/x"/],
])('a bad value names what was wrong: %p %p', (flags, env, message) => {
  expect(() => parseWorkerConfig(flags, env)).toThrow(ConfigError);
  expect(() => parseWorkerConfig(flags, env)).toThrow(message);
});

test('a blank variable counts as unset; a LOG_LEVEL is read in any case', () => {
  const config = parseWorkerConfig({}, { EVENTS_STREAM: ' ', WORKER_HTTP_PORT: '', LOG_LEVEL: 'DEBUG' });
  expect(config).toMatchObject({ httpPort: 9464, logLevel: 'debug', consumer: { stream: 'events:incoming' } });
});

test('a password in a bad URL is not echoed', () => {
  expect(() => parseWorkerConfig({}, { DATABASE_URL: 'mysql://user:secret@db/x' })).toThrow(/^(?!.*secret)/);
});

test('byte limits: env beats default, flag beats env', () => {
  const env = { MAX_ENTRY_BYTES: '2048', MAX_BATCH_BYTES: '8192' };
  expect(parseWorkerConfig({}, env).consumer).toMatchObject({ maxEntryBytes: 2048, maxBatchBytes: 8192 });
  expect(parseWorkerConfig({ maxEntryBytes: '4096', maxBatchBytes: '4096' }, env).consumer).toMatchObject({ maxEntryBytes: 4096, maxBatchBytes: 4096 });
});

test.each([
  [{ EVENTS_STREAM: 'events', DEAD_LETTER_STREAM: 'events' }, 'events'],
  [{ DEAD_LETTER_STREAM: 'events:incoming' }, 'events:incoming'],
  [{ EVENTS_STREAM: 'events:dead-letter' }, 'events:dead-letter'],
])('a dead-letter stream equal to the events stream is refused, naming both and the value: %p', (env, value) => {
  expect(() => parseWorkerConfig({}, env)).toThrow(ConfigError);
  expect(() => parseWorkerConfig({}, env)).toThrow(`Invalid DEAD_LETTER_STREAM: it must differ from EVENTS_STREAM, but both are "${value}"`);
});

test.each([
  ['postgres://u:ab/cd@db/x', 'ab/cd'],
  ['postgres://u:12/cd@db/x', '12/cd'],
  ['mysql://u:p@ss@db/x', 'p@ss'],
  ['mysql://u@db/x?password=hunter2', 'hunter2'],
])('no password of a refused DATABASE_URL is echoed: %s', (url, password) => {
  let message = '';
  try {
    parseWorkerConfig({}, { DATABASE_URL: url });
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toMatch(/^Invalid DATABASE_URL/);
  expect(message).not.toContain(password);
});

describe('--consumer-cleanup-idle-ms / CONSUMER_CLEANUP_IDLE_MS', () => {
  test('default 1 h; env beats default; flag beats env; 0 turns it off', () => {
    expect(parseWorkerConfig({}, {}).consumerCleanupIdleMs).toBe(3_600_000);
    expect(parseWorkerConfig({}, { CONSUMER_CLEANUP_IDLE_MS: '600000' }).consumerCleanupIdleMs).toBe(600_000);
    expect(parseWorkerConfig({ consumerCleanupIdleMs: '0' }, { CONSUMER_CLEANUP_IDLE_MS: '600000' }).consumerCleanupIdleMs).toBe(0);
  });

  test.each([
    [{}, { CONSUMER_CLEANUP_IDLE_MS: 'soon' }, /Invalid CONSUMER_CLEANUP_IDLE_MS: expected an integer from 0 to 2592000000, got "soon"/],
    [{ consumerCleanupIdleMs: '-1' }, {}, /Invalid --consumer-cleanup-idle-ms: expected an integer/],
    // A live worker may be quiet for a block time: the threshold must be well past it.
    [{ consumerCleanupIdleMs: '10000' }, {}, /Invalid --consumer-cleanup-idle-ms: expected 0 \(off\) or more than twice --block-ms \(10000\), got 10000/],
    [{ blockMs: '100' }, { CONSUMER_CLEANUP_IDLE_MS: '150' }, /Invalid CONSUMER_CLEANUP_IDLE_MS: expected 0 \(off\) or more than twice --block-ms \(200\), got 150/],
  ])('refuses %j %j', (flags, env, message) => {
    expect(() => parseWorkerConfig(flags, env)).toThrow(ConfigError);
    expect(() => parseWorkerConfig(flags, env)).toThrow(message);
  });
});
