import { z } from 'zod';
import { ConfigError, parseUrlFaithfully, redactUrl } from '@fuel-code/core';

/**
 * Building blocks for the apps' configuration. Each app keeps its own list of settings; the
 * rules are the same in both:
 *  - flag > environment variable > default: the first place that was given wins;
 *  - a blank environment variable (empty, or only spaces) counts as unset, so `FOO=` in a
 *    compose file means "the default". A flag given on the command line is always a value:
 *    `--consumer-name ''` is refused, not ignored;
 *  - each value is parsed by a zod schema (integers, durations, URLs, names, log levels below);
 *  - a refused value throws ConfigError `Invalid <VARIABLE or --flag>: expected …, got "…"`,
 *    naming the place it came from; URLs are shown with their password masked, secrets not at all.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Node's timers overflow above this (a longer delay fires at once), so no duration may exceed it. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A value as the user gave it, and how they named it: `--batch-size` or `EVENTS_STREAM`. */
export interface Source {
  name: string;
  value: string;
}

/** Where one setting may be given: a flag (its name, and what commander handed over) and/or a variable. */
export interface Place {
  flag?: readonly [name: string, value: string | undefined];
  env?: string;
}

/** How a setting's text becomes its value. The schema's issue messages read "expected …". */
export interface Rule<T> {
  schema: z.ZodType<T, z.ZodTypeDef, string>;
  /** How a refused value appears in the message; undefined leaves it out. Default: quoted. */
  show?: (raw: string) => string | undefined;
}

/** A whole number in [min, max], written as plain digits (no sign, exponent or hex); spaces around are fine. */
export function integer(min: number, max: number): Rule<number> {
  const expected = `expected an integer from ${min} to ${max}`;
  const range = z.number().safe(expected).min(min, expected).max(max, expected);
  return { schema: z.string().trim().regex(/^\d+$/, expected).transform(Number).pipe(range) };
}

/** Milliseconds: an integer no larger than a Node timer can wait. */
export function durationMs(min: number, max: number = MAX_TIMER_MS): Rule<number> {
  return integer(min, Math.min(max, MAX_TIMER_MS));
}

/**
 * A URL with one of `schemes` (e.g. ['redis:', 'rediss:']), kept as written. Refused too: a
 * URL whose password holds an unencoded '/', '?' or '#', which would parse with part of the
 * password taken for the host, port or path, and connect somewhere else.
 */
export function url(schemes: readonly string[]): Rule<string> {
  const list = schemes.join(' or ');
  const schema = z.string().superRefine((raw, ctx) => {
    const parsed = parseUrlFaithfully(raw);
    if (!parsed) {
      const message = `expected a URL (${list}) with any '/', '?', '#' or '@' in its user or password percent-encoded (e.g. %2F)`;
      ctx.addIssue({ code: z.ZodIssueCode.custom, message });
    } else if (!schemes.includes(parsed.protocol)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a ${list} URL` });
    }
  });
  return { schema, show: (raw) => JSON.stringify(redactUrl(raw)) };
}

/** A stream, group or consumer name: 1 to 200 characters, no spaces (spaces around are dropped). */
export function name(): Rule<string> {
  return { schema: z.string().trim().regex(/^\S{1,200}$/, 'expected 1 to 200 characters without spaces') };
}

/** Text matching `pattern` (spaces around are dropped); `expected` says what it should be. */
export function matching(pattern: RegExp, expected: string): Rule<string> {
  return { schema: z.string().trim().regex(pattern, expected) };
}

/** true/1 or false/0. */
export function boolean(): Rule<boolean> {
  const values = z.enum(['true', '1', 'false', '0'], { errorMap: () => ({ message: 'expected true or false' }) });
  return { schema: z.string().trim().pipe(values).transform((v) => v === 'true' || v === '1') };
}

/** A pino level, in any case. */
export function logLevel(): Rule<LogLevel> {
  const message = `expected one of ${LOG_LEVELS.join(', ')}`;
  return { schema: z.string().trim().toLowerCase().pipe(z.enum(LOG_LEVELS, { errorMap: () => ({ message }) })) };
}

/** A secret sent as one header token (no whitespace could ever match); never echoed. */
export function secretToken(): Rule<string> {
  return { schema: z.string().regex(/^\S+$/, 'expected no whitespace (it travels as one header token)'), show: () => undefined };
}

/** Parse one given value, or throw ConfigError naming where it came from and what was expected. */
export function parseSource<T>(source: Source, rule: Rule<T>): T {
  const result = rule.schema.safeParse(source.value);
  if (result.success) return result.data;
  const expected = result.error.issues[0]?.message ?? 'expected a valid value';
  const shown = rule.show ? rule.show(source.value) : JSON.stringify(source.value);
  throw new ConfigError(`Invalid ${source.name}: ${expected}${shown === undefined ? '' : `, got ${shown}`}`);
}

export interface ConfigReader {
  /** flag > env: the first place given (a blank variable is not given), or undefined. */
  source(place: Place): Source | undefined;
  /** The parsed value from the first place given, or `fallback`. */
  value<T>(place: Place, rule: Rule<T>, fallback: T): T;
  /** Like value(), for a setting without a default: unset is refused with `Missing NAME: <expected>`. */
  required<T>(place: Place, rule: Rule<T>, expected: string): T;
}

/** The rules above, bound to one environment (the app passes process.env once, at its entry point). */
export function configReader(env: Env): ConfigReader {
  const source = (place: Place): Source | undefined => {
    if (place.flag && place.flag[1] !== undefined) return { name: place.flag[0], value: place.flag[1] };
    const raw = place.env === undefined ? undefined : env[place.env];
    if (place.env === undefined || raw === undefined || raw.trim() === '') return undefined;
    return { name: place.env, value: raw };
  };
  return {
    source,
    value(place, rule, fallback) {
      const given = source(place);
      return given ? parseSource(given, rule) : fallback;
    },
    required(place, rule, expected) {
      const given = source(place);
      if (given) return parseSource(given, rule);
      const names = [place.flag?.[0], place.env].filter((n) => n !== undefined).join(' or ');
      throw new ConfigError(`Missing ${names}: ${expected}`);
    },
  };
}
