import { once } from 'node:events';
import Redis from 'ioredis';
import type { Logger } from 'pino';
import { untilAborted } from '@fuel-code/runtime';

/** The message ioredis rejects a command with once `commandTimeout` has passed. */
const COMMAND_TIMED_OUT = 'Command timed out';

export const DEFAULT_DROP_AFTER_TIMEOUTS = 2;

export interface RedisConnectionOptions {
  url: string;
  /** The caller's child logger for this connection (e.g. `{ component: 'redis' }`). */
  logger: Logger;
  /** Shown in CLIENT LIST, so an operator can tell the connections apart. */
  connectionName?: string;
  /** How long any command may wait for its reply before it fails. */
  commandTimeoutMs: number;
  /**
   * Commands timed out in a row on one connection, with no byte from Redis in between,
   * before that connection is dropped and a new one opened. Default 2.
   */
  dropAfterTimeouts?: number;
  /**
   * false: while disconnected a command fails at once (an HTTP request answers 503 now).
   * true: it waits for the reconnect, still bounded by commandTimeoutMs.
   */
  queueWhileDisconnected: boolean;
  connectTimeoutMs?: number;
  /** Delay before reconnect attempt `attempt` (1, 2, …); null gives up. */
  reconnectDelayMs?: (attempt: number) => number | null;
  /**
   * ioredis auto-pipelining: commands issued while a pipeline is in flight are sent together
   * in the next one, each with its own reply (and its own failure). Default false.
   */
  autoPipelining?: boolean;
}

export type RedisRole = 'api' | 'worker' | 'cli' | 'console';

/**
 * Each process's connection settings, declared here once; a caller spreads its role's:
 * `createRedisConnection({ url, logger, ...REDIS_ROLES.worker })`.
 */
const ROLES: Readonly<Record<Exclude<RedisRole, 'console'>, Readonly<Omit<RedisConnectionOptions, 'url' | 'logger'>>>> = Object.freeze({
  /**
   * The API: a request fails fast instead of hanging, because a 503 the client can retry beats
   * a request that never ends. No offline queue (while disconnected a command rejects at once);
   * 2 s per command; reconnects forever with capped backoff, so the API heals on its own.
   */
  api: {
    connectionName: 'fuel-code-api',
    commandTimeoutMs: 2_000,
    queueWhileDisconnected: false,
    connectTimeoutMs: 5_000,
    reconnectDelayMs: (attempt: number) => Math.min(attempt * 100, 2_000),
    // The ingest route's XADDs go in one EVAL per event-loop turn (createBatchedPublisher);
    // auto-pipelining lets concurrent requests' other commands (backlog reads, health) and
    // those EVALs share a write, each with its own reply.
    autoPipelining: true,
  },
  /**
   * The worker's command connection (XACK, XAUTOCLAIM, the dead-letter script…; the blocking
   * read has a connection of its own). While Redis is away commands wait for the reconnect,
   * each bounded by 3 s, and the consumer backs off and retries them itself. 3 s is generous
   * next to a healthy round trip: a batch's reply can be large, and a timed-out read is only
   * read again.
   */
  worker: {
    connectionName: 'fuel-code-worker',
    commandTimeoutMs: 3_000,
    queueWhileDisconnected: true,
    reconnectDelayMs: (attempt: number) => Math.min(attempt * 200, 2_000),
  },
  /**
   * One operator command (`status`, `dead-letters …`): 30 s, as `dead-letters list` and
   * `replay --all` read whole ranges of the stream in one reply; gives up after 3 reconnects.
   */
  cli: {
    connectionName: 'fuel-code-worker-cli',
    commandTimeoutMs: 30_000,
    queueWhileDisconnected: true,
    reconnectDelayMs: (attempt: number) => (attempt > 2 ? null : 200),
  },
});

export const REDIS_ROLES: Readonly<Record<RedisRole, Readonly<Omit<RedisConnectionOptions, 'url' | 'logger'>>>> = Object.freeze({
  ...ROLES,
  /** The web console's page reads: the worker's settings (a read waits at most 3 s, then the page says Redis did not answer), under its own name. */
  console: { ...ROLES.worker, connectionName: 'fuel-code-console' },
});

/**
 * A Redis client that cannot hang on a silent connection, for every connection that sends
 * non-blocking commands:
 *  - every command fails after commandTimeoutMs;
 *  - a connection that leaves `dropAfterTimeouts` commands in a row unanswered is dropped
 *    and replaced (guardAgainstSilence). Without that, a connection that went silent (no
 *    error, no close: a NAT entry forgotten, a frozen peer) stays "ready" until TCP gives
 *    up, about 15 minutes, and every command on it times out;
 *  - a command whose caller was told it failed is never re-sent after a reconnect
 *    (autoResendUnfulfilledCommands false): the caller retries it, or has given up;
 *  - reconnects forever with capped backoff unless told otherwise;
 *  - logs a connection error once per outage (its message only: never the URL, which may
 *    hold a password), and once when the connection is back.
 */
export function createRedisConnection(o: RedisConnectionOptions): Redis {
  const redis = new Redis(o.url, {
    commandTimeout: o.commandTimeoutMs,
    enableOfflineQueue: o.queueWhileDisconnected,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    connectTimeout: o.connectTimeoutMs ?? 5_000,
    retryStrategy: o.reconnectDelayMs ?? ((attempt) => Math.min(attempt * 100, 2_000)),
    enableAutoPipelining: o.autoPipelining ?? false,
    ...(o.connectionName === undefined ? {} : { connectionName: o.connectionName }),
  });
  const log = o.logger;
  let down = false;
  redis.on('error', (err: Error & { code?: unknown }) => {
    if (down) return;
    down = true;
    log.warn({ err: { message: err.message, code: err.code } }, `Redis connection error: ${err.message}`);
  });
  redis.on('ready', () => {
    if (down) log.info('Redis connection restored');
    down = false;
  });
  guardAgainstSilence(redis, { logger: log, dropAfterTimeouts: o.dropAfterTimeouts ?? DEFAULT_DROP_AFTER_TIMEOUTS });
  return redis;
}

export interface SilenceGuardOptions {
  logger: Logger;
  dropAfterTimeouts: number;
}

type Socket = Redis['stream'];

/** Per-client state of guardAgainstSilence; see there. */
class SilenceGuard {
  /** The connection `timeouts` counts for. */
  private counting: Socket | undefined;
  /** Commands timed out in a row on that connection, none answered since. */
  private timeouts = 0;
  /** When the first of those timed out (cleared by any byte from Redis). */
  unansweredSince: number | undefined;
  /** When this outage's first drop happened, until the new connection answers. */
  private droppedAt: number | undefined;
  private drops = 0;
  private deciding = false;
  private readonly watched = new WeakSet<Socket>();

  constructor(
    private readonly redis: Redis,
    private readonly o: SilenceGuardOptions,
  ) {}

  /** Listen for replies on a connection, once per connection. */
  watch(socket: Socket | undefined): void {
    if (!socket || this.watched.has(socket)) return;
    this.watched.add(socket);
    socket.on('data', () => {
      if (socket === this.redis.stream) this.answered();
    });
  }

  timedOut(socket: Socket | undefined): void {
    // A command sent on an earlier connection says nothing about this one.
    if (!socket || socket !== this.redis.stream || socket.destroyed) return;
    if (this.counting !== socket) {
      this.counting = socket;
      this.timeouts = 0;
    }
    this.timeouts++;
    this.unansweredSince ??= Date.now();
    if (this.timeouts < this.o.dropAfterTimeouts || this.deciding) return;
    this.deciding = true;
    // Decide after the event loop's next poll for I/O: a reply that arrived while the loop
    // was busy is read first and resets the count, so a busy process is not taken for a
    // silent connection.
    setImmediate(() => {
      this.deciding = false;
      if (this.timeouts >= this.o.dropAfterTimeouts && socket === this.redis.stream && !socket.destroyed) this.drop(socket);
    });
  }

  private answered(): void {
    this.timeouts = 0;
    this.unansweredSince = undefined;
    if (this.droppedAt === undefined) return;
    this.o.logger.info({ outageMs: Date.now() - this.droppedAt, drops: this.drops }, 'Redis answers on a new connection after the silent one was dropped');
    this.droppedAt = undefined;
    this.drops = 0;
  }

  private drop(socket: Socket): void {
    const now = Date.now();
    this.drops++;
    if (this.droppedAt === undefined) {
      this.droppedAt = now;
      this.o.logger.warn(
        { timeouts: this.timeouts, silentMs: now - (this.unansweredSince ?? now) },
        `Redis left ${this.timeouts} commands in a row unanswered: dropping the silent connection and reconnecting`,
      );
    }
    this.timeouts = 0;
    socket.destroy();
  }
}

const guards = new WeakMap<Redis, SilenceGuard>();

/**
 * Since when the client's commands have gone unanswered (ms since epoch): set by the first
 * command timeout on a connection, cleared when Redis sends any byte on the current one.
 * Undefined while Redis answers, and for a client that is not guarded.
 */
export function unansweredSince(redis: Redis): number | undefined {
  return guards.get(redis)?.unansweredSince;
}

/**
 * Drop a connection that stopped answering, so ioredis opens a new one. Counts, per
 * connection, the commands that fail with ioredis's command timeout; any byte received on
 * that connection resets the count. At `dropAfterTimeouts` the socket is destroyed (as
 * ioredis's own socketTimeout does): its 'close' makes ioredis reconnect with its
 * retryStrategy. `redis.disconnect(true)` would first wait for a FIN the silent peer never
 * acknowledges (disconnectTimeout). Logs one warning when it drops, one line when the new
 * connection answers. Needs `commandTimeout` on the client; one guard per client.
 */
export function guardAgainstSilence(redis: Redis, o: SilenceGuardOptions): void {
  if (guards.has(redis)) return;
  const guard = new SilenceGuard(redis, o);
  guards.set(redis, guard);
  const send = redis.sendCommand.bind(redis);
  // Every command goes through sendCommand (pipelines and scripts too). ioredis itself
  // replaces it per instance the same way in monitor mode.
  redis.sendCommand = (command, stream) => {
    const socket: Socket | undefined = redis.stream;
    guard.watch(socket);
    const result = send(command, stream);
    command.promise.catch((err: unknown) => {
      if (err instanceof Error && err.message === COMMAND_TIMED_OUT) guard.timedOut(socket);
    });
    return result;
  };
}

/**
 * QUIT when connected, so replies in flight arrive, waiting at most `timeoutMs`; then (or at
 * once, when not connected) drop the socket. Never rejects: this is cleanup.
 */
export async function closeRedisConnection(redis: Redis, timeoutMs = 1_000): Promise<void> {
  try {
    if (redis.status === 'ready') await untilAborted(redis.quit(), AbortSignal.timeout(timeoutMs));
  } catch {
    // The connection went away while quitting, or QUIT went unanswered: drop it below.
  } finally {
    redis.disconnect();
  }
}

/** True once the client is ready, false if it is not within `timeoutMs`. */
export async function waitUntilReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  try {
    await once(redis, 'ready', { signal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  }
}
