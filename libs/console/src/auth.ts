import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The name of the console's session cookie. */
export const SESSION_COOKIE = 'fuel_console_session';

/**
 * True for a host that only this machine can reach: the one case where the console may run
 * without a token (anyone who can open the page can already read Redis and PostgreSQL here).
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** A token must be given when the console listens beyond loopback: true when that rule is broken. */
export function tokenMissingForHost(host: string, token: string | undefined): boolean {
  return !isLoopbackHost(host) && (token === undefined || token === '');
}

/**
 * Compare a submitted token with the configured one in constant time. Both are hashed first,
 * so neither the length nor a common prefix shows in the time taken.
 */
export function tokenMatches(submitted: string, expected: string): boolean {
  const a = createHash('sha256').update(submitted, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b) && expected.length > 0;
}

/** Same comparison for two random strings (CSRF tokens). */
export function secretsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface ConsoleSession {
  id: string;
  /** Sent back with every POST (a hidden form field): a page of another site cannot read it. */
  csrfToken: string;
  expiresAt: number;
  /** The outcome of the last action, shown once on the next page. */
  flash?: string | undefined;
}

export interface SessionStoreOptions {
  /** How long a session lasts after login. */
  ttlMs: number;
  /** At most this many live sessions; the oldest goes first when full. */
  maxSessions?: number;
  now?: () => number;
}

/**
 * Sessions in memory: a restart of the console logs everyone out, which is fine for an
 * operator tool and keeps the secret material out of Redis and PostgreSQL.
 */
export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly now: () => number;

  constructor(private readonly o: SessionStoreOptions) {
    this.now = o.now ?? Date.now;
  }

  create(): ConsoleSession {
    this.dropExpired();
    const max = this.o.maxSessions ?? 1000;
    while (this.sessions.size >= max) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const session: ConsoleSession = {
      id: randomBytes(32).toString('base64url'),
      csrfToken: randomBytes(32).toString('base64url'),
      expiresAt: this.now() + this.o.ttlMs,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  get(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  delete(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  private dropExpired(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
  }
}

/** The value of one cookie in a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface CookieOptions {
  /** Add `Secure` (the console is served over HTTPS, e.g. behind a TLS proxy). */
  secure: boolean;
  maxAgeSeconds: number;
}

/** HttpOnly (no script reads it), SameSite=Strict (no other site's request carries it). */
export function sessionCookie(value: string, o: CookieOptions): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${o.maxAgeSeconds}${o.secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(o: Pick<CookieOptions, 'secure'>): string {
  return sessionCookie('', { secure: o.secure, maxAgeSeconds: 0 });
}
