import { createServer } from 'node:net';
import {
  freePort,
  gitCommitEvent,
  waitFor,
  type SpawnedProcess,
} from '@fuel-code/testing';
import { countEvents, publishAll, spawnWorker, useWorkerProcessEnv } from './worker-process';

const ctx = useWorkerProcessEnv('operate_process', 'operate');

async function start(port: number, args: string[] = []): Promise<SpawnedProcess> {
  const worker = spawnWorker({ keys: ctx.keys, databaseUrl: ctx.db.url, args, env: { WORKER_HTTP_PORT: String(port) } });
  ctx.workers.push(worker);
  return worker;
}

async function status(url: string): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return res.status;
}

test('the built worker serves /healthz, /readyz and /metrics on WORKER_HTTP_PORT, and stops serving on SIGTERM', async () => {
  const port = await freePort();
  const worker = await start(port, ['--block-ms', '500']);
  await worker.waitForLine('Event consumer started', 20_000);
  expect(worker.lines.map((l) => String(l.msg))).toContain(`Worker HTTP server listening on port ${port} (/healthz, /readyz, /metrics)`);
  const base = `http://127.0.0.1:${port}`;
  expect(await status(`${base}/healthz`)).toBe(200);
  expect(await status(`${base}/readyz`)).toBe(200);

  await publishAll(ctx.redis, ctx.keys.stream, Array.from({ length: 5 }, () => gitCommitEvent(null)));
  await waitFor(async () => (await countEvents(ctx.db.sql)) >= 5, 10_000);
  const metrics = await waitFor(async () => {
    const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    return text.includes('fuel_code_events_processed_total{type="git.commit"} 5') ? text : undefined;
  }, 5000, { description: 'processed counter at 5' });
  expect(metrics).toContain(`fuel_code_stream_pending{stream="${ctx.keys.stream}",group="${ctx.keys.group}"} 0`);

  const exit = await worker.kill('SIGTERM');
  expect(exit.code).toBe(0);
  await expect(fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
});

test('retention: a booting worker trims what the group has acknowledged, and keeps what it has not', async () => {
  const first = await start(0);
  await first.waitForLine('Event consumer started', 20_000);
  await publishAll(ctx.redis, ctx.keys.stream, Array.from({ length: 8 }, () => gitCommitEvent(null)));
  await waitFor(async () => (await countEvents(ctx.db.sql)) >= 8, 10_000);
  expect((await first.kill('SIGTERM')).code).toBe(0);
  await publishAll(ctx.redis, ctx.keys.stream, Array.from({ length: 2 }, () => gitCommitEvent(null)));
  expect(await ctx.redis.xlen(ctx.keys.stream)).toBe(10);

  // Its first retention pass runs at once: the 8 acknowledged entries go, the 2 unread stay
  // until processed (and are trimmed by a later pass).
  const second = await start(0);
  const trimmed = await second.waitForLine(/^Trimmed \d+ processed entries/, 20_000);
  expect(trimmed['removed']).toBeGreaterThanOrEqual(8);
  const remaining = await ctx.redis.xlen(ctx.keys.stream);
  expect(remaining).toBeLessThanOrEqual(2);
  await waitFor(async () => (await countEvents(ctx.db.sql)) >= 10, 10_000);
});

test('a taken WORKER_HTTP_PORT is a clear error, not a silent worker without health checks', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const worker = await start(port);
    const exit = await worker.exited;
    expect(exit.code).toBe(1);
    expect(worker.stderr).toMatch(new RegExp(`cannot listen on HTTP port ${port}: address already in use`));
  } finally {
    blocker.close();
  }
});
