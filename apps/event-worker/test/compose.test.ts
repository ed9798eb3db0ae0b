import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { parseConsoleConfig } from '../src/console-config';
import { parseWorkerConfig } from '../src/config';

/**
 * docker-compose.yml, checked without a Docker engine: the services and their wiring, and
 * each service's environment against the configuration its app actually reads (every key
 * is one the app's config parser asks for, none is missing, and the values parse).
 */
const REPO = path.resolve(__dirname, '../../..');
type Json = Record<string, unknown>;
const compose = parse(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8')) as Json;
const services = compose['services'] as Record<string, Json>;

/** Compose-style interpolation: `${X:-default}` → default, `${X:?msg}` → a sample, `${X}` → ''. */
function interpolate(value: string, samples: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_, name: string, op: string | undefined, arg: string | undefined) => {
    if (samples[name] !== undefined) return samples[name] ?? '';
    if (op === '-') return arg ?? '';
    if (op === '?') throw new Error(`${name} is required by the compose file: provide a sample`);
    return '';
  });
}

function environment(service: string, samples: Record<string, string> = {}): Record<string, string> {
  const env = (services[service]?.['environment'] ?? {}) as Record<string, string | number>;
  expect(Array.isArray(env)).toBe(false); // the map form, so keys are plain to read
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(String(v), samples)]));
}

/** Run a config parser on an environment and record every variable it reads. */
function keysRead(parseConfig: (env: Readonly<Record<string, string | undefined>>) => unknown, env: Record<string, string>): Set<string> {
  const read = new Set<string>();
  const recording = new Proxy(env, {
    get(target, key) {
      if (typeof key === 'string') read.add(key);
      return typeof key === 'string' ? target[key] : undefined;
    },
  });
  parseConfig(recording);
  return read;
}

const WORKER_ENV = ['REDIS_URL', 'DATABASE_URL', 'EVENTS_STREAM', 'CONSUMER_GROUP', 'DEAD_LETTER_STREAM', 'LOG_LEVEL', 'WORKER_HTTP_PORT'];
const API_ENV = ['PORT', 'API_KEY', 'REDIS_URL', 'EVENTS_STREAM', 'CONSUMER_GROUP', 'LOG_LEVEL'];

test('five services: redis, postgres, api, event-worker, console', () => {
  expect(Object.keys(services).sort()).toEqual(['api', 'console', 'event-worker', 'postgres', 'redis']);
});

test('redis: append-only persistence on a named volume, with a healthcheck', () => {
  const redis = services['redis'] as Json;
  expect(String(redis['image'])).toMatch(/^redis:7/);
  expect((redis['command'] as string[]).join(' ')).toMatch(/--appendonly yes/);
  // Full means refused writes (the API answers 503), never evicted keys (lost stream entries).
  expect((redis['command'] as string[]).join(' ')).toMatch(/--maxmemory \d+[kmg]b\b/);
  expect((redis['command'] as string[]).join(' ')).toMatch(/--maxmemory-policy noeviction\b/);
  const [volume] = redis['volumes'] as string[];
  expect(volume).toMatch(/^[\w-]+:\/data$/);
  expect(Object.keys(compose['volumes'] as Json)).toContain(volume?.split(':')[0]);
  expect((redis['healthcheck'] as Json)['test']).toEqual(['CMD', 'redis-cli', 'ping']);
});

test('postgres 15 on a named volume, with a pg_isready healthcheck', () => {
  const pg = services['postgres'] as Json;
  expect(String(pg['image'])).toMatch(/^postgres:15\b/);
  const [volume] = pg['volumes'] as string[];
  expect(volume).toMatch(/^[\w-]+:\/var\/lib\/postgresql\/data$/);
  expect(Object.keys(compose['volumes'] as Json)).toContain(volume?.split(':')[0]);
  expect(JSON.stringify((pg['healthcheck'] as Json)['test'])).toMatch(/pg_isready/);
});

test('event-worker: built from Dockerfile.worker, 2 replicas, scalable (no fixed name, host port or CONSUMER_NAME), waits for healthy dependencies', () => {
  const worker = services['event-worker'] as Json;
  const build = worker['build'] as Json;
  expect(build['dockerfile']).toBe('Dockerfile.worker');
  expect(existsSync(path.join(REPO, String(build['context']), String(build['dockerfile'])))).toBe(true);
  expect((worker['deploy'] as Json)['replicas']).toBe(2);
  for (const key of ['container_name', 'hostname', 'ports']) expect([key, worker[key]]).toEqual([key, undefined]);
  expect(Object.keys(environment('event-worker'))).not.toContain('CONSUMER_NAME');
  expect(worker['depends_on']).toEqual({ redis: { condition: 'service_healthy' }, postgres: { condition: 'service_healthy' } });
  expect(worker['expose']).toEqual([environment('event-worker')['WORKER_HTTP_PORT']]);
  // Enough grace for the contract's "exits within 10 s of SIGTERM".
  expect(Number.parseInt(String(worker['stop_grace_period']), 10)).toBeGreaterThanOrEqual(10);
});

test('api: built from Dockerfile.api, API_KEY from the environment (required), waits for a healthy Redis', () => {
  const api = services['api'] as Json;
  const build = api['build'] as Json;
  expect(build['dockerfile']).toBe('Dockerfile.api');
  expect(existsSync(path.join(REPO, String(build['context']), String(build['dockerfile'])))).toBe(true);
  expect(String((api['environment'] as Json)['API_KEY'])).toMatch(/^\$\{API_KEY:\?/);
  expect(() => environment('api')).toThrow(/API_KEY is required/);
  expect(api['depends_on']).toEqual({ redis: { condition: 'service_healthy' } });
});

test('every service that is depended on has a healthcheck', () => {
  for (const [name, service] of Object.entries(services)) {
    for (const dep of Object.keys((service['depends_on'] ?? {}) as Json)) {
      expect([name, dep, Boolean(services[dep]?.['healthcheck'])]).toEqual([name, dep, true]);
    }
  }
});

test("the worker's environment is exactly what the worker reads, and its values parse", () => {
  const env = environment('event-worker');
  expect(Object.keys(env).sort()).toEqual([...WORKER_ENV].sort());
  const read = keysRead((e) => parseWorkerConfig({}, e), env);
  expect(Object.keys(env).filter((k) => !read.has(k))).toEqual([]); // no variable the worker ignores
  const config = parseWorkerConfig({}, env);
  expect(new URL(config.redisUrl).hostname).toBe('redis');
  const db = new URL(config.databaseUrl);
  expect(db.hostname).toBe('postgres');
  const pgEnv = environment('postgres');
  expect(db.pathname).toBe(`/${pgEnv['POSTGRES_DB']}`);
  expect(decodeURIComponent(db.password)).toBe(pgEnv['POSTGRES_PASSWORD']);
  expect(config.consumer).toMatchObject({ stream: 'events:incoming', group: 'event-processors', deadLetterStream: 'events:dead-letter' });
  expect(config.httpPort).toBe(9464);
});

test("the API's environment is exactly what the API reads (apps/api/src/config.ts), and its values parse", async () => {
  // Loaded by path (not a dependency of the worker): the API's own parser is the reference.
  const apiConfigModule = path.join(REPO, 'apps/api/src/config');
  const { parseApiConfig } = (await import(apiConfigModule)) as { parseApiConfig: (env: Readonly<Record<string, string | undefined>>) => Record<string, unknown> };
  const env = environment('api', { API_KEY: 'compose-test-key' });
  expect(Object.keys(env).sort()).toEqual([...API_ENV].sort());
  const read = keysRead(parseApiConfig, env);
  expect(Object.keys(env).filter((k) => !read.has(k))).toEqual([]);
  const config = parseApiConfig(env);
  expect(config).toMatchObject({ port: 3000, apiKey: 'compose-test-key', redisUrl: 'redis://redis:6379', eventsStream: 'events:incoming' });
  // The API publishes to the stream the workers consume, and watches their group's backlog.
  expect(env['EVENTS_STREAM']).toBe(environment('event-worker')['EVENTS_STREAM']);
  expect(config['consumerGroup']).toBe(environment('event-worker')['CONSUMER_GROUP']);
  expect((services['api']?.['ports'] as string[])[0]).toMatch(/:3000$/);
});

test('console: the worker image\'s `console` command, a token required, published on the host\'s loopback only; its config parses', () => {
  const service = services['console'] as Json;
  expect(service['image']).toBe((services['event-worker'] as Json)['image']);
  expect(service['command']).toEqual(['node', 'dist/worker.js', 'console']);
  expect(service['ports']).toEqual(['127.0.0.1:${CONSOLE_PORT:-9465}:9465']);
  expect(() => environment('console')).toThrow(/CONSOLE_TOKEN is required/);
  const env = environment('console', { CONSOLE_TOKEN: 'a-sample-console-token' });
  const worker = parseWorkerConfig({}, env);
  const config = parseConsoleConfig({}, env, worker);
  expect(config).toMatchObject({ host: '0.0.0.0', port: 9465, token: 'a-sample-console-token', stream: 'events:incoming', group: 'event-processors' });
});
