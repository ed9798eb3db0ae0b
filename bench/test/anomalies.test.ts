import type { DrainResult } from '../src/drain-scenario';
import { findAnomalies } from '../src/summary';

/** A drain as findAnomalies reads it: with a warm-up, `events` (measured) is less than `backlog`. */
function drain(label: string, backlog: number, measured: number, digest: string, stored = backlog): DrainResult {
  return {
    label,
    backlog,
    events: measured,
    checks: { events: stored, deadLetters: 0, handlerFailures: 0, digest: { events: digest } },
    processReports: [],
  } as unknown as DrainResult;
}

test('drains of one backlog are compared whatever their warm-ups acked, and must store the whole backlog', () => {
  expect(findAnomalies([drain('N=1', 120_000, 80_000, 'a'), drain('N=4', 120_000, 79_500, 'a')], [])).toEqual([]);
  expect(findAnomalies([drain('N=1', 120_000, 80_000, 'a'), drain('N=4', 120_000, 79_500, 'b')], [])).toEqual([
    'events differ between "N=1" and "N=4" (same backlog)',
  ]);
  expect(findAnomalies([drain('N=2', 120_000, 80_000, 'a', 119_999)], [])).toEqual(['N=2: 119999 rows in events, expected 120000']);
});
