import type { FastifyInstance } from 'fastify';
import { consumersPage, type ConsumerView } from '../html/consumers-page';
import { overviewPage } from '../html/overview-page';
import { eventsPerMinute } from '../read/database';
import { readDeadLettersPerHour } from '../read/dead-letter-stats';
import { readConsumers, readStreamState } from '../read/stream-state';
import { isDeadConsumer } from '../sampler';
import { statusLine } from '../status';
import { fetchHealth } from '../worker-health';
import { chrome, sendPage, settle, type ConsoleContext } from './context';

/** Dead letters per hour covers a day; the count inside Redis reads at most this many entries. */
const DEAD_LETTER_HOURS = 24;
const DEAD_LETTER_MAX_SCAN = 20_000;
const HEALTH_TIMEOUT_MS = 1_000;

export function registerOverviewRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const log = ctx.logger;

  app.get('/', async (request, reply) => {
    const [sample, state, consumers, perMinute, deadPerHour] = await Promise.all([
      ctx.sampler.sampleNow(),
      settle(log, 'stream state', () => readStreamState(ctx.redis, ctx.target)),
      settle(log, 'consumers', () => readConsumers(ctx.redis, ctx.target)),
      settle(log, 'events per minute', () => eventsPerMinute(ctx.sql, 60)),
      settle(log, 'dead letters per hour', () =>
        readDeadLettersPerHour(ctx.redis, ctx.target.deadLetterStream, { hours: DEAD_LETTER_HOURS, maxScan: DEAD_LETTER_MAX_SCAN }),
      ),
    ]);
    const history = ctx.sampler.history();
    const status = statusLine(history[history.length - 1] === sample ? history : [...history, sample]);
    const liveConsumers = (consumers ?? []).filter((c) => !isDeadConsumer(c, ctx.config.deadConsumerIdleMs)).length;
    return sendPage(reply, overviewPage({ target: ctx.target, state, liveConsumers, status, perMinute, deadPerHour }, chrome(request, 'overview')));
  });

  app.get('/consumers', async (request, reply) => {
    const rows = await settle(log, 'consumers', () => readConsumers(ctx.redis, ctx.target));
    const consumers = rows
      ? await Promise.all(
          rows.map(
            async (c): Promise<ConsumerView> => ({
              ...c,
              dead: isDeadConsumer(c, ctx.config.deadConsumerIdleMs),
              health: await fetchHealth(ctx.config.workerUrls.get(c.name), HEALTH_TIMEOUT_MS),
            }),
          ),
        )
      : undefined;
    return sendPage(
      reply,
      consumersPage(
        { group: ctx.target.group, stream: ctx.target.stream, consumers, deadConsumerIdleMs: ctx.config.deadConsumerIdleMs },
        chrome(request, 'consumers'),
      ),
    );
  });
}
