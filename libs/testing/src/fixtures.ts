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
