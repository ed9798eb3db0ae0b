import type { FastifyBaseLogger } from 'fastify';
import { levels, type Bindings, type ChildLoggerOptions, type Level, type LevelWithSilentOrString } from 'pino';

type LogArgs = [unknown, ...unknown[]];

/** pino's levels (the API defines no custom ones) and silent; a level not here leaves the decision to pino. */
const LEVEL_VALUES: Readonly<Record<string, number>> = { ...levels.values, silent: Infinity };

/**
 * A request's logger that makes its pino child (with the request's `reqId`) only when a line is
 * written. Fastify makes a child per request for `request.log`; at info with a sampled access
 * log nearly no request writes a line, and the child cost more than all our checks on a request.
 * What a line carries is the same: it is written by the same child, made the same way.
 */
export class LazyRequestLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get real(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.options);
    return this.made;
  }

  /** Whether a line at `value` would be written: false only when it surely would not. */
  private enabled(value: number): boolean {
    if (this.made) return true;
    const threshold = LEVEL_VALUES[this.level];
    return threshold === undefined || value >= threshold;
  }

  /** What the child's level would be: its options', else its parent's. */
  get level(): LevelWithSilentOrString {
    if (this.made) return this.made.level;
    return this.options.level ?? this.parent.level;
  }

  set level(level: LevelWithSilentOrString) {
    this.real.level = level;
  }

  /** Writes through the child (made now if need be) unless the line surely would not be written. */
  private write(level: Level, args: LogArgs): void {
    if (!this.enabled(levels.values[level] ?? 0)) return;
    const real = this.real;
    Reflect.apply(real[level], real, args);
  }

  fatal(...args: LogArgs): void {
    this.write('fatal', args);
  }

  error(...args: LogArgs): void {
    this.write('error', args);
  }

  warn(...args: LogArgs): void {
    this.write('warn', args);
  }

  info(...args: LogArgs): void {
    this.write('info', args);
  }

  debug(...args: LogArgs): void {
    this.write('debug', args);
  }

  trace(...args: LogArgs): void {
    this.write('trace', args);
  }

  /** pino's silent writes nothing. */
  silent(..._args: LogArgs): void {
    return undefined;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory` for LazyRequestLogger. */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, options);
}
