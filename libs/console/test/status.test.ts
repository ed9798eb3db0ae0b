import { lagGrowingForMs, statusLine, type Sample } from '@fuel-code/console';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 10, 0);

function sample(minute: number, o: Partial<Sample> = {}): Sample {
  return { at: T0 + minute * MIN, redis: 'ok', database: 'writable', groupExists: true, lag: 0, pending: 0, oldestPendingAgeMs: undefined, deadLetters: 0, consumers: 2, liveConsumers: 2, ...o };
}

test('healthy when nothing is wrong', () => {
  expect(statusLine([sample(0), sample(1)])).toEqual({ level: 'ok', text: 'healthy' });
});

test('database refusing writes since the first read-only sample of the current run', () => {
  const h = [sample(0), sample(1, { database: 'read-only' }), sample(2, { database: 'writable' }), sample(42, { database: 'read-only' }), sample(43, { database: 'read-only', lag: 500 })];
  expect(statusLine(h)).toEqual({ level: 'critical', text: 'database refusing writes since 10:42 UTC' });
});

test('Redis and the database not answering come first', () => {
  expect(statusLine([sample(5, { redis: 'unreachable', database: 'read-only' })]).text).toBe('Redis not answering since 10:05 UTC');
  expect(statusLine([sample(7, { database: 'unreachable' })]).text).toBe('database not answering since 10:07 UTC');
});

test('falling behind: lag growing for 5 min; an oscillating lag is not', () => {
  const growing = [0, 0, 100, 300, 400, 700, 900, 1200].map((lag, m) => sample(m, { lag }));
  expect(lagGrowingForMs(growing)).toBe(6 * MIN);
  expect(statusLine(growing)).toEqual({ level: 'warning', text: 'falling behind: lag growing for 6 min' });
  const short = [0, 0, 0, 0, 100, 300].map((lag, m) => sample(m, { lag }));
  expect(statusLine(short).text).toBe('healthy');
  const oscillating = [1000, 1050, 980, 1100, 990, 1020, 1000, 1010].map((lag, m) => sample(m, { lag }));
  expect(lagGrowingForMs(oscillating)).toBeLessThan(5 * MIN);
});

test('no live consumer with work waiting; stuck pending; dead letters arriving', () => {
  expect(statusLine([sample(0, { lag: 10, liveConsumers: 0 })])).toEqual({ level: 'critical', text: 'no live consumer: 10 entries waiting' });
  expect(statusLine([sample(0, { liveConsumers: 0 })]).text).toBe('healthy');
  expect(statusLine([sample(0, { pending: 3, oldestPendingAgeMs: 7 * MIN })]).text).toBe('stuck: the oldest pending entry has waited 7 min');
  expect(statusLine([sample(0, { deadLetters: 4 }), sample(5, { deadLetters: 9 })]).text).toBe('dead letters arriving: 5 in the last 5 min');
  expect(statusLine([sample(0, { deadLetters: 4 }), sample(20, { deadLetters: 4 }), sample(30, { deadLetters: 4 })]).text).toBe('healthy');
  expect(statusLine([sample(0, { groupExists: false })]).level).toBe('warning');
  expect(statusLine([]).text).toBe('no reading yet');
});
