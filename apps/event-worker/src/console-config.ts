import { readFileSync } from 'node:fs';
import { ConfigError } from '@fuel-code/core';
import { CONSOLE_DEFAULTS, isLoopbackHost, parseWorkerUrls, type ConsoleConfig } from '@fuel-code/console';
import { integer, pick, type Env, type WorkerConfig } from './config';

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

function token(flags: ConsoleFlags, env: Env, readFile: (path: string) => string): string | undefined {
  const file = pick(['--token-file', flags.tokenFile], ['CONSOLE_TOKEN_FILE', env['CONSOLE_TOKEN_FILE']]);
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
    value = env['CONSOLE_TOKEN'] === '' ? undefined : env['CONSOLE_TOKEN'];
  }
  if (value !== undefined && (value.length < MIN_TOKEN_LENGTH || /\s/.test(value))) {
    // Never echo the value: it is a secret, even a bad one.
    throw new ConfigError(`Invalid ${name}: expected at least ${MIN_TOKEN_LENGTH} characters without spaces`);
  }
  return value;
}

function host(flags: ConsoleFlags, env: Env): string {
  const source = pick(['--host', flags.host], ['CONSOLE_HOST', env['CONSOLE_HOST']]);
  if (!source) return CONSOLE_DEFAULTS.host;
  if (!/^[\w.:[\]-]{1,255}$/.test(source.value)) {
    throw new ConfigError(`Invalid ${source.name}: expected a host name or IP address to listen on, got "${source.value}"`);
  }
  return source.value;
}

function booleanFlag(flag: boolean | undefined, envName: string, env: Env): boolean {
  if (flag !== undefined) return flag;
  const raw = env[envName];
  if (raw === undefined || raw === '') return false;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`Invalid ${envName}: expected true or false, got "${raw}"`);
}

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
  const listenHost = host(flags, env);
  const consoleToken = token(flags, env, readFile);
  if (consoleToken === undefined && !isLoopbackHost(listenHost)) {
    throw new ConfigError(
      `CONSOLE_TOKEN is required when the console listens beyond loopback (CONSOLE_HOST/--host is "${listenHost}"): ` +
        `set CONSOLE_TOKEN or --token-file (at least ${MIN_TOKEN_LENGTH} characters), or listen on 127.0.0.1`,
    );
  }
  const urlsSource = pick(['--worker-urls', flags.workerUrls], ['CONSOLE_WORKER_URLS', env['CONSOLE_WORKER_URLS']]);
  const urls = urlsSource ? parseWorkerUrls(urlsSource.value) : { urls: new Map<string, string>() };
  if ('error' in urls) throw new ConfigError(`Invalid ${urlsSource?.name ?? 'CONSOLE_WORKER_URLS'}: ${urls.error}`);
  return Object.freeze({
    host: listenHost,
    port: integer(pick(['--port', flags.port], ['CONSOLE_PORT', env['CONSOLE_PORT']]), CONSOLE_DEFAULTS.port, 1, 65_535),
    token: consoleToken,
    stream: worker.consumer.stream,
    group: worker.consumer.group,
    deadLetterStream: worker.consumer.deadLetterStream,
    workerUrls: urls.urls,
    secureCookie: booleanFlag(flags.secureCookie, 'CONSOLE_SECURE_COOKIE', env),
    sessionTtlMs: CONSOLE_DEFAULTS.sessionTtlMs,
    sampleIntervalMs: CONSOLE_DEFAULTS.sampleIntervalMs,
    deadConsumerIdleMs: CONSOLE_DEFAULTS.deadConsumerIdleMs,
  });
}
