import Redis from 'ioredis';
import type { Logger } from 'pino';

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
}

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

interface SilenceState {
  /** The connection `timeouts` counts for. */
  counting: Socket | undefined;
  /** Commands timed out in a row on that connection, none answered since. */
  timeouts: number;
  /** When the first of those timed out (cleared by any byte from Redis). */
  unansweredSince: number | undefined;
  /** When this outage's first drop happened, until the new connection answers. */
  droppedAt: number | undefined;
  drops: number;
  deciding: boolean;
}

const states = new WeakMap<Redis, SilenceState>();

/**
 * Since when the client's commands have gone unanswered (ms since epoch): set by the first
 * command timeout on a connection, cleared when Redis sends any byte on the current one.
 * Undefined while Redis answers, and for a client that is not guarded.
 */
export function unansweredSince(redis: Redis): number | undefined {
  return states.get(redis)?.unansweredSince;
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
  if (states.has(redis)) return;
  const state: SilenceState = { counting: undefined, timeouts: 0, unansweredSince: undefined, droppedAt: undefined, drops: 0, deciding: false };
  states.set(redis, state);
  const watched = new WeakSet<NonNullable<Socket>>();

  const answered = (): void => {
    state.timeouts = 0;
    state.unansweredSince = undefined;
    if (state.droppedAt === undefined) return;
    o.logger.info(
      { outageMs: Date.now() - state.droppedAt, drops: state.drops },
      'Redis answers on a new connection after the silent one was dropped',
    );
    state.droppedAt = undefined;
    state.drops = 0;
  };

  const watch = (socket: Socket | undefined): void => {
    if (!socket || watched.has(socket)) return;
    watched.add(socket);
    socket.on('data', () => {
      if (socket === redis.stream) answered();
    });
  };

  const drop = (socket: NonNullable<Socket>): void => {
    const now = Date.now();
    state.drops++;
    if (state.droppedAt === undefined) {
      state.droppedAt = now;
      o.logger.warn(
        { timeouts: state.timeouts, silentMs: now - (state.unansweredSince ?? now) },
        `Redis left ${state.timeouts} commands in a row unanswered: dropping the silent connection and reconnecting`,
      );
    }
    state.timeouts = 0;
    socket.destroy();
  };

  const timedOut = (socket: Socket | undefined): void => {
    // A command sent on an earlier connection says nothing about this one.
    if (!socket || socket !== redis.stream || socket.destroyed) return;
    if (state.counting !== socket) {
      state.counting = socket;
      state.timeouts = 0;
    }
    state.timeouts++;
    state.unansweredSince ??= Date.now();
    if (state.timeouts < o.dropAfterTimeouts || state.deciding) return;
    state.deciding = true;
    // Decide after the event loop's next poll for I/O: a reply that arrived while the loop
    // was busy is read first and resets the count, so a busy process is not taken for a
    // silent connection.
    setImmediate(() => {
      state.deciding = false;
      if (state.timeouts >= o.dropAfterTimeouts && socket === redis.stream && !socket.destroyed) drop(socket);
    });
  };

  const send = redis.sendCommand.bind(redis);
  // Every command goes through sendCommand (pipelines and scripts too). ioredis itself
  // replaces it per instance the same way in monitor mode.
  redis.sendCommand = (command, stream) => {
    const socket: Socket | undefined = redis.stream;
    watch(socket);
    const result = send(command, stream);
    command.promise.catch((err: unknown) => {
      if (err instanceof Error && err.message === COMMAND_TIMED_OUT) timedOut(socket);
    });
    return result;
  };
}
