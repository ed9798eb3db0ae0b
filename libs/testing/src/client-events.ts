import type { EnvelopeInput } from './fixtures';
import { newEventId } from './fixtures';

/**
 * Events in the shapes the fuel-code CLI's hooks send (written here from its observable
 * behaviour, not copied): every payload carries the device hints `_device_name` and
 * `_device_type`; the envelope has `ingested_at: null` and `blob_refs: []`; session hooks
 * name the session in the envelope, git and relationship hooks send `session_id: null`;
 * `session.end` always says `duration_ms: 0`; `cc_version` is "unknown" when the hook could
 * not ask; a hook whose input was not JSON sends `{_raw: "…"}` as the payload.
 */
export interface ClientDevice {
  id: string;
  name: string;
  type: 'local' | 'remote';
}

export interface ClientSessionOptions {
  sessionId: string;
  workspaceId: string;
  device: ClientDevice;
  /** When the session starts; every other event is placed after it by seconds. */
  startAt: Date;
  cwd?: string;
  branch?: string;
}

/** An envelope as the CLI's emit command builds it. */
export function clientEvent(
  type: string,
  o: { device: ClientDevice; workspaceId: string; sessionId: string | null; at: Date; data: Record<string, unknown> },
): EnvelopeInput & { ingested_at: null } {
  return {
    id: newEventId(),
    type,
    timestamp: o.at.toISOString(),
    device_id: o.device.id,
    workspace_id: o.workspaceId,
    session_id: o.sessionId,
    data: { ...o.data, _device_name: o.device.name, _device_type: o.device.type },
    ingested_at: null,
    blob_refs: [],
  };
}

/**
 * One whole session as the hooks report it, all 21 types among them, in the order they
 * happen: start, git activity inside the session, sub-agents, a team, a skill, a worktree,
 * a compaction, heartbeats, remote and system events, and the end. Ordered by time.
 */
export function clientSession(o: ClientSessionOptions): (EnvelopeInput & { ingested_at: null })[] {
  const s = o.sessionId;
  const at = (seconds: number) => new Date(o.startAt.getTime() + seconds * 1000);
  const base = { device: o.device, workspaceId: o.workspaceId };
  const inSession = (type: string, seconds: number, data: Record<string, unknown>) =>
    clientEvent(type, { ...base, sessionId: null, at: at(seconds), data: { session_id: s, ...data } });
  const git = (type: string, seconds: number, data: Record<string, unknown>) =>
    clientEvent(type, { ...base, sessionId: null, at: at(seconds), data: { is_worktree: false, worktree_name: null, ...data } });
  const branch = o.branch ?? 'main';
  return [
    clientEvent('session.start', {
      ...base, sessionId: s, at: at(0),
      data: { cc_session_id: s, cwd: o.cwd ?? '/home/dev/app', git_branch: branch, git_remote: 'git@github.com:acme/app.git', cc_version: 'unknown', model: 'claude-sonnet', source: 'startup', transcript_path: `/home/dev/.claude/${s}.jsonl` },
    }),
    git('git.checkout', 5, { from_ref: 'aaa', to_ref: 'bbb', from_branch: 'main', to_branch: branch }),
    git('git.commit', 10, { hash: `c-${s}`, message: 'feat: a thing', author_name: 'Dev', author_email: 'dev@example.com', branch, files_changed: 2, insertions: 10, deletions: 1, file_list: [{ path: 'a.ts', status: 'M' }, { path: 'b.ts', status: 'A' }] }),
    inSession('subagent.start', 12, { agent_id: `a-${s}`, agent_type: 'task', agent_name: 'researcher', model: 'claude-haiku', run_in_background: false }),
    inSession('team.create', 13, { team_name: `t-${s}`, description: 'a team' }),
    inSession('team.message', 14, { team_name: `t-${s}`, message_type: 'message', from: 'lead', to: 'researcher' }),
    inSession('team.message', 15, { team_name: `t-${s}`, message_type: 'message', from: 'researcher', to: 'lead' }),
    inSession('skill.invoke', 16, { skill_name: 'commit', args: '-m wip', invoked_by: 'user' }),
    inSession('worktree.create', 17, { worktree_name: `w-${s}`, branch: 'feature' }),
    inSession('subagent.stop', 20, { agent_id: `a-${s}`, agent_type: 'task', agent_transcript_path: `/home/dev/.claude/a-${s}.jsonl` }),
    inSession('worktree.remove', 21, { worktree_name: `w-${s}`, had_changes: true }),
    clientEvent('session.compact', { ...base, sessionId: s, at: at(22), data: { cc_session_id: s, compact_sequence: 1, transcript_path: `/home/dev/.claude/${s}.jsonl` } }),
    git('git.merge', 25, { merge_commit: `m-${s}`, message: 'Merge feature', merged_branch: 'feature', into_branch: branch, files_changed: 2, had_conflicts: false }),
    git('git.push', 26, { branch, remote: 'origin', commit_count: 2, commits: [`c-${s}`, `m-${s}`] }),
    clientEvent('system.heartbeat', { ...base, sessionId: null, at: at(27), data: { _raw: 'hook input was not JSON' } }),
    clientEvent('remote.provision.start', { ...base, sessionId: null, at: at(28), data: { remote_env_id: `r-${s}` } }),
    clientEvent('remote.provision.ready', { ...base, sessionId: null, at: at(29), data: { remote_env_id: `r-${s}`, ip: '127.0.0.1' } }),
    clientEvent('remote.provision.error', { ...base, sessionId: null, at: at(30), data: { remote_env_id: `r2-${s}`, error: 'quota' } }),
    clientEvent('remote.terminate', { ...base, sessionId: null, at: at(31), data: { remote_env_id: `r-${s}` } }),
    clientEvent('system.device.register', { ...base, sessionId: null, at: at(32), data: { os: 'linux', arch: 'x64' } }),
    clientEvent('system.hooks.installed', { ...base, sessionId: null, at: at(33), data: { hooks: ['SessionStart', 'SessionEnd'] } }),
    clientEvent('team.disband', { ...base, sessionId: null, at: at(34), data: { session_id: s, team_name: `t-${s}` } }),
    clientEvent('session.end', {
      ...base, sessionId: s, at: at(60),
      data: { cc_session_id: s, duration_ms: 0, end_reason: 'exit', transcript_path: `/home/dev/.claude/${s}.jsonl` },
    }),
  ];
}

/** A backfilled historical session: `source: "backfill"`, `cc_version: null`, start and end. */
export function clientBackfillSession(o: ClientSessionOptions & { durationMs: number }): (EnvelopeInput & { ingested_at: null })[] {
  const base = { device: o.device, workspaceId: o.workspaceId, sessionId: o.sessionId };
  return [
    clientEvent('session.start', {
      ...base, at: o.startAt,
      data: { cc_session_id: o.sessionId, cwd: o.cwd ?? '/home/dev/app', git_branch: null, git_remote: null, cc_version: null, model: null, source: 'backfill', transcript_path: '' },
    }),
    clientEvent('session.end', {
      ...base, at: new Date(o.startAt.getTime() + o.durationMs),
      data: { cc_session_id: o.sessionId, duration_ms: o.durationMs, end_reason: 'exit', transcript_path: '' },
    }),
  ];
}
