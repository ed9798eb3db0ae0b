import { readFileSync } from 'node:fs';
import { ConfigError } from '@fuel-code/core';
import { CONSOLE_DEFAULTS, isLoopbackHost, parseWorkerUrls, type ConsoleConfig } from '@fuel-code/console';
import { boolean, configReader, integer, matching, type ConfigReader, type Env } from '@fuel-code/runtime';
import type { WorkerConfig } from './config';

/** `console` flags as commander hands them over. There is no --token: a flag shows in `ps`; --token-file does not. */
export interface ConsoleFlags {
  host?: string;
  port?: string;
  tokenFile?: string;
  workerUrls?: string;
  secureCookie?: boolean;
}

/** Long enough not to be guessed, short enough to paste. */
export const MIN_TOKEN_LENGTH = 16;

function token(read: ConfigReader, flags: ConsoleFlags, readFile: (path: string) => string): string | undefined {
  const file = read.source({ flag: ['--token-file', flags.tokenFile], env: 'CONSOLE_TOKEN_FILE' });
  let value: string | undefined;
  let name = 'CONSOLE_TOKEN';
  if (file) {
    try {
      value = readFile(file.value).trim();
    } catch {
      throw new ConfigError(`Invalid ${file.name}: expected a readable file holding the token, got "${file.value}"`);
    }
    name = file.name;
  } else {
    value = read.source({ env: 'CONSOLE_TOKEN' })?.value;
  }
  if (value !== undefined && (value.length < MIN_TOKEN_LENGTH || /\s/.test(value))) {
    // Never echo the value: it is a secret, even a bad one.
    throw new ConfigError(`Invalid ${name}: expected at least ${MIN_TOKEN_LENGTH} characters without spaces`);
  }
  return value;
}

const listenHost = matching(/^[\w.:[\]-]{1,255}$/, 'expected a host name or IP address to listen on');

/**
 * The console's config: flag > env > default, frozen. Stream, group, dead-letter stream and
 * the clients' URLs come from the worker's own config, so both always look at the same keys.
 * Off loopback without a token it refuses (ConfigError: exit 2).
 */
export function parseConsoleConfig(
  flags: ConsoleFlags,
  env: Env,
  worker: Pick<WorkerConfig, 'consumer'>,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): ConsoleConfig {
  const read = configReader(env);
  const host = read.value({ flag: ['--host', flags.host], env: 'CONSOLE_HOST' }, listenHost, CONSOLE_DEFAULTS.host);
  const consoleToken = token(read, flags, readFile);
  if (consoleToken === undefined && !isLoopbackHost(host)) {
    throw new ConfigError(
      `CONSOLE_TOKEN is required when the console listens beyond loopback (CONSOLE_HOST/--host is "${host}"): ` +
        `set CONSOLE_TOKEN or --token-file (at least ${MIN_TOKEN_LENGTH} characters), or listen on 127.0.0.1`,
    );
  }
  const urlsSource = read.source({ flag: ['--worker-urls', flags.workerUrls], env: 'CONSOLE_WORKER_URLS' });
  const urls = urlsSource ? parseWorkerUrls(urlsSource.value) : { urls: new Map<string, string>() };
  if ('error' in urls) throw new ConfigError(`Invalid ${urlsSource?.name ?? 'CONSOLE_WORKER_URLS'}: ${urls.error}`);
  return Object.freeze({
    host,
    port: read.value({ flag: ['--port', flags.port], env: 'CONSOLE_PORT' }, integer(1, 65_535), CONSOLE_DEFAULTS.port),
    token: consoleToken,
    stream: worker.consumer.stream,
    group: worker.consumer.group,
    deadLetterStream: worker.consumer.deadLetterStream,
    workerUrls: urls.urls,
    // A boolean flag is given or not; only the variable has text to parse.
    secureCookie: flags.secureCookie ?? read.value({ env: 'CONSOLE_SECURE_COOKIE' }, boolean(), false),
    sessionTtlMs: CONSOLE_DEFAULTS.sessionTtlMs,
    sampleIntervalMs: CONSOLE_DEFAULTS.sampleIntervalMs,
    deadConsumerIdleMs: CONSOLE_DEFAULTS.deadConsumerIdleMs,
  });
}
