import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import type { Command } from 'commander';
import { Option } from 'commander';
import { ConfigError, redactUrl } from '@fuel-code/core';
import { startConsole, type ConsoleConfig } from '@fuel-code/console';
import { createSqlClient } from '@fuel-code/db';
import { createShutdown } from '@fuel-code/runtime';
import { closeRedisConnection, createRedisConnection, REDIS_ROLES } from '@fuel-code/stream';
import { createRootLogger } from './clients';
import type { Env, WorkerConfig } from './config';
import { parseConsoleConfig, type ConsoleFlags } from './console-config';
import { configOrExit, UsageExit } from './usage';

const CONSOLE_ENV_HELP = `
Console environment (besides REDIS_URL, DATABASE_URL, EVENTS_STREAM, CONSUMER_GROUP, DEAD_LETTER_STREAM, LOG_LEVEL):
  CONSOLE_HOST          interface to listen on (default 127.0.0.1)
  CONSOLE_PORT          port (default 9465)
  CONSOLE_TOKEN         login token, at least 16 characters; required unless CONSOLE_HOST is loopback
  CONSOLE_TOKEN_FILE    read the token from this file instead
  CONSOLE_WORKER_URLS   consumer=http://host:port pairs, comma-separated: whose /healthz to show
  CONSOLE_SECURE_COOKIE true when users reach the console over HTTPS (a TLS proxy): the cookie gets Secure
Without a token off loopback the console refuses to start (exit 2).`;

/** A page query that runs longer is cancelled: the console must never load the database the workers write to. */
const CONSOLE_STATEMENT_TIMEOUT_MS = 5_000;

function createConsoleClients(config: WorkerConfig, logger: Logger): { redis: Redis; sql: Sql } {
  const redis = createRedisConnection({ url: config.redisUrl, logger: logger.child({ component: 'redis' }), ...REDIS_ROLES.console });
  const sql = createSqlClient({ url: config.databaseUrl, max: 4, applicationName: 'fuel-code-console', statementTimeoutMs: CONSOLE_STATEMENT_TIMEOUT_MS });
  return { redis, sql };
}

/** `console`: serve the web console until SIGTERM/SIGINT. Reads Redis and PostgreSQL; never consumes the stream. */
async function runConsole(config: WorkerConfig, consoleConfig: ConsoleConfig, logger: Logger): Promise<void> {
  const { redis, sql } = createConsoleClients(config, logger);
  const running: { console?: { close(): Promise<void> } } = {};
  const shutdown = createShutdown({
    logger,
    exit: (code) => process.exit(code),
    cleanMessage: 'Console stopped',
    steps: [
      { name: 'console', run: () => running.console?.close() },
      { name: 'redis', run: () => closeRedisConnection(redis) },
      { name: 'postgres', run: () => sql.end({ timeout: 2 }) },
    ],
  });
  process.on('SIGTERM', shutdown.onSignal);
  process.on('SIGINT', shutdown.onSignal);
  try {
    running.console = await startConsole({ redis, sql, logger, config: consoleConfig });
  } catch (err) {
    await Promise.allSettled([closeRedisConnection(redis), sql.end({ timeout: 2 })]);
    throw err;
  }
  // Served until a signal: the action's promise never settles, so main() does not exit.
  await new Promise<never>(() => undefined);
}

export function registerConsoleCommand(program: Command, env: Env, envHelp: string): void {
  program
    .command('console')
    .description('serve the operator console (web pages: overview, consumers, dead letters, sessions) until SIGTERM/SIGINT; reads Redis and PostgreSQL, never consumes the stream')
    .addOption(new Option('--host <host>', 'interface to listen on (env CONSOLE_HOST; default 127.0.0.1)'))
    .addOption(new Option('--port <port>', 'port (env CONSOLE_PORT; default 9465)'))
    .addOption(new Option('--token-file <path>', 'read the login token from this file (env CONSOLE_TOKEN_FILE; or set CONSOLE_TOKEN)'))
    .addOption(new Option('--worker-urls <pairs>', 'consumer=http://host:port pairs for the /healthz column (env CONSOLE_WORKER_URLS)'))
    .addOption(new Option('--secure-cookie', 'mark the session cookie Secure, for a console behind HTTPS (env CONSOLE_SECURE_COOKIE)'))
    .addHelpText('after', `${CONSOLE_ENV_HELP}\n${envHelp}`)
    .exitOverride()
    .action(async (flags: ConsoleFlags) => {
      const config = configOrExit({}, env);
      let consoleConfig: ConsoleConfig;
      try {
        consoleConfig = parseConsoleConfig(flags, env, config);
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageExit(err.message);
        throw err;
      }
      const logger = createRootLogger(config).child({ command: 'console' });
      logger.info({ redisUrl: redactUrl(config.redisUrl), databaseUrl: redactUrl(config.databaseUrl) }, 'Starting the console');
      await runConsole(config, consoleConfig, logger);
    });
}
