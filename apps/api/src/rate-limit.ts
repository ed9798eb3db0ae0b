import { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { bearerToken, sha256 } from './auth';
import { FixedWindowLimiter } from './fixed-window';

export interface RateLimitOptions {
  /** Requests allowed per window and client. */
  max: number;
  windowMs: number;
  /** True when the Authorization header carries a valid API key (see createKeyCheck). */
  keyMatches: (authorizationHeader: string | undefined) => boolean;
}

/** Refused by the rate limit; the error handler answers 429 with its Retry-After. */
export class RateLimitedError extends Error {
  readonly code = 'RATE_LIMITED' as const;
  readonly statusCode = 429;
  constructor(readonly retryAfterSeconds: number) {
    super(`rate limit exceeded: retry in ${retryAfterSeconds} s`);
    this.name = 'RateLimitedError';
  }
}

/**
 * Whom a request counts against: its API key when it carries a valid one, else its client
 * address (IPv6 by /64, so one host cannot dodge the limit by rotating addresses). The key is
 * stored only as a SHA-256 digest, never as itself. An invalid key counts against the address:
 * keyed by whatever token was sent, a client could get a fresh allowance per made-up token.
 */
export function rateLimitKey(request: FastifyRequest, keyMatches: RateLimitOptions['keyMatches']): string {
  const header = request.headers.authorization;
  if (keyMatches(header)) return keyBucket(header);
  return `ip:${normalizeIP(request.ip)}`;
}

function keyBucket(header: string | undefined): string {
  return `key:${sha256(bearerToken(header)).toString('base64url')}`;
}

/** Valid header values whose bucket is remembered (see KNOWN_VALID_HEADERS_MAX in auth.ts). */
const KNOWN_BUCKETS_MAX = 16;

/**
 * rateLimitKey with the digest of each valid header remembered: the client's every request
 * costs a map lookup, not a SHA-256. Only headers `keyMatches` accepted are remembered (at most
 * KNOWN_BUCKETS_MAX; past it, the digest is computed each time), so made-up keys cannot fill it.
 */
export function createRateLimitKey(keyMatches: RateLimitOptions['keyMatches']): (request: FastifyRequest) => string {
  const buckets = new Map<string, string>();
  return (request) => {
    const header = request.headers.authorization;
    if (header === undefined || !keyMatches(header)) return `ip:${normalizeIP(request.ip)}`;
    let bucket = buckets.get(header);
    if (bucket === undefined) {
      bucket = keyBucket(header);
      if (buckets.size < KNOWN_BUCKETS_MAX) buckets.set(header, bucket);
    }
    return bucket;
  };
}

/**
 * Rate-limit every route of `scope` (call it inside a registered plugin). In memory, so the
 * limit is per API process. The hook runs at onRequest, before the routes' own hooks: a client
 * with no key or a wrong one is limited too, before the body is read. A callback hook over a
 * FixedWindowLimiter: @fastify/rate-limit's chain of promises and three x-ratelimit-* headers
 * per request cost more than the rest of the check, and none of them is in the contract.
 */
export function registerRateLimit(scope: FastifyInstance, options: RateLimitOptions): void {
  const limiter = new FixedWindowLimiter({ max: options.max, windowMs: options.windowMs });
  const bucketOf = createRateLimitKey(options.keyMatches);
  scope.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const bucket = bucketOf(request);
    const waitMs = limiter.hit(bucket);
    if (waitMs === 0) return done();
    // Which kind of client, never the key (not even its digest).
    request.log.info({ limitedBy: bucket.startsWith('key:') ? 'api-key' : 'ip' }, 'Rate limit exceeded');
    done(new RateLimitedError(Math.ceil(waitMs / 1000)));
  });
}
