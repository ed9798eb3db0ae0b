import type { Sql } from 'postgres';
import { canonicalJson, earliest, GIT_TYPES, groupBy, ms, type Envelope } from './model';

/**
 * The fuel-code tables the seven relationship types and the git types fill (docs/contract.md
 * §3.1): what each must hold, one row per key, and a generic comparison that skips a table
 * the database does not have (a build before its migration).
 */

type Row = Record<string, unknown>;
export interface TableExpectation {
  table: string;
  /** What a row is, for the check's name. */
  rule: string;
  keyOf: (row: Row) => string;
  /** The compared columns of a stored row, as one string. */
  valueOf: (row: Row) => string;
  expected: Map<string, string>;
}

const time = (v: unknown): number | null => (typeof v === 'string' ? Date.parse(v) : null);
const orNull = (v: unknown): unknown => (v === undefined ? null : v);
const key = (...parts: unknown[]) => JSON.stringify(parts);
const d = (e: Envelope, field: string): unknown => orNull(e.data[field]);

function gitColumns(e: Envelope): { branch: unknown; sha: unknown } {
  switch (e.type) {
    case 'git.commit': return { branch: d(e, 'branch'), sha: d(e, 'hash') };
    case 'git.push': return { branch: d(e, 'branch'), sha: null };
    case 'git.checkout': return { branch: d(e, 'to_branch') ?? d(e, 'to_ref'), sha: null };
    default: return { branch: d(e, 'into_branch'), sha: d(e, 'merge_commit') };
  }
}

/** The expectations, from the handled events and each git event's session link. */
export function tableExpectations(handled: readonly Envelope[], links: ReadonlyMap<string, string | null>): TableExpectation[] {
  const ofType = (...types: string[]) => handled.filter((e) => types.includes(e.type));
  const sid = (e: Envelope) => e.data['session_id'] as string;

  const git = new Map(handled.filter((e) => GIT_TYPES.has(e.type)).map((e) => {
    const c = gitColumns(e);
    return [e.id, canonicalJson([links.get(e.id) ?? null, e.type.slice(4), c.branch, c.sha, ms(e)])];
  }));
  const skills = new Map(ofType('skill.invoke').map((e) => [e.id, canonicalJson([sid(e), d(e, 'skill_name'), ms(e), d(e, 'invoked_by'), d(e, 'args')])]));

  const teams = new Map<string, string>();
  for (const [k, events] of groupBy(ofType('team.create', 'team.message'), (e) => key(sid(e), e.data['team_name']))) {
    const create = earliest(events.filter((e) => e.type === 'team.create'));
    const messages = new Set(events.filter((e) => e.type === 'team.message').map((e) => e.id)).size;
    teams.set(k, canonicalJson([messages, create ? d(create, 'description') : null, create ? ms(create) : null]));
  }
  const subagents = new Map<string, string>();
  for (const [k, events] of groupBy(ofType('subagent.start', 'subagent.stop'), (e) => key(sid(e), e.data['agent_id']))) {
    const start = earliest(events.filter((e) => e.type === 'subagent.start'));
    const stop = earliest(events.filter((e) => e.type === 'subagent.stop'));
    subagents.set(k, canonicalJson([stop ? 'completed' : 'running', start ? ms(start) : null, stop ? ms(stop) : null, d((start ?? stop) as Envelope, 'agent_type')]));
  }
  const worktrees = new Map<string, string>();
  for (const [k, events] of groupBy(ofType('worktree.create', 'worktree.remove'), (e) => key(sid(e), e.data['worktree_name'] || null))) {
    const create = earliest(events.filter((e) => e.type === 'worktree.create'));
    const remove = earliest(events.filter((e) => e.type === 'worktree.remove'));
    worktrees.set(k, canonicalJson([create ? ms(create) : null, remove ? ms(remove) : null, create ? d(create, 'branch') : null, remove ? d(remove, 'had_changes') : null]));
  }

  return [
    { table: 'git_activity', rule: 'one row per git event, its session link, type, branch, sha and time', expected: git, keyOf: (r) => String(r['id']),
      valueOf: (r) => canonicalJson([orNull(r['session_id']), r['type'], orNull(r['branch']), orNull(r['commit_sha']), time(r['timestamp'])]) },
    { table: 'session_skills', rule: 'one row per skill.invoke', expected: skills, keyOf: (r) => String(r['id']),
      valueOf: (r) => canonicalJson([r['session_id'], r['skill_name'], time(r['invoked_at']), orNull(r['invoked_by']), orNull(r['args'])]) },
    { table: 'teams', rule: 'one row per (session, team); message_count = distinct team.message events; the earliest create', expected: teams,
      keyOf: (r) => key(r['session_id'], r['team_name']), valueOf: (r) => canonicalJson([r['message_count'], orNull(r['description']), time(r['created_at'])]) },
    { table: 'subagents', rule: 'one row per (session, agent); the earliest start and stop', expected: subagents,
      keyOf: (r) => key(r['session_id'], r['agent_id']), valueOf: (r) => canonicalJson([r['status'], time(r['started_at']), time(r['ended_at']), r['agent_type']]) },
    { table: 'session_worktrees', rule: 'one row per (session, worktree_name); the earliest create and remove', expected: worktrees,
      keyOf: (r) => key(r['session_id'], orNull(r['worktree_name'])),
      valueOf: (r) => canonicalJson([time(r['created_at']), time(r['removed_at']), orNull(r['branch']), orNull(r['had_changes'])]) },
  ];
}

export async function tableExists(sql: Sql, table: string): Promise<boolean> {
  const [row] = await sql<{ ok: boolean }[]>`SELECT to_regclass(${`public.${table}`}) IS NOT NULL AS ok`;
  return row?.ok === true;
}

/** Compare a table with its expectation: missing, doubled, unexpected and differing keys. */
export async function compareTable(sql: Sql, x: TableExpectation): Promise<{ ok: boolean; detail: string } | undefined> {
  if (!(await tableExists(sql, x.table))) return undefined;
  const rows = await sql.unsafe<{ row: Row }[]>(`SELECT to_jsonb(t) AS row FROM "${x.table}" t`);
  const seen = new Map<string, number>();
  const differ: string[] = [];
  for (const { row } of rows) {
    const k = x.keyOf(row);
    seen.set(k, (seen.get(k) ?? 0) + 1);
    const want = x.expected.get(k);
    const got = x.valueOf(row);
    if (want !== undefined && want !== got) differ.push(`${k.slice(0, 80)}: got ${got} want ${want}`);
  }
  const missing = [...x.expected.keys()].filter((k) => !seen.has(k));
  const doubled = [...seen].filter(([, n]) => n > 1).map(([k]) => k);
  const extra = [...seen.keys()].filter((k) => !x.expected.has(k));
  const ok = missing.length === 0 && doubled.length === 0 && extra.length === 0 && differ.length === 0;
  const eg = (label: string, xs: string[]) => (xs.length ? ` (${label} e.g. ${xs[0]?.slice(0, 300)})` : '');
  return {
    ok,
    detail: `${x.expected.size} expected, ${rows.length} rows; ${missing.length} missing, ${doubled.length} doubled, ${extra.length} unexpected, ${differ.length} differ` +
      eg('missing', missing) + eg('doubled', doubled) + eg('unexpected', extra) + eg('differ', differ),
  };
}
