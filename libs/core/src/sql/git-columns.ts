import type { Db } from './types';

/**
 * The typed columns of a git row, as the fuel-code server maps each git type, cut from the
 * events row aliased `g` (type, "timestamp", data): type, branch, commit_sha, message,
 * files_changed, insertions, deletions, "timestamp", data, worktree_name, is_worktree, as a
 * fragment of a select list. `data` keeps what the typed columns do not hold.
 *
 * Every key read here is one the type's payload schema requires (a nullable one is present
 * as null), except those marked optional there (author_email, file_list, commits): absent,
 * `->` gives SQL NULL and jsonb_build_object writes JSON null, as `?? null` did. Detached
 * HEAD has no branch: the ref it moved to stands in. worktree_name and is_worktree are the
 * client's git hooks' additions, outside the schemas, so their JSON types are checked.
 */
export const gitColumns = (db: Db) => db`
  split_part(g.type, '.', 2),
  CASE g.type WHEN 'git.checkout' THEN COALESCE(g.data->>'to_branch', g.data->>'to_ref')
              WHEN 'git.merge' THEN g.data->>'into_branch'
              ELSE g.data->>'branch' END,
  CASE g.type WHEN 'git.commit' THEN g.data->>'hash' WHEN 'git.merge' THEN g.data->>'merge_commit' END,
  CASE WHEN g.type IN ('git.commit', 'git.merge') THEN g.data->>'message' END,
  CASE WHEN g.type IN ('git.commit', 'git.merge') THEN (g.data->>'files_changed')::int END,
  CASE WHEN g.type = 'git.commit' THEN (g.data->>'insertions')::int END,
  CASE WHEN g.type = 'git.commit' THEN (g.data->>'deletions')::int END,
  g."timestamp",
  CASE g.type
    WHEN 'git.commit' THEN jsonb_build_object(
      'author_name', g.data->'author_name', 'author_email', g.data->'author_email', 'file_list', g.data->'file_list')
    WHEN 'git.push' THEN jsonb_build_object(
      'remote', g.data->'remote', 'commit_count', g.data->'commit_count', 'commits', g.data->'commits')
    WHEN 'git.checkout' THEN jsonb_build_object(
      'from_ref', g.data->'from_ref', 'to_ref', g.data->'to_ref', 'from_branch', g.data->'from_branch', 'to_branch', g.data->'to_branch')
    WHEN 'git.merge' THEN jsonb_build_object('merged_branch', g.data->'merged_branch', 'had_conflicts', g.data->'had_conflicts')
  END,
  CASE WHEN jsonb_typeof(g.data->'worktree_name') = 'string' AND g.data->>'worktree_name' <> '' THEN g.data->>'worktree_name' END,
  COALESCE(g.data->'is_worktree' = 'true'::jsonb, false)`;
