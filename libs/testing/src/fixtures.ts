import { monotonicFactory } from 'ulid';

/**
 * Envelopes as a producer sends them (docs/contract.md §1). Typed here, not imported from core,
 * so tests exercise the contract rather than the implementation's own types.
 */
export interface EnvelopeInput {
  id: string;
  type: string;
  timestamp: string;
  device_id: string;
  workspace_id: string;
  session_id: string | null;
  data: Record<string, unknown>;
  blob_refs?: { key: string; content_type: string; size_bytes: number }[];
}

const nextUlid = monotonicFactory();

export function newEventId(): string {
  return nextUlid();
}

export function makeEvent(type: string, overrides: Partial<EnvelopeInput> = {}): EnvelopeInput {
  return {
    id: newEventId(),
    type,
    timestamp: new Date().toISOString(),
    device_id: 'device-1',
    workspace_id: 'github.com/acme/app',
    session_id: null,
    data: {},
    ...overrides,
  };
}

export function sessionStartEvent(
  sessionId: string,
  overrides: Partial<EnvelopeInput> & { dataOverrides?: Record<string, unknown> } = {},
): EnvelopeInput {
  const { dataOverrides, ...rest } = overrides;
  return makeEvent('session.start', {
    session_id: sessionId,
    data: {
      cc_session_id: sessionId,
      cwd: '/home/dev/app',
      git_branch: 'main',
      git_remote: 'git@github.com:acme/app.git',
      cc_version: '1.0.0',
      model: 'claude-sonnet',
      source: 'startup',
      transcript_path: `/home/dev/.claude/${sessionId}.jsonl`,
      ...dataOverrides,
    },
    ...rest,
  });
}

export function sessionEndEvent(
  sessionId: string,
  overrides: Partial<EnvelopeInput> & { dataOverrides?: Record<string, unknown> } = {},
): EnvelopeInput {
  const { dataOverrides, ...rest } = overrides;
  return makeEvent('session.end', {
    session_id: sessionId,
    data: {
      cc_session_id: sessionId,
      duration_ms: 60_000,
      end_reason: 'exit',
      transcript_path: `/home/dev/.claude/${sessionId}.jsonl`,
      ...dataOverrides,
    },
    ...rest,
  });
}

export function gitCommitEvent(sessionId: string | null, overrides: Partial<EnvelopeInput> = {}): EnvelopeInput {
  return makeEvent('git.commit', {
    session_id: sessionId,
    data: { hash: 'abc123', message: 'fix: a thing', author_name: 'Dev', branch: 'main', files_changed: 3, insertions: 10, deletions: 2 },
    ...overrides,
  });
}

/** Envelope overrides plus fields to set or replace in `data`. */
export type FixtureOverrides = Partial<EnvelopeInput> & { dataOverrides?: Record<string, unknown> };

/**
 * A relationship event in the shape the fuel-code client's hooks send: the envelope's
 * session_id is null, the Claude Code session id rides in data.session_id, and fields the
 * hook had no value for are sent as ''.
 */
function hookEvent(type: string, data: Record<string, unknown>, overrides: FixtureOverrides): EnvelopeInput {
  const { dataOverrides, ...rest } = overrides;
  return makeEvent(type, { session_id: null, data: { ...data, ...dataOverrides }, ...rest });
}

export function subagentStartEvent(sessionId: string, agentId: string, overrides: FixtureOverrides = {}): EnvelopeInput {
  return hookEvent('subagent.start', { session_id: sessionId, agent_id: agentId, agent_type: 'general-purpose' }, overrides);
}

export function subagentStopEvent(sessionId: string, agentId: string, overrides: FixtureOverrides = {}): EnvelopeInput {
  return hookEvent(
    'subagent.stop',
    {
      session_id: sessionId,
      agent_id: agentId,
      agent_type: 'general-purpose',
      agent_transcript_path: `/home/dev/.claude/projects/app/${sessionId}/subagents/agent-${agentId}.jsonl`,
    },
    overrides,
  );
}

export function teamCreateEvent(sessionId: string, teamName: string, overrides: FixtureOverrides = {}): EnvelopeInput {
  return hookEvent('team.create', { session_id: sessionId, team_name: teamName, description: '' }, overrides);
}

export function teamMessageEvent(sessionId: string, teamName: string, overrides: FixtureOverrides = {}): EnvelopeInput {
  return hookEvent(
    'team.message',
    { session_id: sessionId, team_name: teamName, message_type: 'message', from: '', to: 'researcher' },
    overrides,
  );
}

export function skillInvokeEvent(sessionId: string, skillName: string, overrides: FixtureOverrides = {}): EnvelopeInput {
  return hookEvent('skill.invoke', { session_id: sessionId, skill_name: skillName, args: '' }, overrides);
}

/** `worktreeName` '' is what the client sends when the hook named none. */
export function worktreeCreateEvent(sessionId: string, worktreeName: string, overrides: FixtureOverrides = {}): EnvelopeInput {
  return hookEvent('worktree.create', { session_id: sessionId, worktree_name: worktreeName }, overrides);
}

export function worktreeRemoveEvent(sessionId: string, worktreeName: string, overrides: FixtureOverrides = {}): EnvelopeInput {
  return hookEvent('worktree.remove', { session_id: sessionId, worktree_name: worktreeName }, overrides);
}
