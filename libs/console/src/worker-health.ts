import { z } from 'zod';

/** What a worker's /healthz said, or why it could not be asked. */
export type HealthVerdict =
  | { kind: 'unknown' }
  | { kind: 'answered'; ok: boolean; status: string }
  | { kind: 'unreachable'; detail: string };

const HealthBody = z.object({ status: z.string().max(100) }).passthrough();

/**
 * GET <base>/healthz within the timeout. The worker answers 200 {"status":"ok"} when its loop
 * makes progress and 503 with "stuck", "stopped", "starting" or "redis-unanswered" otherwise.
 */
export async function fetchHealth(baseUrl: string | undefined, timeoutMs: number): Promise<HealthVerdict> {
  if (!baseUrl) return { kind: 'unknown' };
  try {
    const res = await fetch(new URL('/healthz', baseUrl), { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    const parsed = HealthBody.safeParse(await res.json());
    const status = parsed.success ? parsed.data.status : `HTTP ${res.status}`;
    return { kind: 'answered', ok: res.status === 200, status };
  } catch (err) {
    const detail = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'connection failed';
    return { kind: 'unreachable', detail };
  }
}

/**
 * Parse CONSOLE_WORKER_URLS: `name=url` pairs separated by commas, naming each consumer (its
 * CONSUMER_NAME) and the base URL of its health port. Returns an error message naming the
 * bad pair instead of throwing, so the app can name the variable.
 */
export function parseWorkerUrls(text: string): { urls: Map<string, string> } | { error: string } {
  const urls = new Map<string, string>();
  for (const pair of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    const name = eq > 0 ? pair.slice(0, eq).trim() : '';
    const url = eq > 0 ? pair.slice(eq + 1).trim() : '';
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!name || !parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      return { error: `expected consumer=http://host:port pairs separated by commas, got "${pair}"` };
    }
    urls.set(name, url);
  }
  return { urls };
}
