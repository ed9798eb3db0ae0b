export { untilAborted, WaitAbortedError, within } from './abort';
export {
  configReader,
  durationMs,
  integer,
  LOG_LEVELS,
  logLevel,
  MAX_TIMER_MS,
  name,
  parseSource,
  secretToken,
  url,
  type ConfigReader,
  type Env,
  type LogLevel,
  type Place,
  type Rule,
  type Source,
} from './config';
export {
  createShutdown,
  DEFAULT_SHUTDOWN_DEADLINE_MS,
  EXIT_CLEAN,
  EXIT_UNCLEAN,
  type Shutdown,
  type ShutdownDeps,
  type ShutdownOutcome,
  type ShutdownStep,
} from './shutdown';
