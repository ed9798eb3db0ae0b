import { RELATIONSHIP_TYPES, SESSION_TYPES, type FuelEvent } from './envelope';

/**
 * The session an event is stored under (events.session_id), before git linking: session
 * events are their `cc_session_id`'s, the relationship types their `data.session_id`'s (hooks
 * send the envelope's session_id as null), anything else the envelope's. A payload that
 * failed its schema names no trustworthy id, so it keeps the envelope's.
 */
export function eventSessionId(event: FuelEvent): string | null {
  if (event.payload !== 'valid') return event.session_id;
  if (SESSION_TYPES.has(event.type)) return (event.data as { cc_session_id: string }).cc_session_id;
  if (RELATIONSHIP_TYPES.has(event.type)) return (event.data as { session_id: string }).session_id;
  return event.session_id;
}
