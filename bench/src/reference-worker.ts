#!/usr/bin/env node
import Redis from 'ioredis';
import postgres from 'postgres';
import pino from 'pino';
import { createDefaultRegistry, parseEvent, processEvent } from '@fuel-code/core';

/*
 * The per-event reference loop, the yardstick of `npm run bench` (not the product):
 *   XREADGROUP COUNT 10 BLOCK …, then for each entry: JSON.parse + parseEvent, one
 *   transaction through the product's own statements for a batch of one (processEvent),
 *   then XACK of that one entry: what a one-job-per-event queue would do with this code.
 *   (It used to be the seed's single-row SQL; with the commuting rules of 21 types a second
 *   copy of every rule would measure a different program, so it runs the product's.)
 * Same environment as the worker (REDIS_URL, DATABASE_URL, EVENTS_STREAM, CONSUMER_GROUP,
 * CONSUMER_NAME) and the same stdout protocol: pino-style JSON lines, among them
 * `Event consumer started`. SIGTERM/SIGINT: finish the entry in hand, ack it, exit 0.
 * Invalid entries are logged and acknowledged; any other error ends the process (code 1).
 */

interface Options {
  batchSize: number;
  blockMs: number;
  consumerName: string;
}

function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  const options: Options = { batchSize: 10, blockMs: 1000, consumerName: env['CONSUMER_NAME'] ?? `reference-${process.pid}` };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    const need = () => {
      if (value === undefined) throw new Error(`${flag} needs a value`);
      i++;
      return value;
    };
    const int = (v: string) => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag}: expected a positive integer, got "${v}"`);
      return n;
    };
    if (flag === 'run') continue;
    else if (flag === '--batch-size') options.batchSize = int(need());
    else if (flag === '--block-ms') options.blockMs = int(need());
    else if (flag === '--consumer-name') options.consumerName = need();
    else throw new Error(`unknown argument ${flag}`);
  }
  return options;
}

function log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  const levels = { info: 30, warn: 40, error: 50 } as const;
  process.stdout.write(`${JSON.stringify({ level: levels[level], time: Date.now(), pid: process.pid, service: 'reference-loop', ...fields, msg })}\n`);
}

/** `[[stream, [[id, [field, value, …]], …]]]` → [id, event field][]. */
function entriesOf(reply: unknown): { id: string; event: string | undefined }[] {
  if (!Array.isArray(reply)) return [];
  const out: { id: string; event: string | undefined }[] = [];
  for (const streamReply of reply as unknown[]) {
    if (!Array.isArray(streamReply)) continue;
    const entries: unknown = streamReply[1];
    if (!Array.isArray(entries)) continue;
    for (const entry of entries as unknown[]) {
      if (!Array.isArray(entry)) continue;
      const [id, fields] = entry as [unknown, unknown];
      if (typeof id !== 'string') continue;
      let event: string | undefined;
      if (Array.isArray(fields)) {
        for (let i = 0; i + 1 < fields.length; i += 2) {
          if (fields[i] === 'event') {
            event = String(fields[i + 1]);
            break;
          }
        }
      }
      out.push({ id, event });
    }
  }
  return out;
}

async function main(): Promise<number> {
  const env = process.env;
  const options = parseArgs(process.argv.slice(2), env);
  const stream = env['EVENTS_STREAM'] ?? 'events:incoming';
  const group = env['CONSUMER_GROUP'] ?? 'event-processors';
  const redis = new Redis(env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1, connectionName: 'fuel-code-bench-reference' });
  const reader = redis.duplicate({ maxRetriesPerRequest: 0 });
  const sql = postgres(env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres', {
    max: 1,
    onnotice: () => undefined,
    connection: { application_name: 'fuel-code-bench-reference' },
  });
  const registry = createDefaultRegistry();
  const silent = pino({ level: 'silent' });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // A read in flight is abandoned: the loop sees `stopping` and ends.
    reader.disconnect();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  const counters = { processed: 0, duplicates: 0, invalid: 0 };
  try {
    try {
      await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err;
    }
    await sql`SELECT 1`;
    log('info', 'Event consumer started', { registeredHandlers: registry.listRegisteredTypes(), stream, group, consumer: options.consumerName });
    while (!stopping) {
      let reply: unknown;
      try {
        reply = await reader.call('XREADGROUP', 'GROUP', group, options.consumerName, 'COUNT', options.batchSize, 'BLOCK', options.blockMs, 'STREAMS', stream, '>');
      } catch (err) {
        if (stopping) break;
        throw err;
      }
      for (const { id, event: raw } of entriesOf(reply)) {
        let value: unknown;
        let parsed: ReturnType<typeof parseEvent> | undefined;
        try {
          value = raw === undefined ? undefined : JSON.parse(raw);
          parsed = raw === undefined ? undefined : parseEvent(value);
        } catch {
          parsed = undefined;
        }
        if (!parsed?.ok) {
          counters.invalid++;
          log('warn', `Invalid stream entry ${id} acknowledged without processing`, { streamId: id });
        } else {
          const outcome = await processEvent(sql, parsed.event, registry, silent);
          if (outcome.status === 'duplicate') counters.duplicates++;
          else counters.processed++;
        }
        await redis.xack(stream, group, id);
      }
    }
    log('info', 'Consumer stopped', counters);
    return 0;
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`reference loop failed: ${message}\n`);
    log('error', 'Reference loop crashed', { ...counters, error: err instanceof Error ? err.message : String(err) });
    return 1;
  } finally {
    reader.disconnect();
    await Promise.allSettled([redis.quit(), sql.end({ timeout: 2 })]);
  }
}

void main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`reference loop failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
