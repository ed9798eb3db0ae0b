import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import { makeEvent, type EnvelopeInput } from '@fuel-code/testing';
import { createDefaultRegistry, processBatch } from '@fuel-code/core';
import { parsed } from './helpers';

/*
 * Issue 12 §2: the tables are a function of the set of events. A scenario makes its events
 * under a prefix (so each arrangement writes rows of its own); each arrangement delivers
 * them in another order and batch split, and the test expects the same rows from all.
 */

export type Scenario = (prefix: string) => EnvelopeInput[];

export interface Arrangement {
  name: string;
  batches: (events: readonly EnvelopeInput[]) => EnvelopeInput[][];
}

const reversed = <T>(items: readonly T[]): T[] => [...items].reverse();

export const ARRANGEMENTS: readonly Arrangement[] = [
  { name: 'one batch, in order', batches: (events) => [[...events]] },
  { name: 'one batch, reversed', batches: (events) => [reversed(events)] },
  { name: 'one by one, in order', batches: (events) => events.map((e) => [e]) },
  { name: 'one by one, reversed', batches: (events) => reversed(events).map((e) => [e]) },
];

/** Runs the scenario in every arrangement; returns what `read` saw after each, by name. */
export async function inEveryArrangement<T>(
  sql: Sql,
  logger: Logger,
  scenario: Scenario,
  read: (prefix: string) => Promise<T>,
): Promise<Record<string, T>> {
  const registry = createDefaultRegistry();
  const out: Record<string, T> = {};
  for (const [index, arrangement] of ARRANGEMENTS.entries()) {
    const prefix = `a${index}-${Math.random().toString(36).slice(2, 8)}`;
    for (const batch of arrangement.batches(scenario(prefix))) {
      await processBatch(sql, batch.map(parsed), registry, logger);
    }
    out[arrangement.name] = await read(prefix);
  }
  return out;
}

/** The same value under every arrangement's name: what `toEqual` compares the runs with. */
export function everywhere<T>(value: T): Record<string, T> {
  return Object.fromEntries(ARRANGEMENTS.map((a) => [a.name, value]));
}

export function sessionCompactEvent(sessionId: string, sequence: number, overrides: Partial<EnvelopeInput> = {}): EnvelopeInput {
  return makeEvent('session.compact', {
    data: { cc_session_id: sessionId, compact_sequence: sequence, transcript_path: `/t/${sessionId}.jsonl` },
    ...overrides,
  });
}

/** A git.commit as the client's post-commit hook sends it (no session id in the envelope). */
export function gitCommit(overrides: Partial<EnvelopeInput> & { dataOverrides?: Record<string, unknown> } = {}): EnvelopeInput {
  const { dataOverrides, ...rest } = overrides;
  return makeEvent('git.commit', {
    data: {
      hash: 'a1b2c3d4e5f6', message: 'fix: a thing', author_name: 'Dev', author_email: 'dev@example.com', branch: 'main',
      files_changed: 3, insertions: 10, deletions: 2, file_list: [{ path: 'a.ts', status: 'M' }],
      is_worktree: false, worktree_name: null, ...dataOverrides,
    },
    ...rest,
  });
}
