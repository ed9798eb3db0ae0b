import autocannon from 'autocannon';
import { monotonicFactory } from 'ulid';
import { clientSession } from '@fuel-code/testing';

/** The route both targets serve (apps/api's INGEST_PATH). */
export const INGEST_PATH = '/api/events/ingest';

/* The load of `--api`: autocannon, one client-shaped event per request, each with a fresh id. */

export interface LoadResult {
  seconds: number;
  requestsPerSecond: number;
  /** Responses by class; `errors` are connection errors and timeouts (no response). */
  ok2xx: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Bodies as the fuel-code client posts them: `{"events":[<one envelope>]}`, cycling through
 * the event types of a whole client session. Each template is split around its id so a body
 * costs the load generator one string concatenation, and every request carries an id never
 * sent before (the API must publish each one: no duplicate shortcut).
 */
export function bodyFactory(): () => string {
  const nextId = monotonicFactory();
  const session = clientSession({
    sessionId: 'bench-session-1',
    workspaceId: 'github.com/bench/api',
    device: { id: 'bench-device-1', name: 'bench', type: 'local' },
    startAt: new Date('2025-01-01T00:00:00Z'),
  });
  const marker = '__BENCH_EVENT_ID__';
  const templates = session.map((event) => JSON.stringify({ events: [{ ...event, id: marker }] }).split(marker));
  let i = 0;
  return () => {
    const parts = templates[i++ % templates.length] ?? [];
    return `${parts[0] ?? ''}${nextId()}${parts[1] ?? ''}`;
  };
}

/**
 * The API closes a kept-alive socket after this many requests (maxRequestsPerSocket in
 * apps/api/src/limits.ts) and answers 503 to any later request on it. A real client opens a new
 * connection on the `Connection: close`; autocannon does not, so it is told to reconnect after
 * this many requests (both targets alike, so the comparison stays fair). autocannon drops the
 * answer that triggers the reconnect from its counts: 0.1% fewer requests counted, on both
 * targets; the stream check then shows those events as stored but not counted.
 */
export const REQUESTS_PER_CONNECTION = 1_000;

export interface LoadOptions {
  url: string;
  apiKey: string;
  connections: number;
  seconds: number;
  nextBody: () => string;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(
      {
        url: o.url,
        connections: o.connections,
        duration: o.seconds,
        timeout: 10,
        reconnectRate: REQUESTS_PER_CONNECTION,
        requests: [
          {
            method: 'POST',
            path: INGEST_PATH,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${o.apiKey}` },
            setupRequest: (request) => ({ ...request, body: o.nextBody() }),
          },
        ],
      },
      (err, r) => (err ? reject(err) : resolve(r)),
    );
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  const answered = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  return {
    seconds: result.duration,
    requestsPerSecond: Math.round(answered / result.duration),
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
  };
}
