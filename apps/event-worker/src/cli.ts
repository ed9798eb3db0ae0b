import { Command, CommanderError, Option } from 'commander';
import { redactUrl, redactUrlIn, toError } from '@fuel-code/core';
import { createRootLogger } from './clients';
import type { Env, WorkerFlags } from './config';
import { runMigrate } from './commands/migrate';
import { registerOperatorCommands } from './commands/operator';
import { registerConsoleCommand } from './console-command';
import { runWorker } from './run';
import { configOrExit, SilentFailure, UsageExit } from './usage';

const ENV_HELP = `
Environment:
  REDIS_URL           Redis to consume from (default redis://127.0.0.1:6379)
  DATABASE_URL        PostgreSQL to write to (default postgres://postgres@127.0.0.1:5432/postgres)
  EVENTS_STREAM       stream key (default events:incoming)
  CONSUMER_GROUP      consumer group (default event-processors)
  CONSUMER_NAME       this consumer's name (default <hostname>-<pid>)
  DEAD_LETTER_STREAM  dead-letter stream key (default events:dead-letter); must differ from EVENTS_STREAM
  MAX_ENTRY_BYTES     larger entries are dead-lettered as invalid, unread (default 1048576 = 1 MiB)
  MAX_BATCH_BYTES     a read stops at this many bytes of entries (default 4194304 = 4 MiB)
  CONSUMER_CLEANUP_IDLE_MS  remove group consumers idle this long with nothing pending, 0 = off (default 3600000 = 1 h)
  LOG_LEVEL           fatal|error|warn|info|debug|trace|silent (default info)
  WORKER_HTTP_PORT    health and metrics port, 0 turns it off (default 9464)
A flag beats its environment variable; a bad value exits with code 2.`;

export function buildProgram(env: Env): Command {
  const program = new Command('worker')
    .description(
      'fuel-code event worker: consumes the event stream into PostgreSQL.\n' +
        'HTTP on WORKER_HTTP_PORT while running: GET /healthz (loop making progress), /readyz (Redis and PostgreSQL answer), /metrics (Prometheus).',
    )
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) })
    .addHelpText('after', ENV_HELP);

  program
    .command('run', { isDefault: true })
    .description('apply pending migrations, then consume events until SIGTERM/SIGINT (the default command); serves /healthz, /readyz and /metrics; trims the stream every minute')
    .addOption(new Option('--consumer-name <name>', 'consumer name in the group (env CONSUMER_NAME; default <hostname>-<pid>)'))
    .addOption(new Option('--batch-size <n>', 'entries per XREADGROUP, processed as one transaction (default 500)'))
    .addOption(new Option('--in-flight-batches <n>', 'batches processed at once, each in its own transaction (default 4)'))
    .addOption(new Option('--block-ms <ms>', 'XREADGROUP BLOCK time (default 5000)'))
    .addOption(new Option('--claim-idle-ms <ms>', 'take over entries idle this long in other consumers (default 60000)'))
    .addOption(new Option('--max-attempts <n>', 'processing attempts before dead-lettering (default 3)'))
    .addOption(new Option('--stats-interval-ms <ms>', 'interval of the stats log line (default 60000)'))
    .addOption(new Option('--http-port <port>', 'health/metrics port, 0 = off (env WORKER_HTTP_PORT; default 9464)'))
    .addOption(
      new Option('--max-entry-bytes <n>', 'an entry larger than this is dead-lettered as invalid without being read (env MAX_ENTRY_BYTES; default 1048576)'),
    )
    .addOption(
      new Option('--max-batch-bytes <n>', 'a read stops once its entries reach this many bytes; at least --max-entry-bytes (env MAX_BATCH_BYTES; default 4194304)'),
    )
    .addOption(
      new Option(
        '--consumer-cleanup-idle-ms <ms>',
        'remove consumers of the group (never this one) idle this long with nothing pending; 0 = off; more than twice --block-ms (env CONSUMER_CLEANUP_IDLE_MS; default 3600000)',
      ),
    )
    .addHelpText('after', ENV_HELP)
    .exitOverride()
    .action(async (flags: WorkerFlags) => {
      const config = configOrExit(flags, env);
      const logger = createRootLogger(config);
      logger.info(
        { consumer: config.consumer, redisUrl: redactUrl(config.redisUrl), databaseUrl: redactUrl(config.databaseUrl) },
        'Starting event worker',
      );
      await runWorker(config, logger);
    });

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .addHelpText('after', ENV_HELP)
    .exitOverride()
    .action(async () => {
      const config = configOrExit({}, env);
      await runMigrate(config, createRootLogger(config));
    });

  registerOperatorCommands(program, env, ENV_HELP);
  registerConsoleCommand(program, env, ENV_HELP);

  return program;
}

/** Parse argv and run; resolves with the process exit code. */
export async function main(argv: readonly string[], env: Env): Promise<number> {
  try {
    await buildProgram(env).parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // `commander.help` with a non-zero exitCode is help shown for a missing subcommand: a usage error.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || (err.code === 'commander.help' && err.exitCode === 0) ? 0 : 2;
    }
    if (err instanceof SilentFailure) return 1;
    if (err instanceof UsageExit) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    // An error from a client library may echo a connection URL: never its password.
    let message = toError(err).message;
    for (const url of [env['DATABASE_URL'], env['REDIS_URL']]) if (url) message = redactUrlIn(message, url);
    process.stderr.write(`error: ${message}\n`);
    return 1;
  }
}
