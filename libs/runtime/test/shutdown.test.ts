import { captureLogs } from '@fuel-code/testing';
import { createShutdown, EXIT_CLEAN, EXIT_UNCLEAN, type ShutdownStep } from '@fuel-code/runtime';

function setup(steps: ShutdownStep[], deadlineMs = 5_000) {
  const exits: number[] = [];
  const logs = captureLogs('debug');
  const shutdown = createShutdown({ logger: logs.logger, steps, deadlineMs, exit: (code) => exits.push(code) });
  return { shutdown, exits, logs };
}

test('a clean run: every step in order, exit 0, and the start aborts the shutdown signal', async () => {
  const order: string[] = [];
  const { shutdown, exits, logs } = setup([
    { name: 'a', run: async () => void order.push('a') },
    { name: 'b', run: () => void order.push('b') },
  ]);
  expect(shutdown.signal.aborted).toBe(false);
  const outcome = shutdown.run('test');
  expect(shutdown.signal.aborted).toBe(true);
  expect(await outcome).toBe('clean');
  expect(order).toEqual(['a', 'b']);
  expect(exits).toEqual([EXIT_CLEAN]);
  expect(logs.lines.map((l) => l.msg)).toContain('Shut down cleanly');
});

test('a step that throws does not stop the others; the exit says it was not clean', async () => {
  const ran: string[] = [];
  const { shutdown, exits, logs } = setup([
    { name: 'sync-throw', run: () => { throw new Error('boom'); } },
    { name: 'rejects', run: () => Promise.reject(new Error('bang')) },
    { name: 'last', run: () => void ran.push('last') },
  ]);
  expect(await shutdown.run('test')).toBe('failed');
  expect(ran).toEqual(['last']);
  expect(exits).toEqual([EXIT_UNCLEAN]);
  const failed = logs.lines.filter((l) => String(l.msg).includes('failed'));
  expect(failed.map((l) => l['step'])).toEqual(expect.arrayContaining(['sync-throw', 'rejects']));
});

test('a step that hangs is cut at the deadline; the steps after it still run, handed the aborted signal', async () => {
  const seen: boolean[] = [];
  const { shutdown, exits, logs } = setup(
    [
      { name: 'hangs', run: (signal) => new Promise((resolve) => signal.addEventListener('abort', () => setTimeout(resolve, 60_000).unref())) },
      { name: 'after', run: (signal) => void seen.push(signal.aborted) },
    ],
    300,
  );
  const t0 = Date.now();
  expect(await shutdown.run('test')).toBe('timeout');
  expect(Date.now() - t0).toBeLessThan(5_000);
  expect(seen).toEqual([true]);
  expect(exits).toEqual([EXIT_UNCLEAN]);
  expect(logs.lines.some((l) => l['step'] === 'hangs' && String(l.msg).includes('did not finish within 300 ms'))).toBe(true);
});

test('idempotent: a second run() joins the first; a second signal exits 1 at once', async () => {
  let runs = 0;
  let release: () => void = () => undefined;
  let started: () => void = () => undefined;
  const running = new Promise<void>((resolve) => (started = resolve));
  const slow = () =>
    new Promise<void>((resolve) => {
      runs++;
      release = resolve;
      started();
    });
  const { shutdown, exits } = setup([{ name: 'slow', run: slow }]);
  const first = shutdown.run('one');
  const second = shutdown.run('two');
  expect(second).toBe(first);
  await running;
  shutdown.onSignal('SIGTERM');
  expect(exits).toEqual([EXIT_UNCLEAN]);
  release();
  expect(await first).toBe('clean');
  expect(runs).toBe(1);
});

test('the first signal starts the shutdown', async () => {
  const { shutdown, exits } = setup([]);
  shutdown.onSignal('SIGINT');
  expect(shutdown.signal.aborted).toBe(true);
  expect(await shutdown.run('joined')).toBe('clean');
  expect(exits).toEqual([EXIT_CLEAN]);
});
