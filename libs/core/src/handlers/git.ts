import { sendsAtOnce, type EventHandler } from '../registry';
import { insertGitActivity } from '../sql/git-activity';

export type GitEventType = 'git.commit' | 'git.push' | 'git.checkout' | 'git.merge';

/**
 * Registered for the four git types: one statement stores them, linked to their sessions,
 * from their just-inserted events rows (see sql/git-activity.ts and sql/git-columns.ts).
 * processBatch runs it last, after lockGitKeys.
 */
export const handleGitEvents: EventHandler<GitEventType> = sendsAtOnce(({ sql, items }) =>
  insertGitActivity(sql, items.map(({ event }) => event.id)));
