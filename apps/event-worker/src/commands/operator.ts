import type Redis from 'ioredis';
import pino from 'pino';
import type { Command } from 'commander';
import {
  createRedisConnection,
  listDeadLetters,
  purgeDeadLetterIds,
  REDIS_ROLES,
  purgeDeadLetters,
  replayDeadLetters,
  streamStatus,
  type ReplaySelection,
} from '@fuel-code/stream';
import type { Env, WorkerConfig } from '../config';
import { configOrExit, integerOption, SilentFailure, UsageExit } from '../usage';
import { deadLetterJson, formatDeadLetters, formatReplay, formatStatus, replayJson, statusJson } from './format';

/** A short-lived client for one operator command (REDIS_ROLES.cli: 30 s a command, 3 reconnects). */
async function withRedis<T>(config: WorkerConfig, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = createRedisConnection({
    url: config.redisUrl,
    // Silent: the command's own error says what went wrong, on stderr.
    logger: pino({ level: 'silent' }),
    ...REDIS_ROLES.cli,
  });
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

const print = (text: string): void => {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
};
const printJson = (value: unknown): void => print(JSON.stringify(value, null, 2));

const ID = /^\d+-\d+$/;

/** `status` and `dead-letters list|replay|purge`: Redis access in @fuel-code/stream, formatting in ./format. */
export function registerOperatorCommands(program: Command, env: Env, envHelp: string): void {
  program
    .command('status')
    .description('show the stream: length, each group with lag and pending, its consumers with idle time and pending, and the dead-letter count')
    .option('--json', 'print JSON instead of tables')
    .addHelpText('after', envHelp)
    .exitOverride()
    .action(async (opts: { json?: boolean }) => {
      const config = configOrExit({}, env);
      const { stream, deadLetterStream } = config.consumer;
      const status = await withRedis(config, (redis) => streamStatus(redis, { stream, deadLetterStream }));
      if (opts.json) printJson(statusJson(status));
      else print(formatStatus(status));
    });

  const deadLetters = program
    .command('dead-letters')
    .description('inspect, replay or purge the dead-letter stream (DEAD_LETTER_STREAM)')
    .addHelpText('after', envHelp)
    .exitOverride();

  deadLetters
    .command('list')
    .description('list dead letters, oldest first: id, original stream id, reason, error, attempts, failed_at and a payload preview')
    .option('--limit <n>', 'how many to show (default 20)')
    .option('--json', 'print JSON instead of a table')
    .addHelpText('after', envHelp)
    .exitOverride()
    .action(async (opts: { limit?: string; json?: boolean }) => {
      const limit = integerOption('--limit', opts.limit, 20, 1, 100_000);
      const config = configOrExit({}, env);
      const key = config.consumer.deadLetterStream;
      const [total, records] = await withRedis(config, (redis) => Promise.all([redis.xlen(key), listDeadLetters(redis, key, limit)]));
      if (opts.json) printJson({ dead_letter_stream: key, total, dead_letters: records.map(deadLetterJson) });
      else print(formatDeadLetters(key, total, records));
    });

  deadLetters
    .command('replay')
    .description(
      're-publish dead letters to the main stream (field `event`, original bytes), oldest first; each is deleted only after its publish succeeded',
    )
    .argument('[ids...]', 'dead-letter ids (the ID column of `dead-letters list`)')
    .option('--all', 'replay every dead letter present when the command starts')
    .option('--dry-run', 'show what would be replayed; change nothing')
    .option('--json', 'print JSON instead of text')
    .addHelpText('after', `\nExit code 1 when an id is not found or a publish failed.${envHelp}`)
    .exitOverride()
    .action(async (ids: string[], opts: { all?: boolean; dryRun?: boolean; json?: boolean }) => {
      if (opts.all && ids.length > 0) throw new UsageExit('Give either dead-letter ids or --all, not both');
      if (!opts.all && ids.length === 0) throw new UsageExit('Give the dead-letter ids to replay, or --all');
      const bad = ids.find((id) => !ID.test(id));
      if (bad !== undefined) throw new UsageExit(`Invalid dead-letter id "${bad}": expected <ms>-<seq>, as listed by \`dead-letters list\``);
      const config = configOrExit({}, env);
      const { stream, deadLetterStream } = config.consumer;
      const selection: ReplaySelection = opts.all ? { all: true } : { ids };
      const dryRun = opts.dryRun === true;
      const outcomes = await withRedis(config, (redis) => replayDeadLetters(redis, selection, { stream, deadLetterStream, dryRun }));
      if (opts.json) printJson(replayJson(outcomes, dryRun));
      else print(outcomes.length === 0 ? `No dead letters in ${deadLetterStream}.` : formatReplay(outcomes, stream, dryRun));
      if (outcomes.some((o) => o.status === 'failed' || o.status === 'not-found')) throw new SilentFailure();
    });

  deadLetters
    .command('purge')
    .description('delete every dead letter present now, or only the ids given (irreversible; needs --yes)')
    .argument('[ids...]', 'delete only these dead-letter ids (the ID column of `dead-letters list`)')
    .option('--yes', 'confirm the deletion')
    .addHelpText('after', envHelp)
    .exitOverride()
    .action(async (ids: string[], opts: { yes?: boolean }) => {
      const bad = ids.find((id) => !ID.test(id));
      if (bad !== undefined) throw new UsageExit(`Invalid dead-letter id "${bad}": expected <ms>-<seq>, as listed by \`dead-letters list\``);
      const config = configOrExit({}, env);
      const key = config.consumer.deadLetterStream;
      const plural = (n: number): string => `${n} dead letter${n === 1 ? '' : 's'}`;
      if (!opts.yes) {
        const count = ids.length > 0 ? ids.length : await withRedis(config, (redis) => redis.xlen(key));
        throw new UsageExit(`Refusing to purge ${plural(count)} from ${key} without --yes`);
      }
      // By ids: exactly those (the console's purge of a confirmed selection takes the same path).
      const removed = await withRedis(config, (redis) => (ids.length > 0 ? purgeDeadLetterIds(redis, key, ids) : purgeDeadLetters(redis, key)));
      print(`Purged ${plural(removed)} from ${key}.`);
    });
}
