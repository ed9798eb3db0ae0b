import { seededRandom } from '@fuel-code/testing';
import { decidingDeviceRows, decidingLinkRows, decidingRows } from '../src/store-batch';

/*
 * decidingRows and decidingLinkRows drop sightings before they are sent; the upserts then
 * aggregate what is left. The aggregates must be the same as over every row, whatever the
 * offsets and sub-millisecond digits: a device's earliest and latest instant; a link's
 * latest instant and the path of its latest row with one (ties: the later row, as the
 * statement's ORDER BY ts DESC, seq DESC picks).
 */

interface Row {
  key: string;
  at: string;
  localPath: string | null;
}

const ms = (r: Row) => Date.parse(r.at);

/** An instant to the nanosecond, as Postgres would order it (it keeps microseconds). */
function instant(at: string): bigint {
  const fraction = /\.(\d+)/.exec(at)?.[1] ?? '';
  const wholeSeconds = Date.parse(at.replace(/\.\d+/, ''));
  return BigInt(wholeSeconds) * 1_000_000n + BigInt((fraction + '000000000').slice(0, 9));
}

function deviceAggregate(rows: readonly Row[]): Map<string, { first: bigint; last: bigint }> {
  const out = new Map<string, { first: bigint; last: bigint }>();
  for (const row of rows) {
    const t = instant(row.at);
    const a = out.get(row.key) ?? { first: t, last: t };
    if (t < a.first) a.first = t;
    if (t > a.last) a.last = t;
    out.set(row.key, a);
  }
  return out;
}

function linkAggregate(rows: readonly Row[]): Map<string, { last: bigint; path: string | null; pathAt: bigint | null }> {
  const out = new Map<string, { last: bigint; path: string | null; pathAt: bigint | null }>();
  for (const row of rows) {
    const t = instant(row.at);
    const a = out.get(row.key) ?? { last: t, path: null, pathAt: null };
    if (t > a.last) a.last = t;
    if (row.localPath !== null && (a.pathAt === null || t >= a.pathAt)) {
      a.path = row.localPath;
      a.pathAt = t;
    }
    out.set(row.key, a);
  }
  return out;
}

function randomRows(random: () => number, count: number): Row[] {
  const offsets = ['Z', '+00:00', '+05:30', '-08:00'];
  return Array.from({ length: count }, () => {
    // Few distinct seconds and milliseconds, so ties at the millisecond are common.
    const second = Math.floor(random() * 3);
    const milli = String(Math.floor(random() * 3)).padStart(3, '0');
    const micro = random() < 0.5 ? String(Math.floor(random() * 1000)).padStart(3, '0') : '';
    const offset = offsets[Math.floor(random() * offsets.length)] ?? 'Z';
    const hour = offset === '+05:30' ? '15:30' : offset === '-08:00' ? '02:00' : '10:00';
    return {
      key: `k${Math.floor(random() * 5)}`,
      at: `2026-11-27T${hour}:0${second}.${milli}${micro}${offset}`,
      localPath: random() < 0.3 ? `/p/${Math.floor(random() * 100)}` : null,
    };
  });
}

/** The kept rows are a subsequence of the input: order matters for ties. */
function expectSubsequence(kept: readonly Row[], rows: readonly Row[]): void {
  let at = 0;
  for (const row of kept) {
    const index = rows.indexOf(row, at);
    expect(index).toBeGreaterThanOrEqual(at);
    at = index + 1;
  }
}

test('the kept rows aggregate exactly like all rows, for devices and for links', () => {
  const random = seededRandom(11);
  let dropped = 0;
  for (let i = 0; i < 500; i++) {
    const rows = randomRows(random, 1 + Math.floor(random() * 60));
    const devices = decidingRows(rows, (r) => r.key, ms, true);
    expect(deviceAggregate(devices)).toEqual(deviceAggregate(rows));
    expectSubsequence(devices, rows);
    const links = decidingLinkRows(rows, (r) => r.key, ms);
    expect(linkAggregate(links)).toEqual(linkAggregate(rows));
    expectSubsequence(links, rows);
    dropped += 2 * rows.length - devices.length - links.length;
  }
  // It does drop rows (otherwise it saves nothing).
  expect(dropped).toBeGreaterThan(2000);
});

test('a time Date.parse cannot read is kept, and does not hide the others', () => {
  const rows: Row[] = [
    { key: 'a', at: 'not a time', localPath: null },
    { key: 'a', at: '2026-11-27T10:00:00Z', localPath: null },
    { key: 'a', at: '2026-11-27T10:00:01Z', localPath: null },
    { key: 'a', at: '2026-11-27T10:00:02Z', localPath: null },
  ];
  expect(decidingRows(rows, (r) => r.key, ms, true).map((r) => r.at)).toEqual(['not a time', '2026-11-27T10:00:00Z', '2026-11-27T10:00:02Z']);
  expect(decidingRows(rows, (r) => r.key, ms).map((r) => r.at)).toEqual(['not a time', '2026-11-27T10:00:02Z']);
});

test('device rows: the kept rows give the same first/last seen and the same latest name and type hint', () => {
  const random = seededRandom(23);
  type HintRow = Row & { eid: string; name: string | null; type: string | null };
  // The latest hint by instant, then by event id (the statement's ORDER BY ts DESC, eid DESC).
  const latestHint = (rows: readonly HintRow[], pick: (r: HintRow) => string | null) => {
    const out = new Map<string, { at: bigint; eid: string; value: string }>();
    for (const row of rows) {
      const value = pick(row);
      if (value === null) continue;
      const t = instant(row.at);
      const cur = out.get(row.key);
      if (!cur || t > cur.at || (t === cur.at && row.eid > cur.eid)) out.set(row.key, { at: t, eid: row.eid, value });
    }
    return out;
  };
  let dropped = 0;
  for (let i = 0; i < 300; i++) {
    const rows: HintRow[] = randomRows(random, 1 + Math.floor(random() * 60)).map((r, n) => ({
      ...r,
      eid: String(Math.floor(random() * 1000) * 100 + n).padStart(6, '0'),
      name: random() < 0.3 ? `n${Math.floor(random() * 9)}` : null,
      type: random() < 0.2 ? `t${Math.floor(random() * 9)}` : null,
    }));
    const kept = decidingDeviceRows(rows, (r) => r.key, ms);
    expect(deviceAggregate(kept)).toEqual(deviceAggregate(rows));
    expect(latestHint(kept, (r) => r.name)).toEqual(latestHint(rows, (r) => r.name));
    expect(latestHint(kept, (r) => r.type)).toEqual(latestHint(rows, (r) => r.type));
    expectSubsequence(kept, rows);
    dropped += rows.length - kept.length;
  }
  expect(dropped).toBeGreaterThan(1000);
});
