import { FixedWindowLimiter } from '../src/fixed-window';

function limiter(max: number, windowMs: number, maxBuckets?: number) {
  const clock = { now: 1_000_000 };
  const l = new FixedWindowLimiter({ max, windowMs, ...(maxBuckets === undefined ? {} : { maxBuckets }), now: () => clock.now });
  return { l, clock };
}

test('max requests per window pass; the next ones get the time left until the window ends', () => {
  const { l, clock } = limiter(3, 60_000);
  expect([l.hit('a'), l.hit('a'), l.hit('a')]).toEqual([0, 0, 0]);
  expect(l.hit('a')).toBe(60_000);
  clock.now += 59_000;
  expect(l.hit('a')).toBe(1_000);
  // Refused requests do not extend the window.
  clock.now += 999;
  expect(l.hit('a')).toBe(1);
});

test('the window starts at the bucket\'s first request and a new one starts when it has passed', () => {
  const { l, clock } = limiter(2, 1_000);
  expect(l.hit('a')).toBe(0);
  clock.now += 500;
  expect(l.hit('a')).toBe(0);
  expect(l.hit('a')).toBe(500);
  clock.now += 500; // exactly windowMs after the first request: a new window
  expect([l.hit('a'), l.hit('a')]).toEqual([0, 0]);
  expect(l.hit('a')).toBe(1_000);
});

test('buckets are counted apart', () => {
  const { l } = limiter(1, 60_000);
  expect(l.hit('key:x')).toBe(0);
  expect(l.hit('ip:10.0.0.1')).toBe(0);
  expect(l.hit('key:x')).toBeGreaterThan(0);
  expect(l.hit('ip:10.0.0.2')).toBe(0);
});

test('memory is bounded: past maxBuckets the bucket whose window ends first is dropped', () => {
  const { l, clock } = limiter(1, 60_000, 3);
  for (const b of ['a', 'b', 'c']) {
    expect(l.hit(b)).toBe(0);
    clock.now += 10;
  }
  // 'a' starts a new window: it moves behind 'b' and 'c'.
  clock.now += 60_000;
  expect(l.hit('a')).toBe(0);
  expect(l.hit('d')).toBe(0); // drops 'b', the oldest window
  expect(l.size).toBe(3);
  expect(l.hit('a')).toBeGreaterThan(0); // kept, still limited
  expect(l.hit('b')).toBe(0); // was dropped: a fresh window (and 'c' goes)
  expect(l.size).toBe(3);
  for (let i = 0; i < 100; i++) l.hit(`spray-${i}`);
  expect(l.size).toBe(3);
});
