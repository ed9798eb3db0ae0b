import { existsSync } from 'node:fs';
import http from 'node:http';
import { connect } from 'node:net';
import path from 'node:path';
import type Redis from 'ioredis';
import { createTestRedis, deleteKeys, makeEvent, testRedisUrl, uniqueStreamKeys, waitFor, type TestStreamKeys } from '@fuel-code/testing';
import { API_KEY, health, ingest, REPO_ROOT, spawnChild, streamEntries, type Child } from './helpers';

// The built process, as operators run it: `npx turbo run build --filter=@fuel-code/api...` first.
const MAIN = path.join(REPO_ROOT, 'apps/api/dist/main.js');

let child: Child | undefined;
let keys: TestStreamKeys;
let reader: Redis;

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npx turbo run build --filter=@fuel-code/api...\` first`);
  reader = createTestRedis();
});

afterAll(() => reader.disconnect());

beforeEach(() => {
  keys = uniqueStreamKeys('main');
});

afterEach(async () => {
  await child?.stop('SIGKILL');
  child = undefined;
  await deleteKeys(reader, keys);
});

function runMain(env: Record<string, string>): Child {
  child = spawnChild(process.execPath, [MAIN], env);
  return child;
}

function validEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { API_KEY, PORT: '0', REDIS_URL: testRedisUrl(), EVENTS_STREAM: keys.stream, LOG_LEVEL: 'info', ...extra };
}

/** The port from the "API listening" line (PORT=0 lets the OS pick a free one). */
async function listeningUrl(c: Child): Promise<string> {
  const port = await waitFor(
    () => {
      if (c.process.exitCode !== null) throw new Error(`exited early: ${c.stderr()}${c.stdout()}`);
      const line = c.stdout().split('\n').find((l) => l.includes('"API listening"'));
      return line ? (JSON.parse(line) as { port: number }).port : undefined;
    },
    15_000,
    { description: 'the API to listen' },
  );
  return `http://127.0.0.1:${port}`;
}

async function exitWithin(c: Child, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not exit within ${ms} ms; stdout: ${c.stdout()}`)), ms);
  });
  try {
    return await Promise.race([c.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('node apps/api/dist/main.js: configuration errors exit 2 with a clear message', () => {
  test('without API_KEY', async () => {
    const c = runMain({ PORT: '0' });
    expect(await exitWithin(c, 10_000)).toEqual({ code: 2, signal: null });
    expect(c.stderr()).toContain('Missing API_KEY');
    expect(c.stdout()).toBe('');
  });

  test.each([['abc'], ['70000'], ['-1']])('with PORT=%s, naming PORT', async (port) => {
    const c = runMain(validEnv({ PORT: port }));
    expect(await exitWithin(c, 10_000)).toEqual({ code: 2, signal: null });
    expect(c.stderr()).toContain(`Invalid PORT: expected an integer from 0 to 65535`);
    expect(c.stderr()).toContain(JSON.stringify(port));
  });

  test('with a bad LOG_LEVEL or REDIS_URL, naming the variable', async () => {
    const a = runMain(validEnv({ LOG_LEVEL: 'loud' }));
    expect((await exitWithin(a, 10_000)).code).toBe(2);
    expect(a.stderr()).toContain('Invalid LOG_LEVEL: expected one of');
    const b = runMain(validEnv({ REDIS_URL: 'http://127.0.0.1:6379' }));
    expect((await exitWithin(b, 10_000)).code).toBe(2);
    expect(b.stderr()).toContain('Invalid REDIS_URL: expected a redis: or rediss: URL');
  });

  test.each([
    ['RATE_LIMIT_MAX', '0'],
    ['INGEST_MAX_BACKLOG', 'lots'],
    ['KEEP_ALIVE_TIMEOUT_MS', '5s'],
  ])('with %s=%s, naming the variable', async (name, value) => {
    const c = runMain(validEnv({ [name]: value }));
    expect(await exitWithin(c, 10_000)).toEqual({ code: 2, signal: null });
    expect(c.stderr()).toContain(`Invalid ${name}: expected an integer from `);
    expect(c.stderr()).toContain(JSON.stringify(value));
  });
});

describe('node apps/api/dist/main.js: a valid environment', () => {
  test('serves health and ingest from the env it was given; SIGTERM exits 0 within 10 s', async () => {
    const c = runMain(validEnv());
    const url = await listeningUrl(c);

    const ok = await health(url);
    expect(ok.status).toBe(200);
    expect(ok.json()).toEqual({ status: 'ok' });

    const event = makeEvent('system.heartbeat');
    expect((await ingest(url, [event])).status).toBe(202);
    const entries = await streamEntries(reader, keys.stream);
    expect(entries.map((e) => e.fields['event'])).toEqual([JSON.stringify(event)]);
    expect((await ingest(url, [event], 'wrong')).status).toBe(401);

    c.process.kill('SIGTERM');
    expect(await exitWithin(c, 10_000)).toEqual({ code: 0, signal: null });
    expect(c.stdout()).toContain('Shut down cleanly');
    expect(c.stdout()).not.toContain(API_KEY);
    await expect(health(url)).rejects.toThrow();
  });

  test('SIGTERM lets a request in flight finish before exiting 0', async () => {
    // debug: "incoming request" (which says the request is in flight) is logged at debug only.
    const c = runMain(validEnv({ LOG_LEVEL: 'debug' }));
    const url = new URL(await listeningUrl(c));
    const body = Buffer.from(JSON.stringify({ events: [makeEvent('system.heartbeat')] }));
    const half = Math.floor(body.length / 2);

    // A client that keeps its sockets open: shutdown must not wait for it to let go.
    const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 60_000, timeout: 60_000 });
    // Headers and half the body now; the rest only once shutdown has begun.
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          agent,
          method: 'POST',
          path: '/api/events/ingest',
          headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.write(body.subarray(0, half));
      void waitFor(() => c.stdout().includes('"url":"/api/events/ingest"'), 10_000)
        .then(() => {
          c.process.kill('SIGTERM');
          return waitFor(() => c.stdout().includes('Shutting down'), 10_000);
        })
        .then(() => req.end(body.subarray(half)), reject);
    });

    const res = await response;
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body)).toMatchObject({ ingested: 1 });
    try {
      expect(await exitWithin(c, 10_000)).toEqual({ code: 0, signal: null });
    } finally {
      agent.destroy();
    }
    expect(await reader.xlen(keys.stream)).toBe(1);
  });

  test('a request that never finishes: the shutdown deadline passes and the API exits 1 (not clean)', async () => {
    // debug: "incoming request" is logged at debug (the access log samples successes at info).
    const c = runMain(validEnv({ LOG_LEVEL: 'debug' }));
    const url = new URL(await listeningUrl(c));
    const socket = connect(Number(url.port), url.hostname);
    try {
      // Headers promise a body that never comes: closing the server waits for this request.
      socket.write(`POST /api/events/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`);
      await waitFor(() => c.stdout().includes('"url":"/api/events/ingest"'), 10_000);
      c.process.kill('SIGTERM');
      expect(await exitWithin(c, 12_000)).toEqual({ code: 1, signal: null });
      expect(c.stdout()).toContain('did not finish within 9000 ms');
      expect(c.stdout()).not.toContain('Shut down cleanly');
    } finally {
      socket.destroy();
    }
  });
});
