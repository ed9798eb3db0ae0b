export { startConsumer, type ConsumerDeps, type ConsumerHandle, type ConsumerHealth } from './consumer';
export { DEFAULT_CONSUMER_CONFIG, type ConsumerConfig } from './config';
export { DEFAULT_BACKOFF, retryTransient, type BackoffOptions } from './retry';
export { statsMessage, type ConsumerCounters } from './stats';
export { createStopSignal, StoppedError, type StopSignal } from './stop-signal';
export type { AttemptOutcome, BatchOrigin, ConsumerObserver, EventOutcome, UnhandledKind } from './observer';
export { cleanupIntervalMs, startGroupCleanup, type GroupCleanup, type GroupCleanupDeps } from './group-cleanup';
