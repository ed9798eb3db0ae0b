import { createHash, timingSafeEqual } from 'node:crypto';

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The token of an `Authorization: Bearer <token>` header; '' when absent or another scheme. */
export function bearerToken(header: string | undefined): string {
  const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1] ?? '';
}

/**
 * A constant-time check of the Authorization header against the API key. Both sides are
 * hashed first so every presented key, whatever its length (or none), goes through the
 * same 32-byte comparison: timingSafeEqual alone would throw on a length mismatch and
 * leak the key's length through the early exit.
 */
export function createKeyCheck(apiKey: string): (authorizationHeader: string | undefined) => boolean {
  if (apiKey === '') throw new Error('an empty API key would let an absent header match');
  const expected = sha256(apiKey);
  return (header) => timingSafeEqual(sha256(bearerToken(header)), expected);
}
