import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { untilAborted, WaitAbortedError } from '@fuel-code/runtime';
import { readFromStream, type ReadOptions, type StreamEntry } from '@fuel-code/stream';

/** The blocking read's reply did not come within the block time plus the margin: its connection is replaced. */
export class WatchdogTimeoutError extends Error {
  readonly code = 'READ_WATCHDOG_TIMEOUT' as const;
  constructor(ms: number) {
    super(`blocking read did not return within ${ms} ms`);
    this.name = 'WatchdogTimeoutError';
  }
}

/**
 * XREADGROUP BLOCK on a connection of its own (a blocking read must not hold up XACK and
 * XADD), guarded by a watchdog. Its connection never re-sends a command after a reconnect
 * (a re-sent BLOCK can hang forever) and fails pending commands at once instead of
 * retrying them; the consume loop's own backoff does the retrying.
 *
 * The watchdog is what notices a connection gone silent (no error, no close): no reply
 * within the block time plus the margin, and the connection is replaced by a new one.
 * The base connection's command timeout is not inherited: it would cut every BLOCK longer
 * than itself short.
 */
export class BlockingReader {
  private conn: Redis;
  private closed = false;

  /**
   * @param onFailedRead called when a read fails (watchdog or connection error): Redis may
   *   have served it and lost only the reply, leaving entries pending for this consumer that
   *   nobody will read unless its own pending entries are read back.
   */
  constructor(
    private readonly base: Redis,
    private readonly logger: Logger,
    private readonly connectionName: string,
    private readonly onFailedRead: () => void = () => undefined,
    private readonly watchdogMarginMs = 5000,
  ) {
    this.conn = this.connect();
  }

  private connect(): Redis {
    const conn = this.base.duplicate({
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: undefined,
      connectionName: this.connectionName,
    });
    conn.on('error', (err: Error) => this.logger.debug({ err }, 'blocking read connection error'));
    return conn;
  }

  async read(options: ReadOptions): Promise<StreamEntry[]> {
    const conn = this.conn;
    const limit = (options.blockMs ?? 0) + this.watchdogMarginMs;
    try {
      return await untilAborted(readFromStream(conn, options), AbortSignal.timeout(limit));
    } catch (thrown) {
      const err = thrown instanceof WaitAbortedError ? new WatchdogTimeoutError(limit) : thrown;
      if (!this.closed) this.onFailedRead();
      if (err instanceof WatchdogTimeoutError) {
        this.logger.warn({ err }, 'Blocking read is stuck; replacing its connection');
        this.replace();
      }
      throw err;
    }
  }

  /** Abandon the read in flight (it rejects) and carry on with a fresh connection. */
  replace(): void {
    if (this.closed) return;
    const old = this.conn;
    this.conn = this.connect();
    old.disconnect(false);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.disconnect(false);
  }
}
