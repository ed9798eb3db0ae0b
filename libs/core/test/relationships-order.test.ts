import {
  captureLogs,
  seededRandom,
  sessionStartEvent,
  skillInvokeEvent,
  subagentStartEvent,
  subagentStopEvent,
  teamCreateEvent,
  teamMessageEvent,
  worktreeCreateEvent,
  worktreeRemoveEvent,
  type EnvelopeInput,
} from '@fuel-code/testing';
import type { FuelEvent } from '@fuel-code/core';
import { parsed } from './helpers';
import { tablesAfter } from './relationship-helpers';

const logs = captureLogs('warn');

/**
 * Several sessions' relationship events with few distinct timestamps (so many ties, broken by
 * event id) and sub-millisecond digits: several starts and stops per agent, creates and
 * messages per team, named, '' and unnamed worktrees, and each session's start somewhere.
 */
function workload(random: () => number, sessions: number): FuelEvent[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const stamp = () => `2026-11-29T10:0${pick([0, 1, 2])}:00.00${pick([0, 1])}${pick([0, 5])}${pick(['Z', '+00:00'])}`;
  const times = (n: number) => Array.from({ length: n }, () => ({ timestamp: stamp() }));
  const events: EnvelopeInput[] = [];
  for (let s = 0; s < sessions; s++) {
    const sid = `order-s${s}`;
    events.push(sessionStartEvent(sid, { timestamp: stamp() }));
    for (const agent of ['a', 'b', 'c']) {
      for (const t of times(Math.floor(random() * 3))) {
        events.push(subagentStartEvent(sid, agent, { ...t, dataOverrides: { agent_type: pick(['Explore', 'Plan']), model: pick(['haiku', 'opus']), run_in_background: pick([true, false, undefined]) } }));
      }
      for (const t of times(Math.floor(random() * 3))) {
        events.push(subagentStopEvent(sid, agent, { ...t, dataOverrides: { agent_type: pick(['Explore', 'stop-type']), agent_transcript_path: pick(['', 'p1', 'p2']) } }));
      }
    }
    for (const team of ['red', 'blue']) {
      for (const t of times(Math.floor(random() * 3))) events.push(teamCreateEvent(sid, team, { ...t, dataOverrides: { description: pick(['', 'one', 'two']) } }));
      for (const t of times(Math.floor(random() * 6))) events.push(teamMessageEvent(sid, team, t));
    }
    for (const t of times(Math.floor(random() * 4))) events.push(skillInvokeEvent(sid, pick(['commit', 'review-pr']), t));
    for (const name of ['wt', '', undefined]) {
      const named = name === undefined ? { worktree_name: undefined } : {};
      for (const t of times(Math.floor(random() * 3))) events.push(worktreeCreateEvent(sid, name ?? '', { ...t, dataOverrides: { ...named, branch: pick(['x', 'y', undefined]) } }));
      for (const t of times(Math.floor(random() * 3))) events.push(worktreeRemoveEvent(sid, name ?? '', { ...t, dataOverrides: { ...named, had_changes: pick([true, false, undefined]) } }));
    }
  }
  return events.map(parsed);
}

function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Consecutive batches of 1 to 40 events. */
function split<T>(xs: readonly T[], random: () => number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < xs.length; ) {
    const size = 1 + Math.floor(random() * 40);
    batches.push(xs.slice(i, i + size));
    i += size;
  }
  return batches;
}

test.each([11, 29, 1297])('seed %i: random orders and batch splits over one to three workers, with redeliveries, give the same tables', async (seed) => {
  const random = seededRandom(seed);
  const events = workload(random, 6);
  const reference = await tablesAfter([events], logs.logger);

  // The rules' outcomes, counted from the events themselves, so the reference is not empty or wrong.
  const count = (type: string) => events.filter((e) => e.type === type).length;
  const keys = (types: string[], key: (d: Record<string, unknown>) => string) =>
    new Set(events.filter((e) => types.includes(e.type)).map((e) => key(e.data as Record<string, unknown>))).size;
  const { tables } = reference;
  expect(tables.skills).toHaveLength(count('skill.invoke'));
  expect(tables.teams.reduce((n, r) => n + Number(r['message_count']), 0)).toBe(count('team.message'));
  expect(tables.teams).toHaveLength(keys(['team.create', 'team.message'], (d) => `${String(d['session_id'])}/${String(d['team_name'])}`));
  expect(tables.subagents).toHaveLength(keys(['subagent.start', 'subagent.stop'], (d) => `${String(d['session_id'])}/${String(d['agent_id'])}`));
  expect(tables.worktrees).toHaveLength(keys(['worktree.create', 'worktree.remove'], (d) => `${String(d['session_id'])}/${String(d['worktree_name'] || '')}`));
  expect(tables.subagents.filter((r) => r['status'] === 'completed').length).toBe(
    keys(['subagent.stop'], (d) => `${String(d['session_id'])}/${String(d['agent_id'])}`),
  );

  for (const workers of [1, 2, 3]) {
    const batches = split(shuffled(events, random), random);
    // Redelivered afterwards, once all workers are done: a duplicate must change nothing.
    const redelivered = shuffled(events, random).slice(0, 30);
    const run = await tablesAfter(batches, logs.logger, workers);
    const again = await tablesAfter(batches, logs.logger, workers, redelivered);
    expect(run.tables).toEqual(reference.tables);
    expect(again.tables).toEqual(reference.tables);
    expect(again.results.filter((r) => r.status === 'duplicate')).toHaveLength(redelivered.length);
  }
});
