import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clearedSessionCookie, readCookie, secretsEqual, SESSION_COOKIE, sessionCookie, tokenMatches } from '../auth';
import { loginPage } from '../html/login-page';
import { attachSession, field, formOf, seeOther, sendPage, type ConsoleContext } from './context';

/** The login form's double-submit cookie: a login POST must carry the same value in the form. */
const LOGIN_COOKIE = 'fuel_console_login';

const PUBLIC_PATHS = new Set(['/login', '/favicon.ico']);

function isPublic(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return PUBLIC_PATHS.has(path) || path.startsWith('/assets/');
}

/**
 * Nothing but the login page and the static assets before login: any other request without a
 * live session gets no data (a page is redirected to /login, anything else is answered 401).
 * Every POST after login must carry the session's CSRF token.
 */
export function registerAuth(app: FastifyInstance, ctx: ConsoleContext): void {
  app.addHook('onRequest', async (request, reply) => {
    if (isPublic(request.url)) return;
    const session = ctx.sessions.get(readCookie(request.headers.cookie, SESSION_COOKIE));
    if (!session) {
      if (request.method === 'GET' || request.method === 'HEAD') return seeOther(reply, '/login');
      return reply.code(401).type('text/plain; charset=utf-8').send('login required\n');
    }
    attachSession(request, session);
  });
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST' || isPublic(request.url)) return;
    const session = ctx.sessions.get(readCookie(request.headers.cookie, SESSION_COOKIE));
    const sent = field(formOf(request), 'csrf');
    if (!session || sent === undefined || !secretsEqual(sent, session.csrfToken)) {
      ctx.logger.warn({ url: request.url }, 'Console POST refused: missing or wrong CSRF token');
      return reply.code(403).type('text/plain; charset=utf-8').send('refused: missing or wrong CSRF token\n');
    }
  });

  // The value stays the same while its cookie lives: two login tabs (or a page loaded twice)
  // must not invalidate each other's form.
  const showLogin = (request: FastifyRequest, reply: FastifyReply, error?: string) => {
    const existing = readCookie(request.headers.cookie, LOGIN_COOKIE);
    const loginCsrf = existing && /^[\w-]{32}$/.test(existing) ? existing : randomBytes(24).toString('base64url');
    reply.header('set-cookie', `${LOGIN_COOKIE}=${loginCsrf}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600${ctx.config.secureCookie ? '; Secure' : ''}`);
    return sendPage(reply, loginPage({ loginCsrf, tokenRequired: ctx.config.token !== undefined, ...(error ? { error } : {}) }), error ? 401 : 200);
  };

  app.get('/login', async (request, reply) => showLogin(request, reply));

  app.post('/login', async (request: FastifyRequest, reply) => {
    const form = formOf(request);
    const expectedCsrf = readCookie(request.headers.cookie, LOGIN_COOKIE);
    const sentCsrf = field(form, 'csrf');
    if (!expectedCsrf || !sentCsrf || !secretsEqual(expectedCsrf, sentCsrf)) {
      return reply.code(403).type('text/plain; charset=utf-8').send('refused: missing or wrong CSRF token\n');
    }
    const token = ctx.config.token;
    if (token !== undefined && !tokenMatches(field(form, 'token') ?? '', token)) {
      ctx.logger.warn({ ip: request.ip }, 'Console login refused: wrong token');
      return showLogin(request, reply, 'Wrong token.');
    }
    const session = ctx.sessions.create();
    reply.header('set-cookie', [
      sessionCookie(session.id, { secure: ctx.config.secureCookie, maxAgeSeconds: Math.floor(ctx.config.sessionTtlMs / 1000) }),
      `${LOGIN_COOKIE}=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0`,
    ]);
    ctx.logger.info({ ip: request.ip }, 'Console login');
    return seeOther(reply, '/');
  });

  app.post('/logout', async (request, reply) => {
    ctx.sessions.delete(readCookie(request.headers.cookie, SESSION_COOKIE));
    reply.header('set-cookie', clearedSessionCookie({ secure: ctx.config.secureCookie }));
    return seeOther(reply, '/login');
  });
}
