// The consume loop and its one port.
export { startConsumer, type ConsumerDeps, type ConsumerHandle } from './loop/consumer';
export type { ConsumerHealth } from './loop/progress';
export type { Delivery, EntryOutcome, EntryOutcomes, HandleEntries } from './port';
export { DEFAULT_CONSUMER_CONFIG, type ConsumerConfig } from './config';
export { createStopController, DEFAULT_BACKOFF, retryTransient, StoppedError, type BackoffOptions, type RetryDeps } from './retry';
export { createCounters, statsMessage, type ConsumerCounters } from './stats';
export type { AttemptOutcome, BatchOrigin, ConsumerObserver, EventOutcome, UnhandledKind } from './observer';
// The event pipeline's wrappers, composed by the app: parse → store → policies.
export { ackStored, wrap, type EventDelivery, type HandleEvents, type Middleware, type StoreEvents } from './pipeline/types';
export { parseEntries, parseEntry } from './pipeline/parse';
export { createDeadLetters, deadLetterExhausted, type WriteDeadLetter } from './pipeline/dead-letters';
export { AttemptsExhaustedError, limitAttempts } from './pipeline/attempts';
export { bisectRefused } from './pipeline/bisect';
export { measureAttempts } from './pipeline/attempt-metrics';
export { retryOutages } from './pipeline/outage-retry';
export { breakOutages, createOutageBreaker, DEFAULT_OUTAGE_BREAKER, type OutageBreaker, type OutageBreakerOptions } from './pipeline/outage-breaker';
export { cleanupIntervalMs, startGroupCleanup, type GroupCleanup, type GroupCleanupDeps } from './loop/group-cleanup';
