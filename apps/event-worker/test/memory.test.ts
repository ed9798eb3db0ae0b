import { waitFor, type SpawnedProcess } from '@fuel-code/testing';
import { countEvents, groupPending, spawnWorker, useWorkerProcessEnv, WORKER_JS } from './worker-process';
import { digestDeadLetters, paddedEventJson, peakRssBytes, publishEach } from './rss-probe';

/*
 * The worker's peak RSS with big entries in the stream, read from the kernel's high-water
 * mark (VmHWM) once every entry is handled. WORKER_JS_UNDER_TEST points the same
 * measurement at another build (e.g. main's) to compare.
 */
const workerJs = process.env['WORKER_JS_UNDER_TEST'] ?? WORKER_JS;
const MB = 1024 * 1024;
const RSS_LIMIT = 200 * MB;
const LEGAL_RSS_LIMIT = 320 * MB;

const ctx = useWorkerProcessEnv('worker_memory', 'memory');

beforeEach(async () => {
  await ctx.db.sql`TRUNCATE events, sessions`;
});

function start(env: Record<string, string> = {}): SpawnedProcess {
  const worker = spawnWorker({ keys: ctx.keys, databaseUrl: ctx.db.url, env, ...(workerJs === WORKER_JS ? {} : { workerJs }) });
  ctx.workers.push(worker);
  return worker;
}

async function handled(expected: number): Promise<boolean> {
  const [stored, deadLetters, pending] = await Promise.all([
    countEvents(ctx.db.sql),
    ctx.redis.xlen(ctx.keys.deadLetter),
    groupPending(ctx.redis, ctx.keys).catch(() => -1),
  ]);
  return stored + deadLetters === expected && pending === 0;
}

function report(what: string, peak: number | undefined): void {
  console.log(`${what}: worker peak RSS (VmHWM) ${peak === undefined ? 'unknown' : (peak / MB).toFixed(1)} MB [${workerJs}]`);
}

test('20 entries of 10 MB between two small ones: each dead-lettered as invalid with its exact bytes, the small ones stored, peak RSS under 200 MB', async () => {
  const small = () => paddedEventJson(0, 300);
  const first = await publishEach(ctx.redis, ctx.keys.stream, [small()]);
  const big = await publishEach(ctx.redis, ctx.keys.stream, (function* () {
    for (let i = 0; i < 20; i++) yield paddedEventJson(i, 10 * MB);
  })());
  const last = await publishEach(ctx.redis, ctx.keys.stream, [small()]);

  const worker = start();
  const pid = worker.child.pid ?? 0;
  await waitFor(() => handled(22), 180_000, { description: 'all 22 entries stored or dead-lettered, none pending' });
  const peak = await peakRssBytes(pid);
  report('20 x 10 MB', peak);

  expect(await countEvents(ctx.db.sql)).toBe(2);
  const letters = await digestDeadLetters(ctx.redis, ctx.keys.deadLetter);
  expect(letters.map((l) => l.streamId)).toEqual(big.map((b) => b.id));
  letters.forEach((letter, i) => {
    expect(letter.reason).toBe('invalid');
    expect(letter.eventSha).toBe(big[i]?.sha);
    // The size counts the field name too, as Redis hands the entry over.
    expect(letter.error).toBe(`entry is ${'event'.length + (big[i]?.bytes ?? 0)} bytes, over the limit of 1048576 bytes per entry`);
  });
  expect(first.length + last.length).toBe(2);
  expect(peak).toBeLessThan(RSS_LIMIT);
}, 240_000);

/*
 * Legal but large entries are read a few at a time (MAX_BATCH_BYTES), but each is still
 * decoded, parsed and written as jsonb: the peak here is mostly that work, not the reads.
 * The bound is loose on purpose, a guard against reading them 500 at a time again.
 */
test('60 legal entries of 900 KB: all stored, peak RSS well under what reading 500 at a time took', async () => {
  await publishEach(ctx.redis, ctx.keys.stream, (function* () {
    for (let i = 0; i < 60; i++) yield paddedEventJson(i, 900 * 1024);
  })());
  const worker = start();
  const pid = worker.child.pid ?? 0;
  await waitFor(() => handled(60), 180_000, { description: 'all 60 entries stored, none pending' });
  const peak = await peakRssBytes(pid);
  report('60 x 900 KB', peak);
  expect(await countEvents(ctx.db.sql)).toBe(60);
  expect(await ctx.redis.xlen(ctx.keys.deadLetter)).toBe(0);
  expect(peak).toBeLessThan(LEGAL_RSS_LIMIT);
}, 240_000);
