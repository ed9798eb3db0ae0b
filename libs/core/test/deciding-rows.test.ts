import { seededRandom } from '@fuel-code/testing';
import { decidingRows } from '../src/store-batch';

/*
 * decidingRows drops sightings before they are sent; the upsert then aggregates what is
 * left. The aggregate (earliest and latest instant per key, last non-null path per key) must
 * be the same as over every row, whatever the offsets and sub-millisecond digits.
 */

interface Row {
  key: string;
  at: string;
  path: string | null;
}

/** An instant to the nanosecond, as Postgres would order it (it keeps microseconds). */
function instant(at: string): bigint {
  const fraction = /\.(\d+)/.exec(at)?.[1] ?? '';
  const wholeSeconds = Date.parse(at.replace(/\.\d+/, ''));
  return BigInt(wholeSeconds) * 1_000_000n + BigInt((fraction + '000000000').slice(0, 9));
}

function aggregate(rows: readonly Row[]): Map<string, { first: bigint; last: bigint; path: string | null }> {
  const out = new Map<string, { first: bigint; last: bigint; path: string | null }>();
  for (const row of rows) {
    const t = instant(row.at);
    const a = out.get(row.key) ?? { first: t, last: t, path: null };
    if (t < a.first) a.first = t;
    if (t > a.last) a.last = t;
    if (row.path !== null) a.path = row.path;
    out.set(row.key, a);
  }
  return out;
}

function randomRows(random: () => number, count: number): Row[] {
  const offsets = ['Z', '+00:00', '+05:30', '-08:00'];
  return Array.from({ length: count }, () => {
    // Few distinct seconds and milliseconds, so ties at the millisecond are common.
    const second = Math.floor(random() * 3);
    const ms = String(Math.floor(random() * 3)).padStart(3, '0');
    const micro = random() < 0.5 ? String(Math.floor(random() * 1000)).padStart(3, '0') : '';
    const offset = offsets[Math.floor(random() * offsets.length)] ?? 'Z';
    const hour = offset === '+05:30' ? '15:30' : offset === '-08:00' ? '02:00' : '10:00';
    return {
      key: `k${Math.floor(random() * 5)}`,
      at: `2026-11-27T${hour}:0${second}.${ms}${micro}${offset}`,
      path: random() < 0.3 ? `/p/${Math.floor(random() * 100)}` : null,
    };
  });
}

test('the kept rows aggregate exactly like all rows', () => {
  const random = seededRandom(11);
  let dropped = 0;
  for (let i = 0; i < 500; i++) {
    const rows = randomRows(random, 1 + Math.floor(random() * 60));
    const kept = decidingRows(rows, (r) => r.key, (r) => Date.parse(r.at), (r) => r.path !== null);
    expect(aggregate(kept)).toEqual(aggregate(rows));
    // Order is kept: the kept rows are a subsequence of the input.
    let at = 0;
    for (const row of kept) {
      const index = rows.indexOf(row, at);
      expect(index).toBeGreaterThanOrEqual(at);
      at = index + 1;
    }
    dropped += rows.length - kept.length;
  }
  // It does drop rows (otherwise it saves nothing).
  expect(dropped).toBeGreaterThan(1000);
});

test('a time Date.parse cannot read is kept, and does not hide the others', () => {
  const rows: Row[] = [
    { key: 'a', at: 'not a time', path: null },
    { key: 'a', at: '2026-11-27T10:00:00Z', path: null },
    { key: 'a', at: '2026-11-27T10:00:01Z', path: null },
    { key: 'a', at: '2026-11-27T10:00:02Z', path: null },
  ];
  expect(decidingRows(rows, (r) => r.key, (r) => Date.parse(r.at)).map((r) => r.at)).toEqual([
    'not a time',
    '2026-11-27T10:00:00Z',
    '2026-11-27T10:00:02Z',
  ]);
});
