import type { Logger } from 'pino';
import { retryTransient, type BackoffOptions } from '../retry';
import { describeBatch, type Middleware, type StoreEvents } from './types';

/**
 * A store attempt that fails with a TransientError (a dependency outage, or a SQLSTATE the
 * outage breaker tripped on) is backed off and tried again until it answers or the consumer
 * stops: an outage is not the events' fault, so it never counts as an attempt.
 */
export function retryOutages(deps: { logger: Logger; backoff?: BackoffOptions }): Middleware<StoreEvents> {
  return (next) => (batch, signal) =>
    retryTransient(describeBatch(batch), () => next(batch, signal), { signal, logger: deps.logger, ...(deps.backoff ? { backoff: deps.backoff } : {}) });
}
