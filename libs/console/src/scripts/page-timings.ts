/*
 * How long each console page takes with a big stream and dead-letter stream: fills a scratch
 * stream (100k entries, 10k pending), a scratch dead-letter stream (10k) and a scratch
 * database (events over the last hour, sessions), starts the console in this process, logs in
 * and prints each page's load time. A script that prints figures, not a test:
 *   npm run console:page-timings            (REDIS_URL, DATABASE_URL as for the worker)
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import Redis from 'ioredis';
import pino from 'pino';
import postgres from 'postgres';
import { createSqlClient, migrate } from '@fuel-code/db';
import { CONSOLE_DEFAULTS } from '../config';
import { startConsole } from '../server';

const STREAM_ENTRIES = Number(process.env['STREAM_ENTRIES'] ?? 100_000);
const PENDING = 10_000;
const DEAD_LETTERS = Number(process.env['DEAD_LETTERS'] ?? 10_000);
const EVENTS_LAST_HOUR = Number(process.env['EVENTS_LAST_HOUR'] ?? 200_000);
const RUNS = 7;
const TOKEN = randomBytes(24).toString('base64url');
const TYPES = ['git.commit', 'session.start', 'session.end', 'skill.invoke', 'git.push'];

function envelope(i: number): string {
  return JSON.stringify({ id: `01BENCH${String(i).padStart(19, '0')}`, type: TYPES[i % TYPES.length], timestamp: new Date().toISOString(), device_id: 'bench-device', workspace_id: 'github.com/acme/app', session_id: `bench-session-${i % 500}`, data: { message: 'x'.repeat(200), n: i } });
}

async function fillRedis(redis: Redis, keys: { stream: string; group: string; deadLetter: string }): Promise<void> {
  for (let i = 0; i < STREAM_ENTRIES; i += 1000) {
    const p = redis.pipeline();
    for (let j = i; j < Math.min(i + 1000, STREAM_ENTRIES); j++) p.xadd(keys.stream, '*', 'event', envelope(j));
    await p.exec();
  }
  await redis.xgroup('CREATE', keys.stream, keys.group, '0');
  for (let c = 0; c < 4; c++) await redis.xreadgroup('GROUP', keys.group, `bench-consumer-${c}`, 'COUNT', PENDING / 4, 'STREAMS', keys.stream, '>');
  for (let i = 0; i < DEAD_LETTERS; i += 1000) {
    const p = redis.pipeline();
    for (let j = i; j < Math.min(i + 1000, DEAD_LETTERS); j++) {
      // git.push is rare (1 in 1000): the worst case for a filtered page, which scans.
      const type = j % 1000 === 0 ? 'git.push' : TYPES[j % 4];
      p.xadd(keys.deadLetter, '*', 'event', envelope(j).replace(/"type":"[^"]+"/, `"type":"${type}"`), 'stream_id', `${j}-0`, 'reason', j % 7 === 0 ? 'invalid' : 'failed', 'error', 'refused by a trigger', 'attempts', '3', 'consumer', 'bench-consumer-0', 'failed_at', new Date().toISOString());
    }
    await p.exec();
  }
}

async function fillDatabase(sql: postgres.Sql): Promise<void> {
  await sql`
    INSERT INTO events (id, type, "timestamp", device_id, workspace_id, session_id, data, ingested_at)
    SELECT 'ev' || g, 'git.commit', now() - (g % 3600) * interval '1 second', 'bench-device', 'w1', 'bench-session-' || (g % 2000), '{}'::jsonb,
           now() - ((${EVENTS_LAST_HOUR} - g)::float / ${EVENTS_LAST_HOUR} * 3600) * interval '1 second'
    FROM generate_series(1, ${EVENTS_LAST_HOUR}) g`;
  await sql`
    INSERT INTO sessions (id, workspace_id, device_id, lifecycle, started_at)
    SELECT 'bench-session-' || g, 'w1', 'bench-device', 'detected', now() - g * interval '1 second' FROM generate_series(0, 1999) g`;
  await sql`ANALYZE events`;
  await sql`ANALYZE sessions`;
}

async function timePage(base: string, cookie: string, path: string): Promise<{ median: number; max: number; bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i <= RUNS; i++) {
    const started = performance.now();
    const res = await fetch(`${base}${path}`, { headers: { cookie } });
    bytes = (await res.arrayBuffer()).byteLength;
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
    if (i > 0) times.push(performance.now() - started); // the first load warms up
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)] ?? 0, max: times[times.length - 1] ?? 0, bytes };
}

async function logIn(base: string): Promise<string> {
  const page = await fetch(`${base}/login`);
  const loginCookie = (page.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const res = await fetch(`${base}/login`, { method: 'POST', headers: { cookie: loginCookie }, body: new URLSearchParams({ csrf, token: TOKEN }), redirect: 'manual' });
  return res.headers.getSetCookie().find((c) => c.startsWith('fuel_console_session='))?.split(';')[0] ?? '';
}

async function main(): Promise<void> {
  const tag = randomBytes(4).toString('hex');
  const keys = { stream: `console-bench:${tag}:events`, group: `console-bench:${tag}:group`, deadLetter: `console-bench:${tag}:dead-letter` };
  const adminUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `fuel_code_console_bench_${tag}`;
  const dbUrl = Object.assign(new URL(adminUrl), { pathname: `/${dbName}` }).toString();
  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`CREATE DATABASE "${dbName}"`);
  const sql = createSqlClient({ url: dbUrl, max: 4, statementTimeoutMs: 5_000 });
  const logger = pino({ level: 'silent' });
  try {
    const fillStarted = performance.now();
    await migrate({ sql, logger });
    await Promise.all([fillRedis(redis, keys), fillDatabase(sql)]);
    const busyBefore = loadavg()[0] ?? 0;
    process.stdout.write(
      `filled in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s: stream ${await redis.xlen(keys.stream)} entries (${PENDING} pending), ` +
        `${await redis.xlen(keys.deadLetter)} dead letters, ${EVENTS_LAST_HOUR} events in the last hour; load average before ${busyBefore.toFixed(2)}\n`,
    );
    const served = await startConsole({ redis, sql, logger, config: { ...CONSOLE_DEFAULTS, port: 0, token: TOKEN, stream: keys.stream, group: keys.group, deadLetterStream: keys.deadLetter, workerUrls: new Map(), secureCookie: false } });
    try {
      const cookie = await logIn(served.url);
      const [[someId] = ['0-0']] = await redis.xrevrange(keys.deadLetter, '+', '-', 'COUNT', 1);
      const pages = ['/', '/consumers', '/dead-letters', '/dead-letters?reason=invalid', '/dead-letters?type=git.push', `/dead-letters/${someId}`, '/sessions', '/sessions/bench-session-7'];
      process.stdout.write(`page                               median ms   max ms   KiB   (${RUNS} loads after one warm-up)\n`);
      for (const path of pages) {
        const t = await timePage(served.url, cookie, path);
        process.stdout.write(`${path.padEnd(34)} ${t.median.toFixed(1).padStart(9)} ${t.max.toFixed(1).padStart(8)} ${(t.bytes / 1024).toFixed(0).padStart(5)}\n`);
      }
      process.stdout.write(`load average after ${(loadavg()[0] ?? 0).toFixed(2)}\n`);
    } finally {
      await served.close();
    }
  } finally {
    await redis.del(keys.stream, keys.deadLetter);
    redis.disconnect();
    await sql.end({ timeout: 2 });
    await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end({ timeout: 2 });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
