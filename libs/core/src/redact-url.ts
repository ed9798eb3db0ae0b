/*
 * Connection URLs carry passwords: in the userinfo, and in query parameters (libpq takes
 * `?password=`, `?sslpassword=`). Everything that prints a DATABASE_URL or REDIS_URL prints
 * it through redactUrl.
 */

const MASK = '***';

/** Query parameters whose value is (or may be) a secret; over-masking is harmless. */
const SECRET_PARAM = /pass|pwd|secret|token|key|auth|credential/i;

/**
 * The URL as WHATWG parses it, but only when that parse agrees with where the host begins:
 * after the value's last '@'. A password with an unencoded '/', '?' or '#' (`u:ab/cd@host`)
 * either fails to parse or parses with part of the password as the host, port or path.
 */
export function parseUrlFaithfully(value: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const at = value.lastIndexOf('@');
  if (at === -1) return url.username === '' && url.password === '' ? url : undefined;
  const afterAt = value.slice(at + 1).toLowerCase();
  const hasUserinfo = url.username !== '' || url.password !== '';
  return hasUserinfo && url.host !== '' && afterAt.startsWith(url.host.toLowerCase()) ? url : undefined;
}

function maskParsed(url: URL): string {
  if (url.password !== '') url.password = MASK;
  const secrets = [...url.searchParams.keys()].filter((name) => SECRET_PARAM.test(name));
  for (const name of new Set(secrets)) url.searchParams.set(name, MASK);
  return url.toString();
}

/**
 * For what does not parse faithfully: everything between '://' and the last '@' after the
 * first ':' is the password (an '@' in a query makes this hide more than needed, never
 * less), and secret-looking query parameters are masked as text.
 */
function maskUnparsed(value: string): string {
  const scheme = value.indexOf('://');
  const start = scheme === -1 ? 0 : scheme + 3;
  const at = value.lastIndexOf('@');
  let masked = value;
  if (at >= start) {
    const userinfo = value.slice(start, at);
    const colon = userinfo.indexOf(':');
    if (colon !== -1) masked = `${value.slice(0, start)}${userinfo.slice(0, colon)}:${MASK}${value.slice(at)}`;
  }
  return masked.replace(/([?&;])([^=&;#]*)=([^&;#]*)/g, (whole, sep: string, name: string) =>
    SECRET_PARAM.test(name) ? `${sep}${name}=${MASK}` : whole,
  );
}

/** The URL with its password and secret query parameters replaced by `***`, for logs and errors. */
export function redactUrl(value: string): string {
  const url = parseUrlFaithfully(value);
  return url ? maskParsed(url) : maskUnparsed(value);
}

/** Every occurrence of `url` in `text` redacted (for error messages that echo it). */
export function redactUrlIn(text: string, url: string): string {
  return url === '' ? text : text.split(url).join(redactUrl(url));
}
