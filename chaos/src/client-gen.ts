import type { EnvelopeInput } from '@fuel-code/testing';
import { iso, type Rng } from './rng';

/**
 * The valid part of the chaos workload, in the shapes the fuel-code CLI's hooks send
 * (docs/contract.md §1; mirrors libs/testing's clientSession): all 21 types, device hints in
 * every payload, `session_id: null` on git and relationship hooks, `session.end` mostly with
 * `duration_ms: 0`, `ingested_at`/`_attempts` on some envelopes. Claude Code sessions
 * interleave over a few dozen workspaces and devices; some lack a start or an end, some have
 * two of either (the earliest must win). Besides: session-less events, well-formed events of
 * types this build does not know, and known types whose payload fails its schema — all of
 * them must be stored.
 */

export type Envelope = EnvelopeInput & { ingested_at?: string | null; _attempts?: number };
/** What the worker must do with a stored event: run its handler, or only store it. */
export type StoredAs = 'handled' | 'unknown-type' | 'payload-invalid';
export interface Generated {
  envelope: Envelope;
  storedAs: StoredAs;
}

export const EPOCH_MS = Date.UTC(2025, 5, 1);
const WORKSPACES = 36;
const DEVICES = 24;
const MODELS = ['claude-sonnet-4-5', 'claude-opus-4-1', null] as const;
const BRANCHES = ['main', 'feature/chaos', 'fix/retry', null] as const;
const SOURCES = ['startup', 'resume', 'clear', 'compact', 'backfill'] as const;
const END_REASONS = ['exit', 'clear', 'logout', 'crash'] as const;
const MESSAGES = ['fix: retry', 'feat: chaos ✓ 🚀', 'docs: "quotes" and \\ backslash'] as const;
const SESSIONLESS = ['remote.provision.start', 'remote.provision.ready', 'remote.provision.error', 'remote.terminate',
  'system.device.register', 'system.hooks.installed', 'system.heartbeat', 'git.push'] as const;
/** Well-formed type names this build does not know: stored, no handler. */
export const UNKNOWN_TYPES = ['team.disband', 'git.rebase', 'session.rename'] as const;

type Step = 'start' | 'end' | 'git' | 'subagent.start' | 'subagent.stop' | 'team.create' | 'team.message' | 'skill'
  | 'worktree.create' | 'worktree.remove' | 'compact' | 'heartbeat' | 'off-schema';

interface Device { id: string; names: readonly [string, string]; type: 'local' | 'remote' }
interface Session {
  sid: string;
  ws: string;
  dev: Device;
  steps: Step[];
  startMs: number | undefined;
  compactSeq: number;
  agentId: string;
  team: string;
  worktree: string | undefined;
}

/** Client-shaped events, `target` of them, from the seeded `r`. */
export function generateEvents(target: number, seed: number, r: Rng): Generated[] {
  return new ClientEventGenerator(seed, r).generate(target);
}

class ClientEventGenerator {
  private readonly devices: Device[];
  private readonly pool: (Session | undefined)[] = new Array(40).fill(undefined);
  private sessions = 0;

  constructor(private readonly seed: number, private readonly r: Rng) {
    this.devices = Array.from({ length: DEVICES }, (_, i) => {
      const n = String(i + 1).padStart(2, '0');
      return { id: `chaos-device-${n}`, names: [`laptop-${n}`, `laptop-${n}-renamed`] as const, type: i < 4 ? 'remote' : 'local' };
    });
  }

  /** Sessions interleave: a pool of open sessions, a random one moves one step per event. */
  generate(target: number): Generated[] {
    const r = this.r;
    const out: Generated[] = [];
    let clock = EPOCH_MS;
    while (out.length < target) {
      clock += r.int(1, 400);
      const at = clock;
      if (r.chance(0.04)) {
        const dev = r.pick(this.devices);
        const ws = this.workspace();
        out.push(sessionless(r, (type, sessionId, data) => this.envelope(type, at, dev, ws, sessionId, data)));
        continue;
      }
      const slot = r.int(0, this.pool.length - 1);
      const s = this.pool[slot] ?? this.newSession();
      this.pool[slot] = s;
      const step = s.steps.shift() as Step;
      if (s.steps.length === 0) this.pool[slot] = undefined;
      out.push(this.sessionStep(s, step, at));
    }
    return out;
  }

  private newSession(): Session {
    const r = this.r;
    this.sessions++;
    const tag = `${this.seed}-${this.sessions}-${Math.floor(r.random() * 1e9).toString(36)}`;
    return {
      sid: `cc-${tag}`, ws: this.workspace(), dev: r.pick(this.devices), steps: this.plan(), startMs: undefined, compactSeq: 0,
      agentId: `agent-${tag}`, team: `team-${tag}`, worktree: r.chance(0.9) ? `wt-${tag}` : undefined,
    };
  }

  private workspace(): string {
    const r = this.r;
    const roll = r.random();
    if (roll < 0.03) return r.pick(['', '_unassociated', '   ']);
    if (roll < 0.06) return r.pick(['local:0123456789abcdef', 'local:fedcba9876543210']);
    return `github.com/chaos/ws-${r.int(1, WORKSPACES)}`;
  }

  /** The device hints, as the client adds them to every payload (now and then missing or blank). */
  private hints(dev: Device): Record<string, unknown> {
    const r = this.r;
    const roll = r.random();
    if (roll < 0.05) return {};
    if (roll < 0.06) return { _device_name: '', _device_type: dev.type }; // an empty name is no hint
    if (roll < 0.1) return { _device_name: r.pick(dev.names) };
    return { _device_name: r.pick(dev.names), _device_type: r.chance(0.05) ? (dev.type === 'local' ? 'remote' : 'local') : dev.type };
  }

  private envelope(type: string, at: number, dev: Device, ws: string, sessionId: string | null, data: Record<string, unknown>): Envelope {
    const r = this.r;
    const e: Envelope = {
      id: r.nextId(at), type, timestamp: iso(at, r.chance(0.1) ? r.pick([120, -330]) : 0), device_id: dev.id, workspace_id: ws,
      session_id: sessionId, data: { ...data, ...this.hints(dev) },
    };
    if (r.chance(0.85)) e.blob_refs = [];
    const roll = r.random();
    if (roll < 0.5) e.ingested_at = null;
    else if (roll < 0.53) e.ingested_at = new Date(at + 1500).toISOString();
    if (r.chance(0.03)) e._attempts = r.int(1, 3);
    return e;
  }

  private opt(p: number, fields: Record<string, unknown>): Record<string, unknown> {
    return this.r.chance(p) ? fields : {};
  }

  private sessionStep(s: Session, step: Step, at: number): Generated {
    const r = this.r;
    const opt = this.opt.bind(this);
    const handled = (type: string, sessionId: string | null, data: Record<string, unknown>): Generated =>
      ({ envelope: this.envelope(type, at, s.dev, s.ws, sessionId, data), storedAs: 'handled' });
    const rel = (type: string, data: Record<string, unknown>) => handled(type, null, { session_id: s.sid, ...data });
    const transcript = `/home/dev/.claude/${s.sid}.jsonl`;
    switch (step) {
      case 'start':
        s.startMs ??= at;
        return handled('session.start', s.sid, {
          cc_session_id: s.sid, cwd: `/home/dev/${s.ws.trim() || 'scratch'}`, git_branch: r.pick(BRANCHES),
          git_remote: r.chance(0.5) ? `git@${s.ws}.git` : null, cc_version: r.pick(['2.0.1', 'unknown', null]), model: r.pick(MODELS),
          source: r.pick(SOURCES), transcript_path: transcript,
        });
      case 'end': {
        // Hooks always send 0; a real duration (differing from end - start on purpose) otherwise.
        const duration = r.chance(0.7) ? 0 : (s.startMs === undefined ? r.int(1000, 600_000) : at - s.startMs + r.int(0, 5000));
        return handled('session.end', s.sid, {
          cc_session_id: s.sid, duration_ms: duration, end_reason: r.pick(END_REASONS), transcript_path: transcript,
          ...opt(0.3, { cwd: `/home/dev/${s.ws.trim() || 'scratch'}`, git_branch: r.pick(BRANCHES), model: r.pick(MODELS), cc_version: null }),
        });
      }
      case 'compact':
        return handled('session.compact', s.sid, { cc_session_id: s.sid, compact_sequence: ++s.compactSeq, transcript_path: transcript });
      case 'git':
        return { envelope: gitEvent(r, r.pick(['git.commit', 'git.push', 'git.checkout', 'git.merge']), (type, data) =>
          this.envelope(type, at, s.dev, s.ws, r.chance(0.1) ? s.sid : null, data)), storedAs: 'handled' };
      case 'subagent.start':
        return rel(step, {
          agent_id: s.agentId, agent_type: r.pick(['task', 'general-purpose', 'Explore']), ...opt(0.7, { agent_name: 'researcher' }),
          ...opt(0.5, { model: 'claude-haiku' }), ...opt(0.3, { team_name: s.team }), ...opt(0.2, { isolation: 'worktree' }),
          ...opt(0.5, { run_in_background: r.chance(0.5) }),
        });
      case 'subagent.stop':
        return rel(step, { agent_id: s.agentId, agent_type: 'task', ...opt(0.7, { agent_transcript_path: `/home/dev/.claude/${s.agentId}.jsonl` }) });
      case 'team.create':
        return rel(step, { team_name: s.team, ...opt(0.7, { description: `the ${s.team} team` }) });
      case 'team.message':
        return rel(step, { team_name: s.team, message_type: r.pick(['message', 'broadcast']), ...opt(0.8, { from: 'lead', to: 'researcher' }) });
      case 'skill':
        return rel('skill.invoke', { skill_name: r.pick(['commit', 'review', 'test']), ...opt(0.5, { args: '-m wip' }), ...opt(0.7, { invoked_by: r.pick(['user', 'agent']) }) });
      case 'worktree.create':
        return rel(step, { ...(s.worktree === undefined ? {} : { worktree_name: s.worktree }), ...opt(0.7, { branch: 'feature/chaos' }) });
      case 'worktree.remove':
        return rel(step, { ...(s.worktree === undefined ? {} : { worktree_name: s.worktree }), ...opt(0.7, { had_changes: r.chance(0.5) }) });
      case 'heartbeat':
        // system.heartbeat takes any object: a `{_raw}` one is valid.
        return handled('system.heartbeat', r.chance(0.5) ? s.sid : null, r.chance(0.2) ? { _raw: 'hook input was not JSON' } : { status: 'ok', queue_depth: r.int(0, 20) });
      case 'off-schema':
        return offSchema(r, s.sid, (type, sessionId, data) => this.envelope(type, at, s.dev, s.ws, sessionId, data));
    }
  }

  /** A session's steps in time order: start, the middle in random order, end (each may be missing or doubled). */
  private plan(): Step[] {
    const r = this.r;
    const middle: Step[] = [];
    for (let n = r.int(0, 3); n > 0; n--) middle.push('git');
    if (r.chance(0.3)) {
      if (!r.chance(0.15)) middle.push('subagent.start');
      if (!r.chance(0.2)) middle.push('subagent.stop');
    }
    if (r.chance(0.25)) {
      if (!r.chance(0.15)) middle.push('team.create');
      for (let n = r.int(1, 4); n > 0; n--) middle.push('team.message');
    }
    if (r.chance(0.3)) for (let n = r.int(1, 2); n > 0; n--) middle.push('skill');
    if (r.chance(0.2)) middle.push('worktree.create', ...(r.chance(0.8) ? (['worktree.remove'] as const) : []));
    if (r.chance(0.6)) middle.push('heartbeat');
    if (r.chance(0.03)) middle.push('off-schema');
    const hasStart = !r.chance(0.08);
    const hasEnd = !r.chance(0.12) || (!hasStart && middle.length === 0);
    // A compact makes a session row: only in sessions whose start or end sets started_at.
    if ((hasStart || hasEnd) && r.chance(0.2)) middle.push(...(r.chance(0.5) ? (['compact'] as const) : (['compact', 'compact'] as const)));
    if (hasStart && r.chance(0.04)) middle.push('start'); // a resumed session: a later start, ignored
    for (let i = middle.length - 1; i > 0; i--) {
      const j = r.int(0, i);
      [middle[i], middle[j]] = [middle[j] as Step, middle[i] as Step];
    }
    return [...(hasStart ? (['start'] as const) : []), ...middle, ...(hasEnd ? (['end'] as const) : []), ...(hasEnd && r.chance(0.03) ? (['end'] as const) : [])];
  }
}

type Make = (type: string, sessionId: string | null, data: Record<string, unknown>) => Envelope;

function gitEvent(r: Rng, type: 'git.commit' | 'git.push' | 'git.checkout' | 'git.merge', make: (type: string, data: Record<string, unknown>) => Envelope): Envelope {
  const where = r.chance(0.1) ? { is_worktree: true, worktree_name: 'wt-side' } : { is_worktree: false, worktree_name: null };
  const sha = r.hex(40);
  const branch = r.pick(['main', 'feature/chaos']);
  switch (type) {
    case 'git.commit':
      return make(type, {
        hash: sha, message: r.pick(MESSAGES), author_name: 'Dev', ...(r.chance(0.8) ? { author_email: 'dev@example.com' } : {}), branch,
        files_changed: r.int(1, 9), insertions: r.int(0, 300), deletions: r.int(0, 100),
        ...(r.chance(0.5) ? { file_list: [{ path: 'src/a.ts', status: 'M' }, { path: 'src/b.ts', status: 'A' }] } : {}), ...where,
      });
    case 'git.push':
      return make(type, { branch, remote: 'origin', commit_count: r.int(1, 3), ...(r.chance(0.6) ? { commits: [sha] } : {}), ...where });
    case 'git.checkout': {
      const detached = r.chance(0.2);
      return make(type, { from_ref: r.hex(40), to_ref: sha, from_branch: 'main', to_branch: detached ? null : branch, ...where });
    }
    case 'git.merge':
      return make(type, { merge_commit: sha, message: `Merge ${branch}`, merged_branch: 'feature/chaos', into_branch: 'main', files_changed: r.int(0, 9), had_conflicts: r.chance(0.2), ...where });
  }
}

/** Events outside any session: remote and system events, a push, unknown types, off-schema payloads. */
function sessionless(r: Rng, make: Make): Generated {
  const roll = r.random();
  const sessionId = r.chance(0.1) ? '' : null; // '' means null (contract §1)
  if (roll < 0.15) return { envelope: make(r.pick(UNKNOWN_TYPES), sessionId, { note: 'a newer client', n: r.int(0, 99) }), storedAs: 'unknown-type' };
  if (roll < 0.25) return offSchema(r, `cc-orphan-${r.int(0, 9)}`, make);
  const type = r.pick(SESSIONLESS);
  if (type === 'git.push') return { envelope: gitEvent(r, type, (t, data) => make(t, sessionId, data)), storedAs: 'handled' };
  return { envelope: make(type, sessionId, { remote_env_id: `r-${r.int(0, 99)}`, note: 'no session' }), storedAs: 'handled' };
}

/** A known type whose payload fails its schema: stored, handler not run, recorded as PAYLOAD_INVALID. */
function offSchema(r: Rng, sid: string, make: Make): Generated {
  const variant = r.int(0, 4);
  const envelope =
    variant === 0 ? make('session.start', sid, { _raw: 'hook input was not JSON' })
      : variant === 1 ? make('session.end', sid, { cc_session_id: sid, end_reason: 'exit', transcript_path: '' }) // no duration_ms
        : variant === 2 ? make('git.commit', null, { hash: 'abc', message: 'm', author_name: 'Dev', branch: 'main', files_changed: -1, insertions: 0, deletions: 0 })
          : variant === 3 ? make('subagent.start', null, { session_id: sid, agent_type: 'task' }) // no agent_id
            : make('team.message', null, { session_id: sid, team_name: 't'.repeat(600), message_type: 'message' }); // over the 512 id cap
  return { envelope, storedAs: 'payload-invalid' };
}
