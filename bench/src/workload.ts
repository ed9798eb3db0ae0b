import { monotonicFactory } from 'ulid';
import type { FuelEventInput } from '@fuel-code/core';
import { seededRandom } from '@fuel-code/testing';

/**
 * The benchmark's workload: Claude Code sessions as the hooks report them. Each session is a
 * session.start, a few git.commit, one system.heartbeat and a session.end, all carrying the
 * session id. Many sessions are open at once, so their events interleave in the stream, and
 * they spread over 40 workspaces and 16 devices. Everything is derived from the seed: the same
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

interface OpenSession {
  ccSessionId: string;
  workspace: string;
  device: string;
  cwd: string;
  branch: string | null;
  model: string | null;
  startedAtMs: number;
  /** What is left to emit, in order. */
  remaining: ('git.commit' | 'system.heartbeat' | 'session.end')[];
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

  private openSession(): OpenSession {
    this.sessionsStarted++;
    const ws = this.int(0, WORKSPACE_COUNT - 1);
    const device = deviceName(this.int(0, DEVICE_COUNT - 1));
    const remaining: OpenSession['remaining'] = [];
    const commits = this.int(2, 6);
    for (let i = 0; i < commits; i++) remaining.push('git.commit');
    // The heartbeat lands somewhere among the commits.
    remaining.splice(this.int(0, commits), 0, 'system.heartbeat');
    remaining.push('session.end');
    return {
      ccSessionId: this.uuid(),
      workspace: workspaceName(ws),
      device,
      cwd: `/home/dev${device.slice(-2)}/src/ws-${ws}`,
      branch: this.pick(BRANCHES),
      model: this.pick(MODELS),
      startedAtMs: this.clockMs,
      remaining,
      commits: 0,
    };
  }

  /** The next event of the stream: a random open session moves one step. */
  next(): FuelEventInput {
    this.clockMs += this.int(1, 250);
    const slot = this.int(0, CONCURRENT_SESSIONS - 1);
    const session = this.open[slot];
    const at = this.clockMs;
    const base = {
      id: this.nextId(at),
      timestamp: new Date(at).toISOString(),
      blob_refs: [],
    };
    this.produced++;

    if (!session) {
      const s = this.openSession();
      this.open[slot] = s;
      return {
        ...base,
        type: 'session.start',
        device_id: s.device,
        workspace_id: s.workspace,
        session_id: s.ccSessionId,
        data: {
          cc_session_id: s.ccSessionId,
          cwd: s.cwd,
          git_branch: s.branch,
          git_remote: `git@github.com:bench/${s.workspace.split('/').pop() ?? 'ws'}.git`,
          cc_version: '2.0.14',
          model: s.model,
          source: 'startup',
          transcript_path: `/home/dev/.claude/projects/${s.ccSessionId}.jsonl`,
        },
      };
    }

    const step = session.remaining.shift() ?? 'session.end';
    const common = { ...base, device_id: session.device, workspace_id: session.workspace, session_id: session.ccSessionId };
    if (step === 'git.commit') {
      session.commits++;
      return {
        ...common,
        type: 'git.commit',
        data: {
          hash: this.hex(40),
          message: this.pick(MESSAGES),
          author_name: 'Bench Author',
          author_email: 'bench@example.com',
          branch: session.branch ?? 'main',
          files_changed: this.int(1, 12),
          insertions: this.int(0, 400),
          deletions: this.int(0, 200),
        },
      };
    }
    if (step === 'system.heartbeat') {
      return {
        ...common,
        type: 'system.heartbeat',
        data: { status: 'ok', uptime_s: Math.floor((at - EPOCH_MS) / 1000), queue_depth: this.int(0, 20) },
      };
    }
    this.open[slot] = undefined;
    return {
      ...common,
      type: 'session.end',
      data: {
        cc_session_id: session.ccSessionId,
        duration_ms: at - session.startedAtMs,
        end_reason: this.pick(['exit', 'exit', 'exit', 'clear', 'logout'] as const),
        transcript_path: `/home/dev/.claude/projects/${session.ccSessionId}.jsonl`,
      },
    };
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
