import type { Logger } from 'pino';

export interface ShutdownOptions {
  logger: Logger;
  /** Stop accepting, let in-flight work finish, release connections. */
  stop: () => Promise<void>;
  /** Past this, exit anyway (code 1): an orchestrator's own kill deadline is usually 10 s. */
  deadlineMs?: number;
}

/**
 * SIGTERM/SIGINT start a graceful stop that exits 0; a second signal, or the deadline,
 * exits 1 at once so an operator is never stuck waiting on a hung dependency.
 */
export function installShutdownHandlers({ logger, stop, deadlineMs = 9_000 }: ShutdownOptions): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'Second signal received: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'Shutting down: no new requests, finishing the ones in flight');
    setTimeout(() => {
      logger.error({ deadlineMs }, 'Shutdown did not finish in time: exiting');
      process.exit(1);
    }, deadlineMs).unref();
    stop().then(
      () => {
        logger.info('Shut down cleanly');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
