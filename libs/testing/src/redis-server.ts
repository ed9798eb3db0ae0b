import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tiedToThisProcess, trackChild, trackTempDir } from './child-registry';
import { freePort } from './net';
import { waitFor } from './wait-for';

export interface RedisServerOptions {
  /** `--appendonly yes` keeps writes across restarts; default no (and never an RDB save). */
  appendonly?: boolean;
  /** The redis-server binary; default `redis-server` on PATH. */
  binary?: string;
  /** How long to wait for PING to answer after a start; default 10 s. */
  startTimeoutMs?: number;
}

export interface PrivateRedis {
  port: number;
  url: string;
  /** Its data directory (fresh, removed when the test process exits). */
  dir: string;
  /** The running server's pid, undefined while stopped. */
  pid(): number | undefined;
  /** SIGTERM and wait for the exit (Redis shuts down cleanly, flushing the AOF). Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit (a crash: no shutdown work). Idempotent. */
  kill(): Promise<void>;
  /** Stop, then start again on the same port and dir, and wait until PING answers. */
  restart(): Promise<void>;
}

/** One PING over a raw socket: true when the server answers +PONG (not -LOADING, not refused). */
function pingOnce(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Rejects as soon as `proc` fails to start or exits; the message carries its last output. */
function diesEarly(proc: ChildProcess, port: number): Promise<never> {
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const died = new Promise<never>((_, reject) => {
    const fail = (why: string) => reject(new Error(`redis-server on port ${port} ${why} before answering PING:\n${output}`));
    proc.once('error', (err) => fail(`failed to start (${err.message})`));
    proc.once('exit', (code, signal) => fail(`exited (code ${code}, signal ${signal})`));
  });
  died.catch(() => undefined);
  return died;
}

/** One redis-server process at a time, on a port and data dir that stay across restarts. */
class RedisProcess {
  child: ChildProcess | undefined;

  constructor(
    private readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  /** Start on `port` and wait until PING answers; fails as soon as the server dies. */
  async launch(port: number): Promise<void> {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', this.options.appendonly ? 'yes' : 'no'];
    args.push('--dir', this.dir, '--daemonize', 'no');
    const proc = spawn(...tiedToThisProcess(this.options.binary ?? 'redis-server', args), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = proc;
    trackChild(proc);
    // Not a timeout race: the server dying (port taken, bad option) ends the wait before its deadline.
    await Promise.race([
      waitFor(() => pingOnce(port), this.options.startTimeoutMs ?? 10_000, { description: `redis-server on port ${port} to answer PING` }),
      diesEarly(proc, port),
    ]);
  }

  async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const proc = this.child;
    if (!proc) return;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exitOf(proc);
    if (this.child === proc) this.child = undefined;
  }

  /** Launch on a free port: it is free when picked, but another process may take it before redis binds it. */
  async launchOnFreePort(): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        await this.launch(port);
        return port;
      } catch (err) {
        await this.signalAndWait('SIGKILL');
        if (attempt >= 3) throw err;
      }
    }
  }
}

/**
 * A redis-server of the test's own (the installed binary), on a free port with a fresh data
 * dir, for tests that stop, crash or restart Redis. Never outlives the test process.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'fuel-code-redis-'));
  trackTempDir(dir);
  const server = new RedisProcess(dir, options);
  const port = await server.launchOnFreePort();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    pid: () => server.child?.pid,
    stop: () => server.signalAndWait('SIGTERM'),
    kill: () => server.signalAndWait('SIGKILL'),
    async restart() {
      await server.signalAndWait('SIGTERM');
      try {
        await server.launch(port);
      } catch (err) {
        await server.signalAndWait('SIGKILL');
        throw err;
      }
    },
  };
}
