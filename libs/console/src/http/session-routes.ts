import type { FastifyInstance } from 'fastify';
import { errorPage } from '../html/login-page';
import { sessionDetailPage, sessionListPage } from '../html/session-pages';
import { recentSessions, sessionById, sessionEvents } from '../read/database';
import { chrome, sendPage, settle, type ConsoleContext } from './context';

const RECENT_SESSIONS = 50;
const TIMELINE_EVENTS = 2_000;

export function registerSessionRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get('/sessions', async (request, reply) => {
    const sessions = await settle(ctx.logger, 'recent sessions', () => recentSessions(ctx.sql, RECENT_SESSIONS));
    return sendPage(reply, sessionListPage(sessions, RECENT_SESSIONS, chrome(request, 'sessions')));
  });

  app.get<{ Params: { id: string } }>('/sessions/:id', async (request, reply) => {
    const id = request.params.id;
    if (id.length > 512) return sendPage(reply, errorPage('Not found', 'No such session.'), 404);
    const [session, events] = await Promise.all([sessionById(ctx.sql, id), sessionEvents(ctx.sql, id, TIMELINE_EVENTS)]);
    if (!session) return sendPage(reply, errorPage('Not found', `No session ${id} stored.`), 404);
    return sendPage(reply, sessionDetailPage(session, events, TIMELINE_EVENTS, chrome(request, 'sessions')));
  });
}
