import { monotonicFactory } from 'ulid';
import type { FuelEventInput } from '@fuel-code/core';
import { seededRandom } from '@fuel-code/testing';

/**
 * The benchmark's workload: Claude Code sessions as the fuel-code hooks report them, all 21
 * event types. Each session is a session.start, git activity (commits, and now and then a
 * checkout, a merge or a push), heartbeats, sub-agents, team messages, skills, a worktree, a
 * compaction, a remote or system event, and a session.end with `duration_ms: 0` (hooks never
 * know the duration). As the client sends them: the device hints ride in `data`, git and
 * relationship events have `session_id: null`. Many sessions are open at once, so their
 * events interleave in the stream, and they spread over 40 workspaces and 16 devices. Everything is derived from the seed: the same
 * seed gives the same events, ids included (ULIDs from a monotonic factory fed the event
 * time and a seeded PRNG), and a shorter backlog is a prefix of a longer one.
 */

export const WORKSPACE_COUNT = 40;
export const DEVICE_COUNT = 16;
/** Sessions open at the same time; their events interleave. */
const CONCURRENT_SESSIONS = 48;
/** 2025-01-01T00:00:00Z: the synthetic clock starts here and only moves forward. */
const EPOCH_MS = Date.UTC(2025, 0, 1);

export const workspaceName = (n: number) => `github.com/bench/ws-${n}`;
export const deviceName = (n: number) => `bench-device-${String(n).padStart(2, '0')}`;

const MODELS = ['claude-sonnet-4-5', 'claude-opus-4-1', 'claude-haiku-4-5', null] as const;
const BRANCHES = ['main', 'feature/batching', 'fix/latency', 'chore/deps', null] as const;
const MESSAGES = [
  'Batch the event inserts',
  'Fix off-by-one in the session window',
  'Add a heartbeat to the daemon',
  'Refactor the stream reader',
  'Document the dead-letter stream',
  'Bump dependencies',
  'Handle a lost Redis connection',
] as const;

type Step =
  | 'git.commit' | 'git.checkout' | 'git.merge' | 'git.push' | 'system.heartbeat' | 'session.compact'
  | 'subagent.start' | 'subagent.stop' | 'team.create' | 'team.message' | 'skill.invoke'
  | 'worktree.create' | 'worktree.remove' | 'remote' | 'system' | 'session.end';

const REMOTE_TYPES = ['remote.provision.start', 'remote.provision.ready', 'remote.provision.error', 'remote.terminate'] as const;
const SYSTEM_TYPES = ['system.device.register', 'system.hooks.installed'] as const;
const SKILLS = ['commit', 'review-pr', 'test', 'plan'] as const;

interface OpenSession {
  ccSessionId: string;
  workspace: string;
  device: string;
  cwd: string;
  branch: string | null;
  model: string | null;
  startedAtMs: number;
  /** What is left to emit, in order. */
  remaining: Step[];
  /** Commits emitted so far. */
  commits: number;
}

export class WorkloadGenerator {
  private readonly random: () => number;
  private readonly nextId: (seedTime?: number) => string;
  private readonly open: (OpenSession | undefined)[] = [];
  private clockMs = EPOCH_MS;
  private sessionsStarted = 0;
  /** Events made so far. */
  produced = 0;

  constructor(readonly seed: number) {
    this.random = seededRandom(seed);
    this.nextId = monotonicFactory(seededRandom(seed ^ 0x5eed));
    for (let i = 0; i < CONCURRENT_SESSIONS; i++) this.open.push(undefined);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  private int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  private hex(length: number): string {
    let s = '';
    while (s.length < length) s += Math.floor(this.random() * 0x100000000).toString(16).padStart(8, '0');
    return s.slice(0, length);
  }

  private uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** The steps of one session after its start, in order; pairs (start/stop, create/remove) stay in order. */
  private plan(): Step[] {
    const steps: Step[] = [];
    const chance = (p: number) => this.random() < p;
    if (chance(0.2)) steps.push('git.checkout');
    const commits = this.int(2, 6);
    for (let i = 0; i < commits; i++) steps.push('git.commit');
    // The heartbeats land somewhere among the commits.
    for (let i = this.int(1, 2); i > 0; i--) steps.splice(this.int(0, steps.length), 0, 'system.heartbeat');
    if (chance(0.4)) steps.push('subagent.start');
    if (chance(0.3)) steps.push('skill.invoke');
    if (chance(0.15)) {
      steps.push('team.create');
      for (let i = this.int(1, 3); i > 0; i--) steps.push('team.message');
    }
    if (chance(0.1)) steps.push('worktree.create');
    if (steps.includes('subagent.start')) steps.push('subagent.stop');
    if (steps.includes('worktree.create')) steps.push('worktree.remove');
    if (chance(0.3)) steps.push('session.compact');
    if (chance(0.1)) steps.push('git.merge');
    if (chance(0.4)) steps.push('git.push');
    if (chance(0.05)) steps.push('remote');
    if (chance(0.05)) steps.push('system');
    steps.push('session.end');
    return steps;
  }

  private openSession(): OpenSession {
    this.sessionsStarted++;
    const ws = this.int(0, WORKSPACE_COUNT - 1);
    const device = deviceName(this.int(0, DEVICE_COUNT - 1));
    return {
      ccSessionId: this.uuid(),
      workspace: workspaceName(ws),
      device,
      cwd: `/home/dev${device.slice(-2)}/src/ws-${ws}`,
      branch: this.pick(BRANCHES),
      model: this.pick(MODELS),
      startedAtMs: this.clockMs,
      remaining: this.plan(),
      commits: 0,
    };
  }

  /** The next event of the stream: a random open session moves one step. */
  next(): FuelEventInput {
    this.clockMs += this.int(1, 250);
    const slot = this.int(0, CONCURRENT_SESSIONS - 1);
    const session = this.open[slot];
    const at = this.clockMs;
    this.produced++;
    if (!session) {
      const s = this.openSession();
      this.open[slot] = s;
      return this.envelope(s, at, 'session.start', s.ccSessionId, {
        cc_session_id: s.ccSessionId,
        cwd: s.cwd,
        git_branch: s.branch,
        git_remote: `git@github.com:bench/${s.workspace.split('/').pop() ?? 'ws'}.git`,
        cc_version: '2.0.14',
        model: s.model,
        source: 'startup',
        transcript_path: `/home/dev/.claude/projects/${s.ccSessionId}.jsonl`,
      });
    }
    const step = session.remaining.shift() ?? 'session.end';
    if (step === 'session.end') this.open[slot] = undefined;
    return this.stepEvent(session, step, at);
  }

  /** An envelope as the client's emit command builds it: device hints in data. */
  private envelope(s: OpenSession, at: number, type: string, sessionId: string | null, data: Record<string, unknown>): FuelEventInput {
    return {
      id: this.nextId(at),
      type,
      timestamp: new Date(at).toISOString(),
      device_id: s.device,
      workspace_id: s.workspace,
      session_id: sessionId,
      data: { ...data, _device_name: `${s.device} laptop`, _device_type: 'local' },
      blob_refs: [],
    };
  }

  private stepEvent(s: OpenSession, step: Step, at: number): FuelEventInput {
    const cc = s.ccSessionId;
    const branch = s.branch ?? 'main';
    const rel = (type: string, data: Record<string, unknown>) => this.envelope(s, at, type, null, { session_id: cc, ...data });
    const gitEvent = (type: string, data: Record<string, unknown>) => this.envelope(s, at, type, null, { ...data, is_worktree: false, worktree_name: null });
    switch (step) {
      case 'git.commit':
        s.commits++;
        return gitEvent('git.commit', {
          hash: this.hex(40), message: this.pick(MESSAGES), author_name: 'Bench Author', author_email: 'bench@example.com',
          branch, files_changed: this.int(1, 12), insertions: this.int(0, 400), deletions: this.int(0, 200),
        });
      case 'git.checkout':
        return gitEvent('git.checkout', { from_ref: this.hex(40), to_ref: this.hex(40), from_branch: 'main', to_branch: branch });
      case 'git.merge':
        return gitEvent('git.merge', { merge_commit: this.hex(40), message: `Merge ${branch}`, merged_branch: branch, into_branch: 'main', files_changed: this.int(1, 20), had_conflicts: this.random() < 0.1 });
      case 'git.push':
        return gitEvent('git.push', { branch, remote: 'origin', commit_count: Math.max(1, s.commits) });
      case 'system.heartbeat':
        return this.envelope(s, at, 'system.heartbeat', null, { status: 'ok', uptime_s: Math.floor((at - EPOCH_MS) / 1000), queue_depth: this.int(0, 20) });
      case 'session.compact':
        return this.envelope(s, at, 'session.compact', cc, { cc_session_id: cc, compact_sequence: 1, transcript_path: `/home/dev/.claude/projects/${cc}.jsonl` });
      case 'subagent.start':
        return rel('subagent.start', { agent_id: `agent-${cc.slice(0, 8)}`, agent_type: 'task', agent_name: 'researcher', model: 'claude-haiku-4-5', run_in_background: false });
      case 'subagent.stop':
        return rel('subagent.stop', { agent_id: `agent-${cc.slice(0, 8)}`, agent_type: 'task', agent_transcript_path: `/home/dev/.claude/agents/${cc}.jsonl` });
      case 'team.create':
        return rel('team.create', { team_name: `team-${cc.slice(0, 8)}`, description: 'bench team' });
      case 'team.message':
        return rel('team.message', { team_name: `team-${cc.slice(0, 8)}`, message_type: 'message', from: 'lead', to: 'researcher' });
      case 'skill.invoke':
        return rel('skill.invoke', { skill_name: this.pick(SKILLS), invoked_by: 'user' });
      case 'worktree.create':
        return rel('worktree.create', { worktree_name: `wt-${cc.slice(0, 8)}`, branch });
      case 'worktree.remove':
        return rel('worktree.remove', { worktree_name: `wt-${cc.slice(0, 8)}`, had_changes: this.random() < 0.5 });
      case 'remote':
        return this.envelope(s, at, this.pick(REMOTE_TYPES), null, { remote_env_id: `env-${cc.slice(0, 8)}` });
      case 'system':
        return this.envelope(s, at, this.pick(SYSTEM_TYPES), null, { os: 'linux', arch: 'x64' });
      case 'session.end':
        return this.envelope(s, at, 'session.end', cc, {
          cc_session_id: cc, duration_ms: 0, end_reason: this.pick(['exit', 'exit', 'exit', 'clear', 'logout'] as const),
          transcript_path: `/home/dev/.claude/projects/${cc}.jsonl`,
        });
    }
  }
}

/** The first `count` events of the seed's stream, as the JSON each stream entry carries. */
export function generateBacklog(count: number, seed: number): string[] {
  const generator = new WorkloadGenerator(seed);
  const out: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) out[i] = JSON.stringify(generator.next());
  return out;
}

export interface WorkloadSummary {
  events: number;
  byType: Record<string, number>;
  sessions: number;
  /** Sessions whose start and end are both in the backlog. */
  completeSessions: number;
  workspaces: number;
  devices: number;
}

export function summarize(backlog: readonly string[]): WorkloadSummary {
  const byType: Record<string, number> = {};
  const sessions = new Map<string, number>();
  const workspaces = new Set<string>();
  const devices = new Set<string>();
  for (const json of backlog) {
    const e = JSON.parse(json) as { type: string; session_id: string | null; workspace_id: string; device_id: string };
    byType[e.type] = (byType[e.type] ?? 0) + 1;
    workspaces.add(e.workspace_id);
    devices.add(e.device_id);
    if (e.session_id && (e.type === 'session.start' || e.type === 'session.end')) {
      sessions.set(e.session_id, (sessions.get(e.session_id) ?? 0) + 1);
    }
  }
  return {
    events: backlog.length,
    byType,
    sessions: sessions.size,
    completeSessions: [...sessions.values()].filter((n) => n === 2).length,
    workspaces: workspaces.size,
    devices: devices.size,
  };
}
