import { existsSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { createRedisConnection, REDIS_ROLES, waitUntilReady } from '@fuel-code/stream';
import { waitFor } from '@fuel-code/testing';
import { createServer, type ServerConfig } from '../src/server';
import type { FastifyInstance } from 'fastify';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const API_KEY = 'test-key-0123456789abcdef';

export interface TestApp {
  app: FastifyInstance;
  redis: Redis;
  /** `http://127.0.0.1:<port>` of the listening server. */
  url: string;
  close(): Promise<void>;
}

/**
 * The real server, listening on a free port, on a real client with the production options,
 * connected before use. Tests go through real HTTP rather than `app.inject`: inject loads
 * light-my-request, whose cookie@2 dependency is ESM-only and cannot load under jest.
 */
export async function startApp(redisUrl: string, logger: Logger, config: Partial<ServerConfig> & { eventsStream: string }): Promise<TestApp> {
  const redis = createRedisConnection({ url: redisUrl, logger: logger.child({ component: 'redis' }), ...REDIS_ROLES.api });
  if (!(await waitUntilReady(redis, 10_000))) throw new Error(`Redis at ${redisUrl} is not ready`);
  const app = createServer({ redis, logger, config: { apiKey: API_KEY, ...config } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    app,
    redis,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await app.close();
      redis.disconnect();
    },
  };
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: string;
  json<T = unknown>(): T;
}

export async function request(url: string, init: RequestInit = {}): Promise<HttpResponse> {
  const res = await fetch(url, init);
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, json: <T>() => JSON.parse(body) as T };
}

/** POST a raw body to the ingest route, with the right key unless told otherwise. */
export function postRaw(baseUrl: string, body: string, options: { key?: string | null; contentType?: string; authorization?: string } = {}): Promise<HttpResponse> {
  const key = options.key === undefined ? API_KEY : options.key;
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json' };
  if (options.authorization !== undefined) headers['authorization'] = options.authorization;
  else if (key !== null) headers['authorization'] = `Bearer ${key}`;
  return request(`${baseUrl}/api/events/ingest`, { method: 'POST', headers, body });
}

/** POST `{events}` to the ingest route. */
export function ingest(baseUrl: string, events: unknown[], key: string | null = API_KEY): Promise<HttpResponse> {
  return postRaw(baseUrl, JSON.stringify({ events }), { key });
}

export function health(baseUrl: string): Promise<HttpResponse> {
  return request(`${baseUrl}/api/health`);
}

/** Entries of a stream as `[id, {field: value}]`, every field kept. */
export async function streamEntries(redis: Redis, stream: string): Promise<{ id: string; fields: Record<string, string> }[]> {
  const raw = await redis.xrange(stream, '-', '+');
  return raw.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
    return { id, fields };
  });
}

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Child {
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kill if still running and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A child process whose output is collected, with nothing inherited from this env but PATH. */
export function spawnChild(command: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface PrivateRedis {
  port: number;
  url: string;
  child: Child;
  stop(): Promise<void>;
}

/** A redis-server of this test's own, so it can be killed, paused and restarted; `extraArgs` go on its command line. */
export async function startPrivateRedis(port: number, extraArgs: string[] = []): Promise<PrivateRedis> {
  const child = spawnChild('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs], {});
  await waitFor(() => child.stdout().includes('Ready to accept connections') || child.process.exitCode !== null, 10_000, {
    description: `redis-server on port ${port} to start`,
  });
  if (child.process.exitCode !== null) throw new Error(`redis-server exited: ${child.stdout()}${child.stderr()}`);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    child,
    async stop() {
      await child.stop('SIGKILL');
    },
  };
}

/**
 * POST `{events}` from a chosen local address (any of 127.0.0.0/8 reaches a server on
 * 127.0.0.1 under Linux), so one test can play several client IPs. A fresh connection each time.
 */
export function ingestFrom(baseUrl: string, localAddress: string, events: unknown[], key: string | null = API_KEY): Promise<HttpResponse> {
  const body = Buffer.from(JSON.stringify({ events }));
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': body.length };
  if (key !== null) headers['authorization'] = `Bearer ${key}`;
  const url = new URL('/api/events/ingest', baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') responseHeaders.set(name, value);
        resolve({ status: res.statusCode ?? 0, headers: responseHeaders, body: text, json: <T>() => JSON.parse(text) as T });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Settles when the socket closes, whoever closed it. */
  closed: Promise<void>;
  /** True once closed. */
  isClosed(): boolean;
}

/** A plain TCP connection to the server, for what fetch hides: keep-alive, half-sent requests. */
export async function openConnection(baseUrl: string): Promise<RawConnection> {
  const url = new URL(baseUrl);
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  let text = '';
  let isClosed = false;
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  socket.on('error', () => undefined); // a reset by the server is a close like any other here
  const closed = new Promise<void>((resolve) => {
    socket.once('close', () => {
      isClosed = true;
      resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => text, closed, isClosed: () => isClosed };
}

/** The built worker (`npx turbo run build --filter=@fuel-code/event-worker...` first). */
export const WORKER_JS = path.join(REPO_ROOT, 'apps/event-worker/dist/worker.js');

/** `worker.js run` on a test's stream keys and database, HTTP off. */
export function startWorkerProcess(databaseUrl: string, keys: { stream: string; group: string; deadLetter: string }, redisUrl: string): Child {
  if (!existsSync(WORKER_JS)) throw new Error(`${WORKER_JS} is missing: build @fuel-code/event-worker first`);
  return spawnChild(process.execPath, [WORKER_JS, 'run'], {
    REDIS_URL: redisUrl,
    DATABASE_URL: databaseUrl,
    EVENTS_STREAM: keys.stream,
    CONSUMER_GROUP: keys.group,
    DEAD_LETTER_STREAM: keys.deadLetter,
    WORKER_HTTP_PORT: '0',
    LOG_LEVEL: 'info',
  });
}
