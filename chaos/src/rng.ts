import { monotonicFactory } from 'ulid';
import { seededRandom } from '@fuel-code/testing';

/** The workload's seeded randomness: every choice, and every event id, follows from the seed. */
export interface Rng {
  random: () => number;
  int: (min: number, max: number) => number;
  pick: <T>(xs: readonly T[]) => T;
  chance: (p: number) => boolean;
  /** A ULID made at `ms`, monotonic within the run: the same ids for the same seed. */
  nextId: (ms: number) => string;
  /** `length` lowercase hex digits (a commit sha). */
  hex: (length: number) => string;
}

export function makeRng(seed: number): Rng {
  const random = seededRandom(seed);
  const ids = monotonicFactory(seededRandom(seed ^ 0x5eed));
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  return {
    random,
    int,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T,
    chance: (p: number) => random() < p,
    nextId: (ms: number) => ids(ms),
    hex: (length: number) => Array.from({ length }, () => Math.floor(random() * 16).toString(16)).join(''),
  };
}

/** ISO-8601 of `ms`, in UTC (`Z`) or at a +02:00 / -05:30 offset: the same instant. */
export function iso(ms: number, offsetMinutes: number): string {
  if (offsetMinutes === 0) return new Date(ms).toISOString();
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, -1);
  const sign = offsetMinutes > 0 ? '+' : '-';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
