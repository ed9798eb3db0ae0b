import { createHash, timingSafeEqual } from 'node:crypto';

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The token of an `Authorization: Bearer <token>` header; '' when absent or another scheme. */
export function bearerToken(header: string | undefined): string {
  const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1] ?? '';
}

/**
 * Distinct header values remembered as valid. A client sends the same header on every request,
 * so a handful covers every spelling in use; past the bound, a new spelling is simply checked
 * in full every time (nothing is evicted, so nobody can push the common one out).
 */
export const KNOWN_VALID_HEADERS_MAX = 16;

/**
 * A constant-time check of the Authorization header against the API key. Both sides are
 * hashed first so every presented key, whatever its length (or none), goes through the
 * same 32-byte comparison: timingSafeEqual alone would throw on a length mismatch and
 * leak the key's length through the early exit.
 *
 * A header value that passed is remembered (at most KNOWN_VALID_HEADERS_MAX), so the client's
 * every request costs a set lookup instead of a SHA-256. Only valid headers are remembered:
 * a wrong or made-up key can neither fill the set nor skip the full check. The API key is
 * fixed for the life of the process, so a remembered header stays valid as long as it does.
 * The lookup compares string contents only after a full (seeded) hash match, so it tells an
 * outsider nothing about the key.
 */
export function createKeyCheck(apiKey: string): (authorizationHeader: string | undefined) => boolean {
  if (apiKey === '') throw new Error('an empty API key would let an absent header match');
  const expected = sha256(apiKey);
  const knownValid = new Set<string>();
  return (header) => {
    if (header === undefined) return false;
    if (knownValid.has(header)) return true;
    const valid = timingSafeEqual(sha256(bearerToken(header)), expected);
    if (valid && knownValid.size < KNOWN_VALID_HEADERS_MAX) knownValid.add(header);
    return valid;
  };
}
