import { sendsAtOnce, type EventHandler, type HandlerItem } from '../registry';
import { insertSessionSkills, type SkillRow } from '../sql/skills';
import { upsertSubagents, type SubagentEventRow } from '../sql/subagents';
import { upsertTeams, type TeamEventRow } from '../sql/teams';
import { upsertSessionWorktrees, type WorktreeEventRow } from '../sql/worktrees';

/*
 * The seven relationship types (docs/contract.md §2). data.session_id is the Claude Code
 * session id, the same as sessions.id; no row waits for its session. Each handler turns
 * its items into one row per event and leaves choosing the earliest event of a key to
 * Postgres, which orders timestamps at the precision it stores them.
 */

type SubagentItem = HandlerItem<'subagent.start' | 'subagent.stop'>;
type TeamItem = HandlerItem<'team.create' | 'team.message'>;
type WorktreeItem = HandlerItem<'worktree.create' | 'worktree.remove'>;

export function subagentRows(items: readonly SubagentItem[]): SubagentEventRow[] {
  return items.map(({ event }) => {
    const d = event.data;
    const row: SubagentEventRow = {
      kind: 'start', sessionId: d.session_id, agentId: d.agent_id, eventId: event.id, timestamp: event.timestamp,
      agentType: d.agent_type, agentName: null, model: null, teamName: null, isolation: null, runInBackground: null,
      transcriptPath: null,
    };
    if (event.type === 'subagent.stop') {
      row.kind = 'stop';
      row.transcriptPath = event.data.agent_transcript_path ?? null;
    } else {
      const s = event.data;
      row.agentName = s.agent_name ?? null;
      row.model = s.model ?? null;
      row.teamName = s.team_name ?? null;
      row.isolation = s.isolation ?? null;
      row.runInBackground = s.run_in_background ?? null;
    }
    return row;
  });
}

/** Each create, and one row per team for its messages, counted: messages are most of them. */
export function teamRows(items: readonly TeamItem[]): TeamEventRow[] {
  const rows: TeamEventRow[] = [];
  const counts = new Map<string, { kind: 'messages'; sessionId: string; teamName: string; messages: number }>();
  for (const { event } of items) {
    const { session_id: sessionId, team_name: teamName } = event.data;
    if (event.type === 'team.create') {
      rows.push({ kind: 'create', sessionId, teamName, eventId: event.id, timestamp: event.timestamp, description: event.data.description ?? null });
      continue;
    }
    // No stored string holds U+0000 (Postgres refuses it), so it cannot be part of either name.
    const key = `${sessionId}\u0000${teamName}`;
    const counted = counts.get(key);
    if (counted) counted.messages += 1;
    else counts.set(key, { kind: 'messages', sessionId, teamName, messages: 1 });
  }
  return [...rows, ...counts.values()];
}

export function skillRows(items: readonly HandlerItem<'skill.invoke'>[]): SkillRow[] {
  return items.map(({ event }) => ({
    eventId: event.id,
    sessionId: event.data.session_id,
    skillName: event.data.skill_name,
    timestamp: event.timestamp,
    invokedBy: event.data.invoked_by ?? null,
    args: event.data.args ?? null,
  }));
}

/** The client sends '' when the hook named no worktree: that and an absent name are one key. */
export function worktreeKey(name: string | undefined): string | null {
  return name === undefined || name.trim() === '' ? null : name;
}

export function worktreeRows(items: readonly WorktreeItem[]): WorktreeEventRow[] {
  return items.map(({ event }) => {
    const row: WorktreeEventRow = {
      kind: 'create', sessionId: event.data.session_id, worktreeName: worktreeKey(event.data.worktree_name),
      eventId: event.id, timestamp: event.timestamp, branch: null, hadChanges: null,
    };
    if (event.type === 'worktree.create') row.branch = event.data.branch ?? null;
    else {
      row.kind = 'remove';
      row.hadChanges = event.data.had_changes ?? null;
    }
    return row;
  });
}

/** Registered for both types: a batch's starts and stops are upserted by one statement. */
export const handleSubagentEvents: EventHandler<'subagent.start' | 'subagent.stop'> = sendsAtOnce(({ sql, items }) =>
  upsertSubagents(sql, subagentRows(items)));

/** Registered for both types: a batch's creates and messages are upserted by one statement. */
export const handleTeamEvents: EventHandler<'team.create' | 'team.message'> = sendsAtOnce(({ sql, items }) => upsertTeams(sql, teamRows(items)));

export const handleSkillEvents: EventHandler<'skill.invoke'> = sendsAtOnce(({ sql, items }) => insertSessionSkills(sql, skillRows(items)));

/** Registered for both types: a batch's creates and removes are upserted by one statement. */
export const handleWorktreeEvents: EventHandler<'worktree.create' | 'worktree.remove'> = sendsAtOnce(({ sql, items }) =>
  upsertSessionWorktrees(sql, worktreeRows(items)));
