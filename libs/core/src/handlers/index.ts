import { createHandlerRegistry, type HandlerRegistry } from '../registry';
import { handleGitEvents } from './git';
import { handleSkillEvents, handleSubagentEvents, handleTeamEvents, handleWorktreeEvents } from './relationships';
import { handleSessionEvents } from './session';

/** The registry the worker runs with. Types without a handler are only persisted. */
export function createDefaultRegistry(): HandlerRegistry {
  return createHandlerRegistry({
    // One handler for the three: a batch's session events are upserted by one statement.
    'session.start': handleSessionEvents,
    'session.end': handleSessionEvents,
    'session.compact': handleSessionEvents,
    // One handler for the four: one statement stores a batch's git rows.
    'git.commit': handleGitEvents,
    'git.push': handleGitEvents,
    'git.checkout': handleGitEvents,
    'git.merge': handleGitEvents,
    // Paired types share a handler, so a batch writes each relationship table in one statement.
    'subagent.start': handleSubagentEvents,
    'subagent.stop': handleSubagentEvents,
    'team.create': handleTeamEvents,
    'team.message': handleTeamEvents,
    'skill.invoke': handleSkillEvents,
    'worktree.create': handleWorktreeEvents,
    'worktree.remove': handleWorktreeEvents,
  });
}

export { handleGitEvents, handleSessionEvents };
export { handleSkillEvents, handleSubagentEvents, handleTeamEvents, handleWorktreeEvents };
