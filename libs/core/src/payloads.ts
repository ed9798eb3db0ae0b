// zod's v4 engine (shipped in zod 3.25): it compiles schemas, which is much faster on the hot path.
import { z } from 'zod/v4';

/**
 * The payload schema of each of the 21 event types the fuel-code client sends (docs/contract.md
 * §1). Every object is loose: a newer client may add fields, and they are stored as sent.
 * Ids that end up in a unique index or a primary key are capped at MAX_ID_LENGTH, because a
 * btree entry holds at most about 2.7 kB: a longer one could never be stored.
 */
export const MAX_ID_LENGTH = 512;
/**
 * Names that share a unique index with a session id (agent, team, worktree): a UTF-16 unit
 * takes at most 3 bytes in UTF-8, so 512 + 256 units stay under the btree's limit together.
 */
export const MAX_NAME_LENGTH = 256;

const id = z.string().min(1).max(MAX_ID_LENGTH);
/** A name within a session's key; the client may leave it empty (a team message with no team). */
const name = z.string().max(MAX_NAME_LENGTH);
const count = z.number().int().nonnegative();
/** Counts that land in a Postgres integer column: refuse what it cannot hold up front. */
const int4 = count.max(2_147_483_647);
const nullableString = z.string().nullable();
const optionalNullableString = z.string().nullable().optional();
const jsonObject = z.record(z.string(), z.unknown());

export const sessionStartDataSchema = z
  .object({
    cc_session_id: id,
    cwd: z.string().min(1),
    git_branch: nullableString,
    git_remote: nullableString,
    cc_version: nullableString,
    model: nullableString,
    source: z.enum(['startup', 'resume', 'clear', 'compact', 'backfill']),
    transcript_path: z.string(),
  })
  .loose();

export const sessionEndDataSchema = z
  .object({
    cc_session_id: id,
    duration_ms: int4,
    end_reason: z.enum(['exit', 'clear', 'logout', 'crash']),
    transcript_path: z.string(),
    cwd: optionalNullableString,
    git_branch: optionalNullableString,
    git_remote: optionalNullableString,
    model: optionalNullableString,
    cc_version: optionalNullableString,
  })
  .loose();

export const sessionCompactDataSchema = z
  .object({ cc_session_id: id, compact_sequence: int4, transcript_path: z.string() })
  .loose();

export const gitCommitDataSchema = z
  .object({
    hash: z.string(),
    message: z.string(),
    author_name: z.string(),
    author_email: z.string().optional(),
    branch: z.string(),
    files_changed: int4,
    insertions: int4,
    deletions: int4,
    file_list: z.array(z.object({ path: z.string(), status: z.string() }).loose()).optional(),
  })
  .loose();

export const gitPushDataSchema = z
  .object({ branch: z.string(), remote: z.string(), commit_count: int4, commits: z.array(z.string()).optional() })
  .loose();

export const gitCheckoutDataSchema = z
  .object({ from_ref: z.string(), to_ref: z.string(), from_branch: nullableString, to_branch: nullableString })
  .loose();

export const gitMergeDataSchema = z
  .object({
    merge_commit: z.string(),
    message: z.string(),
    merged_branch: z.string(),
    into_branch: z.string(),
    files_changed: int4,
    had_conflicts: z.boolean(),
  })
  .loose();

export const subagentStartDataSchema = z
  .object({
    session_id: id,
    agent_id: name.min(1),
    agent_type: z.string(),
    agent_name: z.string().optional(),
    model: z.string().optional(),
    team_name: z.string().optional(),
    isolation: z.string().optional(),
    run_in_background: z.boolean().optional(),
  })
  .loose();

export const subagentStopDataSchema = z
  .object({ session_id: id, agent_id: name.min(1), agent_type: z.string(), agent_transcript_path: z.string().optional() })
  .loose();

export const teamCreateDataSchema = z
  .object({ session_id: id, team_name: name, description: z.string().optional() })
  .loose();

export const teamMessageDataSchema = z
  .object({ session_id: id, team_name: name, message_type: z.string(), from: z.string().optional(), to: z.string().optional() })
  .loose();

export const skillInvokeDataSchema = z
  .object({ session_id: id, skill_name: z.string(), args: z.string().optional(), invoked_by: z.string().optional() })
  .loose();

export const worktreeCreateDataSchema = z
  .object({ session_id: id, worktree_name: name.optional(), branch: z.string().optional() })
  .loose();

export const worktreeRemoveDataSchema = z
  .object({ session_id: id, worktree_name: name.optional(), had_changes: z.boolean().optional() })
  .loose();

/** Payload schema per type: the single source of the event types and their typed payloads. */
export const PAYLOAD_SCHEMAS = {
  'session.start': sessionStartDataSchema,
  'session.end': sessionEndDataSchema,
  'session.compact': sessionCompactDataSchema,
  'git.commit': gitCommitDataSchema,
  'git.push': gitPushDataSchema,
  'git.checkout': gitCheckoutDataSchema,
  'git.merge': gitMergeDataSchema,
  'remote.provision.start': jsonObject,
  'remote.provision.ready': jsonObject,
  'remote.provision.error': jsonObject,
  'remote.terminate': jsonObject,
  'system.device.register': jsonObject,
  'system.hooks.installed': jsonObject,
  'system.heartbeat': jsonObject,
  'subagent.start': subagentStartDataSchema,
  'subagent.stop': subagentStopDataSchema,
  'team.create': teamCreateDataSchema,
  'team.message': teamMessageDataSchema,
  'skill.invoke': skillInvokeDataSchema,
  'worktree.create': worktreeCreateDataSchema,
  'worktree.remove': worktreeRemoveDataSchema,
} as const;

export type EventType = keyof typeof PAYLOAD_SCHEMAS;
export const EVENT_TYPES = Object.keys(PAYLOAD_SCHEMAS) as readonly EventType[];

/** The typed payload of each known type. */
export type PayloadOf<T extends EventType> = z.infer<(typeof PAYLOAD_SCHEMAS)[T]>;

export type SessionStartData = PayloadOf<'session.start'>;
export type SessionEndData = PayloadOf<'session.end'>;

/** Types whose events belong to a session named by `data.cc_session_id`. */
export const SESSION_TYPES: ReadonlySet<string> = new Set(['session.start', 'session.end', 'session.compact']);
/** The relationship types: `data.session_id` is the Claude Code session id (= sessions.id). */
export const RELATIONSHIP_TYPES: ReadonlySet<string> = new Set([
  'subagent.start', 'subagent.stop', 'team.create', 'team.message', 'skill.invoke', 'worktree.create', 'worktree.remove',
]);
export const GIT_TYPES: ReadonlySet<string> = new Set(['git.commit', 'git.push', 'git.checkout', 'git.merge']);
