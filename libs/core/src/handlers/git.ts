import type { EventOf } from '../envelope';
import { sendsAtOnce, type EventHandler, type HandlerItem } from '../registry';
import { insertGitActivity, type GitActivityRow } from '../sql/git-activity';

export type GitEventType = 'git.commit' | 'git.push' | 'git.checkout' | 'git.merge';

/** The client's git hooks add where the repository is checked out; not part of the schemas. */
function worktreeOf(data: Record<string, unknown>): { worktreeName: string | null; isWorktree: boolean } {
  const name = data['worktree_name'];
  return { worktreeName: typeof name === 'string' && name !== '' ? name : null, isWorktree: data['is_worktree'] === true };
}

type Columns = Pick<GitActivityRow, 'type' | 'branch' | 'commitSha' | 'message' | 'filesChanged' | 'insertions' | 'deletions' | 'data'>;
const none = { commitSha: null, message: null, filesChanged: null, insertions: null, deletions: null } as const;

/** The typed columns of each git type, and the rest of its payload, as the fuel-code server maps them. */
function columnsOf(event: EventOf<GitEventType>): Columns {
  switch (event.type) {
    case 'git.commit': {
      const d = event.data;
      return {
        type: 'commit', branch: d.branch, commitSha: d.hash, message: d.message,
        filesChanged: d.files_changed, insertions: d.insertions, deletions: d.deletions,
        data: { author_name: d.author_name, author_email: d.author_email ?? null, file_list: d.file_list ?? null },
      };
    }
    case 'git.push': {
      const d = event.data;
      return { ...none, type: 'push', branch: d.branch, data: { remote: d.remote, commit_count: d.commit_count, commits: d.commits ?? null } };
    }
    case 'git.checkout': {
      const d = event.data;
      // Detached HEAD has no branch: the ref it moved to stands in, as in fuel-code.
      return {
        ...none, type: 'checkout', branch: d.to_branch ?? d.to_ref,
        data: { from_ref: d.from_ref, to_ref: d.to_ref, from_branch: d.from_branch, to_branch: d.to_branch },
      };
    }
    case 'git.merge': {
      const d = event.data;
      return {
        ...none, type: 'merge', branch: d.into_branch, commitSha: d.merge_commit, message: d.message, filesChanged: d.files_changed,
        data: { merged_branch: d.merged_branch, had_conflicts: d.had_conflicts },
      };
    }
  }
}

export function gitActivityRows(items: readonly HandlerItem<GitEventType>[]): GitActivityRow[] {
  return items.map(({ event, workspaceId }) => ({
    id: event.id,
    workspaceId,
    deviceId: event.device_id,
    at: event.timestamp,
    ...columnsOf(event),
    ...worktreeOf(event.data),
  }));
}

/**
 * Registered for the four git types: one statement stores them, linked to their sessions.
 * processBatch runs it last, after lockGitKeys (see sql/git-activity.ts).
 */
export const handleGitEvents: EventHandler<GitEventType> = sendsAtOnce(({ sql, items }) => insertGitActivity(sql, gitActivityRows(items)));
