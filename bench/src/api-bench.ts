import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadAvg } from './machine';
import { ApiUsageError, API_USAGE, parseApiArgs, type ApiBenchOptions } from './api-args';
import { bodyFactory, runLoad, type LoadResult } from './api-load';
import { renderApiReport, summarizeApi, type ApiWindow } from './api-report';
import { killAllTargetsNow, startTarget, type HttpTarget } from './api-targets';
import { addCleanup, openRedis, REDIS_URL, REPO_ROOT } from './infra';
import { busyWhileIdle } from './stats';
import { checkStream } from './api-stream-check';

/*
 * `npm run bench -- --api`: our ingest route beside a bare fastify route answering 202, in the
 * same run, alternating (bare, ours, bare, ours, …) so machine noise falls on both alike.
 */

export const API_JS = path.join(REPO_ROOT, 'apps', 'api', 'dist', 'main.js');
export const BARE_JS = path.join(__dirname, 'bare-ingest-server.js');

const progress = (line: string) => process.stderr.write(`${line}\n`);

async function measure(target: HttpTarget, kind: 'bare' | 'ours', round: number, o: ApiBenchOptions & { apiKey: string }): Promise<{ window: ApiWindow; warmup?: LoadResult }> {
  const nextBody = bodyFactory();
  const load = (seconds: number) => runLoad({ url: target.url, apiKey: o.apiKey, connections: o.connections, seconds, nextBody });
  const busyBeforePct = (await busyWhileIdle(500)) ?? null;
  const warmup = o.warmupSeconds > 0 ? await load(o.warmupSeconds) : undefined;
  target.newLogLines();
  const cpuBefore = target.cpuSeconds();
  const result = await load(o.durationSeconds);
  const cpuAfter = target.cpuSeconds();
  const logLines = target.newLogLines();
  const answered = result.ok2xx + result.non2xx;
  // The target's own CPU per answered request: far less sensitive to other load than req/s.
  const cpuUsPerRequest = cpuBefore !== undefined && cpuAfter !== undefined && answered > 0 ? Math.round(((cpuAfter - cpuBefore) * 1e6) / answered) : null;
  const cpuPct = cpuBefore !== undefined && cpuAfter !== undefined && result.seconds > 0 ? Math.round(((cpuAfter - cpuBefore) * 100) / result.seconds) : null;
  progress(
    `  round ${round}, ${kind}: ${result.requestsPerSecond.toLocaleString('en-US')} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ` +
      `non-2xx ${result.non2xx}, errors ${result.errors}, CPU ${cpuUsPerRequest ?? '?'} µs/req (busy before ${busyBeforePct ?? '?'} %)`,
  );
  return { window: { kind, round, busyBeforePct, logLines, cpuUsPerRequest, cpuPct, ...result }, ...(warmup ? { warmup } : {}) };
}

async function run(o: ApiBenchOptions): Promise<number> {
  for (const [what, file] of [['API', API_JS], ['bare route', BARE_JS]] as const) {
    if (!existsSync(file)) throw new Error(`${what} not built: ${file} is missing (npm run bench builds it)`);
  }
  const redis = openRedis();
  const runId = randomBytes(3).toString('hex');
  const stream = `fc-bench:${runId}:api:events`;
  const group = `fc-bench-${runId}-api`;
  const deleteKeys = async () => {
    await redis.del(stream).catch(() => undefined);
  };
  const removeCleanup = addCleanup(deleteKeys);
  const targets: HttpTarget[] = [];
  try {
    await redis.ping();
    // A group that reads nothing: the API's backlog guard reads a real (growing) lag, as in production.
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    const apiKey = randomBytes(16).toString('hex');
    const loadAvgAtStart = loadAvg();
    const apiEnv: NodeJS.ProcessEnv = {
      ...process.env,
      API_KEY: apiKey,
      REDIS_URL,
      EVENTS_STREAM: stream,
      CONSUMER_GROUP: group,
      // The limits as an operator sizing for a fleet would set them: the bench measures the
      // route, not the refusals. Everything else (the log level included) is the default.
      RATE_LIMIT_MAX: '1000000000',
      INGEST_MAX_BACKLOG: '1000000000',
    };
    delete apiEnv['LOG_LEVEL'];
    targets.push(await startTarget('bare', BARE_JS, { ...process.env }));
    targets.push(await startTarget('api', API_JS, apiEnv));
    const [bare, ours] = targets as [HttpTarget, HttpTarget];
    progress(`fuel-code bench --api (run ${runId}): ${o.connections} connections, ${o.warmupSeconds} s warm-up + ${o.durationSeconds} s per window, ${o.rounds} round(s)`);

    const windows: ApiWindow[] = [];
    let accepted = 0;
    for (let round = 1; round <= o.rounds; round++) {
      windows.push((await measure(bare, 'bare', round, { ...o, apiKey })).window);
      const m = await measure(ours, 'ours', round, { ...o, apiKey });
      windows.push(m.window);
      accepted += m.window.ok2xx + (m.warmup?.ok2xx ?? 0);
    }
    const stored = await checkStream(redis, stream);
    const summary = summarizeApi(windows, { accepted, stored, loadAvgAtStart, loadAvgAtEnd: loadAvg(), options: o });
    const { text, json } = renderApiReport(summary);
    process.stdout.write(`${text}\n\n`);
    process.stdout.write(`BENCH_JSON ${JSON.stringify({ api: json })}\n`);
    return 0;
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
    await deleteKeys();
    removeCleanup();
    redis.disconnect();
  }
}

/** The entry of `--api` (bench.ts passes the arguments without `--api`). */
export async function runApiBench(argv: readonly string[]): Promise<number> {
  process.on('exit', killAllTargetsNow);
  let options: ReturnType<typeof parseApiArgs>;
  try {
    options = parseApiArgs(argv);
  } catch (err) {
    if (!(err instanceof ApiUsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n\n${API_USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${API_USAGE}\n`);
    return 0;
  }
  return run(options);
}
