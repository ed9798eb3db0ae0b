import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../src/args';
import type { DrainResult } from '../src/drain-scenario';
import { parseScalingArgs } from '../src/scaling-args';
import { scalingPreflight, skipReport, SKIPPED_EXIT_CODE } from '../src/scaling-main';
import { median, scalingGoals, scalingRows, withInFlight, type ScalingDrain } from '../src/scaling';

test('--in-flight-batches reaches the worker command line only when given', () => {
  const argv = ['/usr/bin/node', 'worker.js', 'run', '--batch-size', '500'];
  expect(withInFlight(argv, undefined)).toEqual(argv);
  expect(withInFlight(argv, 2)).toEqual([...argv, '--in-flight-batches', '2']);
});

describe('parseScalingArgs', () => {
  it('has the documented defaults', () => {
    expect(parseScalingArgs([])).toEqual({
      seed: 1,
      events: 20_000,
      warmUpEvents: 0,
      workers: [1, 2, 4],
      cpuQuota: 0.2,
      repeat: 1,
      batchSize: undefined,
      inFlightBatches: undefined,
      nodeOptions: undefined,
      cgroupRoot: undefined,
    });
  });

  it('takes every flag, as `--flag value` and `--flag=value`', () => {
    const o = parseScalingArgs(['--events', '5000', '--warm-up-events=800', '--workers=1,3', '--cpu-quota', '0.35', '--repeat=3', '--batch-size', '200', '--in-flight-batches', '2', '--seed', '7', '--node-options=', '--cgroup-root', '/x']);
    expect(o).toEqual({ seed: 7, events: 5000, warmUpEvents: 800, workers: [1, 3], cpuQuota: 0.35, repeat: 3, batchSize: 200, inFlightBatches: 2, nodeOptions: '', cgroupRoot: '/x' });
    expect(parseScalingArgs(['--events', '10', '--help'])).toBe('help');
  });

  it.each([
    [['--workers', '1,x'], /--workers: expected an integer from 1 to 64, got "x"/],
    [['--workers', '1,2,1'], /each count once/],
    [['--workers', '0'], /--workers/],
    [['--cpu-quota', '0'], /--cpu-quota: expected a number of CPUs from 0.01 to 64, got "0"/],
    [['--cpu-quota', 'abc'], /--cpu-quota/],
    [['--cpu-quota', '-1'], /--cpu-quota/],
    [['--events', '1e3'], /--events: expected an integer/],
    [['--repeat', '0'], /--repeat/],
    [['--warm-up-events', '-1'], /--warm-up-events: expected an integer from 0/],
    [['--batch-size', '20000'], /--batch-size/],
    [['--in-flight-batches', '9'], /--in-flight-batches: expected an integer from 1 to 8/],
    [['--cgroup-root', ''], /--cgroup-root/],
    [['--events'], /--events needs a value/],
    [['--quick'], /unknown argument for --scaling: --quick/],
  ])('refuses %j', (argv, reason) => {
    expect(() => parseScalingArgs(argv)).toThrow(UsageError);
    expect(() => parseScalingArgs(argv)).toThrow(reason);
  });
});

function fakeRun(workers: number, eventsPerSecond: number, consumerMs: number, throttled = 5): ScalingDrain {
  const drain = {
    label: `${workers}`,
    events: 1000,
    eventsPerSecond,
    busyBeforePct: 2,
    othersDuringPct: 1,
    cpu: { machineBusyPct: 60, coresBusy: 1.2, othersPct: 1, ms: { consumers: consumerMs, postgres: 300, redis: 50 } },
  } as unknown as DrainResult;
  return { workers, round: 1, drain, capCpus: 0.2, throttling: Array.from({ length: workers }, () => ({ periods: 10, throttled })) };
}

describe('scaling rows and goals', () => {
  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNull();
  });

  it('speedup and efficiency against the first count, CPU per 1,000 events, idle share, medians over rounds', () => {
    const rows = scalingRows([fakeRun(1, 1000, 20), fakeRun(2, 1900, 42), fakeRun(4, 3000, 30), fakeRun(4, 3600, 24), fakeRun(4, 3500, 26)], [1, 2, 4]);
    expect(rows.map((r) => [r.workers, r.runs, r.eventsPerSecond, r.speedup, r.efficiency])).toEqual([
      [1, 1, 1000, 1, 1],
      [2, 1, 1900, 1.9, 0.95],
      [4, 3, 3500, 3.5, 0.88],
    ]);
    expect(rows[2]?.eventsPerSecondRange).toEqual([3000, 3600]);
    expect(rows[2]?.cpuMsPer1k).toEqual({ consumers: 26, postgres: 300, redis: 50 });
    expect(rows[0]?.idlePct).toBe(40);
    expect(rows[0]?.throttledPct).toBe(50);
    const goals = scalingGoals(rows);
    expect(goals.map((g) => g.met)).toEqual([true, true, false]);
    expect(goals[2]?.value).toBe('26 vs 20 ms/1k (+30%)');
  });

  it('goals are "not run" when the counts they name were not run', () => {
    expect(scalingGoals(scalingRows([fakeRun(1, 1000, 20), fakeRun(3, 2500, 20)], [1, 3])).map((g) => g.met)).toEqual([null, null, null]);
  });
});

describe('the skip path', () => {
  it('preflight says why, and the report says SKIPPED and carries no figures', () => {
    const d = scalingPreflight({ cgroupRoot: '/nonexistent/fc-bench' });
    expect(d.ok).toBe(false);
    if (d.ok) return;
    const r = skipReport(d.reason);
    expect(r.text).toMatch(/^scaling run SKIPPED: no writable cgroup CPU controller/);
    expect(r.text).toContain('/nonexistent/fc-bench');
    expect(r.json).toEqual({ bench: 'fuel-code', version: 1, mode: 'scaling', scaling: { skipped: true, reason: d.reason } });
  });

  it('the built bench exits with the skip code and says so, without connecting anywhere', () => {
    const bench = path.join(__dirname, '..', 'dist', 'bench.js');
    if (!existsSync(bench)) throw new Error(`${bench} is missing: build the bench first (npx turbo run build --filter=@fuel-code/bench...)`);
    const r = spawnSync(process.execPath, [bench, '--scaling', '--cgroup-root', '/nonexistent/fc-bench'], {
      encoding: 'utf8',
      // Unreachable servers: the skip must come before any connection.
      env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
      timeout: 30_000,
    });
    expect(r.status).toBe(SKIPPED_EXIT_CODE);
    expect(r.stdout).toContain('scaling run SKIPPED');
    const json = /^BENCH_JSON (.*)$/m.exec(r.stdout)?.[1];
    expect(JSON.parse(json ?? 'null')).toMatchObject({ mode: 'scaling', scaling: { skipped: true } });
  });
});
