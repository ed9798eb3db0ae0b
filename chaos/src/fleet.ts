import { resolve } from 'node:path';
import Redis from 'ioredis';
import {
  createEmptyDatabase,
  freePort,
  spawnProcess,
  startRedisServer,
  startTcpProxy,
  withHostPort,
  type PrivateRedis,
  type ProcessExit,
  type SpawnedProcess,
  type TcpProxy,
  type TestDatabase,
} from '@fuel-code/testing';

/**
 * Everything the run starts: a private redis-server (appendonly), a fresh database, a TCP
 * proxy in front of PostgreSQL for the workers and one in front of Redis for the API and the
 * workers (the chaos process's own Redis clients connect directly, so its view of the stream
 * never goes silent), the API and the worker processes. Every
 * process is remembered with how it ended, so "nothing crashed but what we killed" can be
 * checked, and stop() tears it all down (idempotent, also after a failure or Ctrl-C).
 */

const ROOT = resolve(__dirname, '../..');
export const WORKER_JS = resolve(ROOT, 'apps/event-worker/dist/worker.js');
export const API_JS = resolve(ROOT, 'apps/api/dist/main.js');
export const STREAM = 'events:incoming';
export const GROUP = 'event-processors';
export const DEAD_LETTERS = 'events:dead-letter';
export const CLAIM_IDLE_MS = 5000;

export interface Proc {
  role: 'api' | 'worker';
  name: string;
  pid: number;
  proc: SpawnedProcess;
  startedAt: number;
  /** Set when we SIGKILL it on purpose. */
  killedByUs: boolean;
  /** Set when we SIGTERM it at the end. */
  terminatedByUs: boolean;
  terminatedAt?: number;
  exit?: ProcessExit;
  exitedAt?: number;
}

export interface FleetOptions {
  workerArgs?: string[];
  /** WORKER_HTTP_PORT for each worker: a free port (probes, /metrics) or 0 (off). */
  httpPorts?: boolean;
  log: (msg: string) => void;
}

export class Fleet {
  redis!: PrivateRedis;
  db!: TestDatabase;
  proxy!: TcpProxy;
  redisProxy!: TcpProxy;
  apiUrl = '';
  readonly apiKey = `chaos-key-${process.pid}`;
  readonly procs: Proc[] = [];
  readonly workerPorts = new Map<Proc, number>();
  private stopped = false;

  constructor(private readonly o: FleetOptions) {}

  async start(): Promise<void> {
    this.redis = await startRedisServer({ appendonly: true });
    this.db = await createEmptyDatabase('chaos');
    const pg = new URL(this.db.url);
    this.proxy = await startTcpProxy({ targetHost: pg.hostname, targetPort: Number(pg.port || 5432) });
    this.redisProxy = await startTcpProxy({ targetHost: '127.0.0.1', targetPort: this.redis.port });
    this.o.log(`private redis-server on port ${this.redis.port} (appendonly, dir ${this.redis.dir}), its proxy on port ${this.redisProxy.port}; ` +
      `database ${this.db.name}; postgres proxy on port ${this.proxy.port}`);
  }

  /** The API's and the workers' REDIS_URL: through the Redis proxy. */
  appRedisUrl(): string {
    return withHostPort(this.redis.url, this.redisProxy.host, this.redisProxy.port);
  }

  /** The workers' DATABASE_URL: through the proxy. */
  workerDatabaseUrl(): string {
    return withHostPort(this.db.url, this.proxy.host, this.proxy.port);
  }

  private track(role: Proc['role'], name: string, proc: SpawnedProcess): Proc {
    const p: Proc = { role, name, pid: proc.child.pid ?? -1, proc, startedAt: Date.now(), killedByUs: false, terminatedByUs: false };
    this.procs.push(p);
    void proc.exited.then((exit) => {
      p.exit = exit;
      p.exitedAt = Date.now();
      if (!p.killedByUs && !p.terminatedByUs && !this.stopped) {
        this.o.log(`!! ${role} ${name} (pid ${p.pid}) exited on its own: code ${exit.code}, signal ${exit.signal}; stderr: ${proc.stderr.slice(-1500)}`);
      }
    });
    return p;
  }

  async startApi(): Promise<Proc> {
    const port = await freePort();
    // The rate limit well above what the producer sends (about 3 requests/s, more while it
    // retries): chaos is about outages, not about being throttled.
    const env = {
      ...process.env, PORT: String(port), API_KEY: this.apiKey, REDIS_URL: this.appRedisUrl(), EVENTS_STREAM: STREAM, CONSUMER_GROUP: GROUP,
      RATE_LIMIT_MAX: '100000', LOG_LEVEL: 'warn',
    };
    const p = this.track('api', 'api', spawnProcess(process.execPath, [API_JS], { env }));
    this.apiUrl = `http://127.0.0.1:${port}`;
    // The API logs 'API listening' at info; with LOG_LEVEL=warn, poll its health instead.
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (p.exit) throw new Error(`the API exited at boot: ${p.proc.stderr}`);
      const ok = await fetch(`${this.apiUrl}/api/health`).then((r) => r.ok, () => false);
      if (ok) return p;
      if (Date.now() > deadline) throw new Error('the API did not answer /api/health within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Start a worker; resolves once it logs `Event consumer started` (or rejects). */
  async startWorker(name: string, waitMs = 60_000): Promise<Proc> {
    const httpPort = this.o.httpPorts ? await freePort() : 0;
    const env = {
      ...process.env,
      REDIS_URL: this.appRedisUrl(),
      DATABASE_URL: this.workerDatabaseUrl(),
      EVENTS_STREAM: STREAM,
      CONSUMER_GROUP: GROUP,
      DEAD_LETTER_STREAM: DEAD_LETTERS,
      WORKER_HTTP_PORT: String(httpPort),
      LOG_LEVEL: 'info',
    };
    const args = [WORKER_JS, 'run', '--consumer-name', name, '--claim-idle-ms', String(CLAIM_IDLE_MS), '--batch-size', '200', ...(this.o.workerArgs ?? [])];
    const p = this.track('worker', name, spawnProcess(process.execPath, args, { env }));
    if (httpPort) this.workerPorts.set(p, httpPort);
    await p.proc.waitForLine('Event consumer started', waitMs);
    return p;
  }

  /** Each live worker's /healthz and /readyz status and the API's /api/health (0 = no answer within 2 s). */
  async probe(): Promise<{ healthz: number[]; readyz: number[]; api: number }> {
    const status = (url: string) => fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);
    const ports = this.liveWorkers().flatMap((p) => (this.workerPorts.has(p) ? [this.workerPorts.get(p) as number] : []));
    const [healthz, readyz, api] = await Promise.all([
      Promise.all(ports.map((port) => status(`http://127.0.0.1:${port}/healthz`))),
      Promise.all(ports.map((port) => status(`http://127.0.0.1:${port}/readyz`))),
      status(`${this.apiUrl}/api/health`),
    ]);
    return { healthz, readyz, api };
  }

  liveWorkers(): Proc[] {
    return this.procs.filter((p) => p.role === 'worker' && !p.exit && !p.killedByUs && !p.terminatedByUs);
  }

  async kill9(p: Proc): Promise<void> {
    p.killedByUs = true;
    await p.proc.kill('SIGKILL');
  }

  /** SIGTERM every live process (workers first, then the API); resolves with their exits. */
  async terminateAll(timeoutMs = 12_000): Promise<Proc[]> {
    const live = this.procs.filter((p) => !p.exit && !p.killedByUs);
    const order = [...live.filter((p) => p.role === 'worker'), ...live.filter((p) => p.role === 'api')];
    for (const p of order) {
      p.terminatedByUs = true;
      p.terminatedAt = Date.now();
      try {
        process.kill(p.pid, 'SIGCONT'); // never leave one stopped
      } catch {
        // gone
      }
      p.proc.child.kill('SIGTERM');
    }
    const timer = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
    await Promise.race([Promise.all(order.map((p) => p.proc.exited)), timer]);
    return order;
  }

  /** Kill whatever is left, stop redis, close the proxy, drop the database. Idempotent. */
  async stop(keep = false): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const p of this.procs) {
      if (p.exit) continue;
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await Promise.allSettled(this.procs.map((p) => p.proc.exited));
    // Bounded: a proxy whose close() never settles (a socket left paused after its other side
    // closed cleanly never ends) must not keep redis-server and the database.
    const bounded = async (what: string, p: Promise<unknown> | undefined): Promise<void> => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), 2000)));
      if ((await Promise.race([p?.catch(() => undefined), late])) === 'late') this.o.log(`${what} did not close within 2 s: going on`);
      clearTimeout(timer);
    };
    await bounded('the Postgres proxy', this.proxy?.close());
    await bounded('the Redis proxy', this.redisProxy?.close());
    await bounded('redis-server', this.redis?.stop());
    if (this.db) {
      if (keep) {
        this.o.log(`kept database ${this.db.name}`);
        await this.db.sql.end({ timeout: 2 }).catch(() => undefined);
      } else {
        await this.db.drop().catch((err: Error) => this.o.log(`could not drop database ${this.db.name}: ${err.message}`));
      }
    }
  }
}

/** An ioredis client for the chaos process itself: errors surface at once, nothing is replayed. */
export function chaosRedis(url: string, name: string): Redis {
  const r = new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 10_000,
    retryStrategy: () => 200,
    lazyConnect: false,
  });
  r.on('error', () => undefined);
  return r;
}

export async function untilReady(r: Redis, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (r.status !== 'ready') {
    if (Date.now() > deadline) throw new Error(`redis client not ready within ${timeoutMs} ms (status ${r.status})`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

export interface GroupState {
  pending: number;
  /** XINFO GROUPS lag; null when Redis cannot compute it (e.g. after an AOF reload). */
  lag: number | null;
  consumers: number;
  lastDeliveredId: string;
}

/** XINFO GROUPS for one group of the stream, or undefined when there is no such group yet. */
export async function groupState(r: Redis, stream: string, group: string): Promise<GroupState | undefined> {
  const raw = (await r.call('XINFO', 'GROUPS', stream)) as unknown[][];
  for (const g of raw) {
    const f = new Map<string, unknown>();
    for (let i = 0; i + 1 < g.length; i += 2) f.set(String(g[i]), g[i + 1]);
    if (f.get('name') !== group) continue;
    const lag = f.get('lag');
    return {
      pending: Number(f.get('pending')),
      lag: lag === null || lag === undefined ? null : Number(lag),
      consumers: Number(f.get('consumers')),
      lastDeliveredId: String(f.get('last-delivered-id')),
    };
  }
  return undefined;
}
