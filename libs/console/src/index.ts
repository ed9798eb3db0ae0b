export {
  clearedSessionCookie,
  isLoopbackHost,
  readCookie,
  secretsEqual,
  SESSION_COOKIE,
  sessionCookie,
  SessionStore,
  tokenMatches,
  tokenMissingForHost,
  type ConsoleSession,
} from './auth';
export { CONSOLE_DEFAULTS, type ConsoleConfig } from './config';
export { ConsoleTokenRequiredError, startConsole, type ConsoleDeps, type RunningConsole } from './server';
export { DEFAULT_STATUS_RULES, lagGrowingForMs, statusLine, type Sample, type StatusLevel, type StatusLine, type StatusRules } from './status';
export { isDeadConsumer, startSampler, takeSample, type Sampler } from './sampler';
export { fetchHealth, parseWorkerUrls, type HealthVerdict } from './worker-health';
export { idTimeMs, readConsumers, readStreamState, type ConsumerRow, type StreamState, type StreamTarget } from './read/stream-state';
export {
  eventTypeOf,
  matchingDeadLetterIds,
  readDeadLetterPage,
  type DeadLetterFilter,
  type DeadLetterPage,
  type DeadLetterRow,
} from './read/dead-letters';
export { readDeadLettersPerHour, type HourlyDeadLetters } from './read/dead-letter-stats';
export { databaseState, eventsPerMinute, recentSessions, sessionById, sessionEvents, type DatabaseState, type MinuteCount, type SessionRow, type TimelineEvent } from './read/database';
