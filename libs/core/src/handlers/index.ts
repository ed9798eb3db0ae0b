import { createHandlerRegistry, type HandlerRegistry } from '../registry';
import { handleSkillEvents, handleSubagentEvents, handleTeamEvents, handleWorktreeEvents } from './relationships';
import { handleSessionEvents } from './session';

/** The registry the worker runs with. Types without a handler are only persisted. */
export function createDefaultRegistry(): HandlerRegistry {
  return createHandlerRegistry({
    // One handler for both: a batch's starts and ends are upserted by one statement.
    'session.start': handleSessionEvents,
    'session.end': handleSessionEvents,
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

export { handleSessionEvents };
export { handleSkillEvents, handleSubagentEvents, handleTeamEvents, handleWorktreeEvents };
