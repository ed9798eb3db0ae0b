import type { ApiBenchOptions } from './api-args';
import type { LoadResult } from './api-load';
import type { StreamCheck } from './api-stream-check';
import { fmt, fmtInt, fmtRatio, table } from './report';

/* Figures and goal of `--api`: the text for stdout and the `api` section of BENCH_JSON. */

/** The goal of issue 15: our route keeps at least half the bare route's pace, and a short tail. */
export const GOAL_MIN_RATIO = 0.5;
export const GOAL_MAX_P99_MS = 15;

export interface ApiWindow extends LoadResult {
  kind: 'bare' | 'ours';
  round: number;
  busyBeforePct: number | null;
  /** Lines the target logged during the window. */
  logLines: number;
  /** The target process's CPU time (user + system) in the window ÷ requests answered, in µs. */
  cpuUsPerRequest: number | null;
  /** The target process's CPU time in the window as % of one CPU. */
  cpuPct: number | null;
}

export interface ApiSummary {
  options: ApiBenchOptions;
  windows: ApiWindow[];
  /** 202s our API gave, warm-ups included. */
  accepted: number;
  stored: StreamCheck;
  loadAvgAtStart: number;
  loadAvgAtEnd: number;
  bareRps: number;
  oursRps: number;
  ratio: number;
  /** Means of the rounds' CPU µs per request (null without /proc). */
  bareCpuUsPerRequest: number | null;
  oursCpuUsPerRequest: number | null;
  /** The worst p99 of our windows. */
  oursP99Ms: number;
  /** Accepted events missing from the stream (202 count − entries, when positive). */
  lost: number;
  goalMet: boolean;
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

function meanCpu(windows: readonly ApiWindow[]): number | null {
  const xs = windows.map((w) => w.cpuUsPerRequest).filter((x): x is number => x !== null);
  return xs.length === 0 ? null : Math.round(mean(xs));
}

export function summarizeApi(
  windows: ApiWindow[],
  o: { accepted: number; stored: StreamCheck; loadAvgAtStart: number; loadAvgAtEnd: number; options: ApiBenchOptions },
): ApiSummary {
  const ours = windows.filter((w) => w.kind === 'ours');
  const bareRps = Math.round(mean(windows.filter((w) => w.kind === 'bare').map((w) => w.requestsPerSecond)));
  const oursRps = Math.round(mean(ours.map((w) => w.requestsPerSecond)));
  const ratio = bareRps > 0 ? oursRps / bareRps : 0;
  const oursP99Ms = Math.max(0, ...ours.map((w) => w.p99Ms));
  const lost = Math.max(0, o.accepted - o.stored.entries);
  const clean = ours.every((w) => w.non2xx === 0 && w.errors === 0) && lost === 0 && o.stored.duplicateEntries === 0;
  const bareCpuUsPerRequest = meanCpu(windows.filter((w) => w.kind === 'bare'));
  const oursCpuUsPerRequest = meanCpu(ours);
  return { ...o, windows, bareRps, oursRps, ratio, bareCpuUsPerRequest, oursCpuUsPerRequest, oursP99Ms, lost, goalMet: clean && ratio >= GOAL_MIN_RATIO && oursP99Ms <= GOAL_MAX_P99_MS };
}

export function renderApiReport(s: ApiSummary): { text: string; json: Record<string, unknown> } {
  const out: string[] = [];
  const { options: o } = s;
  out.push('');
  out.push(`fuel-code bench --api — ${o.connections} connections, one client-shaped event per request (a new id each), ${o.warmupSeconds} s warm-up + ${o.durationSeconds} s measured per window`);
  out.push(`load average ${s.loadAvgAtStart} at start, ${s.loadAvgAtEnd} at end; busy before % = CPU busy just before the window, the bench idle`);
  out.push('CPU µs/req, CPU % = the target process\'s own CPU time (user + system) in the window, per answered request and as % of one CPU');
  out.push('');
  out.push(
    table(
      ['round', 'target', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', '2xx', 'non-2xx', 'errors', 'CPU µs/req', 'CPU %', 'log lines/req', 'busy before %'],
      s.windows.map((w) => [
        String(w.round),
        w.kind === 'bare' ? 'bare fastify 202' : 'POST /api/events/ingest',
        fmtInt(w.requestsPerSecond),
        fmt(w.p50Ms, 0),
        fmt(w.p90Ms, 0),
        fmt(w.p99Ms, 0),
        fmt(w.maxMs, 0),
        fmtInt(w.ok2xx),
        fmtInt(w.non2xx),
        fmtInt(w.errors),
        fmtInt(w.cpuUsPerRequest),
        fmtInt(w.cpuPct),
        fmt(w.ok2xx + w.non2xx > 0 ? w.logLines / (w.ok2xx + w.non2xx) : null, 2),
        fmt(w.busyBeforePct, 0),
      ]),
    ),
  );
  out.push('');
  out.push(`ours / bare: ${fmtInt(s.oursRps)} / ${fmtInt(s.bareRps)} req/s (means of the rounds) = ${fmtRatio(s.ratio)}; worst p99 of ours ${fmt(s.oursP99Ms, 0)} ms`);
  const cpuRatio = s.bareCpuUsPerRequest && s.oursCpuUsPerRequest ? ` = ${fmtRatio(s.oursCpuUsPerRequest / s.bareCpuUsPerRequest)}` : '';
  out.push(`CPU per request, ours / bare: ${fmtInt(s.oursCpuUsPerRequest)} / ${fmtInt(s.bareCpuUsPerRequest)} µs (means of the rounds)${cpuRatio}`);
  out.push(
    `stream: ${fmtInt(s.accepted)} events accepted (202, warm-ups included), ${fmtInt(s.stored.entries)} entries, ${fmtInt(s.stored.distinctIds)} distinct ids, ` +
      `${fmtInt(s.stored.duplicateEntries)} written twice, ${fmtInt(s.lost)} accepted but missing` +
      (s.stored.entries > s.accepted ? ` (${fmtInt(s.stored.entries - s.accepted)} stored whose answer was not counted: in flight when a window ended)` : ''),
  );
  out.push(
    `goal: ≥ ${GOAL_MIN_RATIO}× the bare route and p99 ≤ ${GOAL_MAX_P99_MS} ms at ${o.connections} connections, every 202 stored once, no non-2xx — ${s.goalMet ? 'MET' : 'NOT MET'}`,
  );
  const json = {
    options: o,
    windows: s.windows,
    bareRps: s.bareRps,
    oursRps: s.oursRps,
    ratio: Math.round(s.ratio * 1000) / 1000,
    bareCpuUsPerRequest: s.bareCpuUsPerRequest,
    oursCpuUsPerRequest: s.oursCpuUsPerRequest,
    oursP99Ms: s.oursP99Ms,
    accepted: s.accepted,
    stream: s.stored,
    lost: s.lost,
    loadAvgAtStart: s.loadAvgAtStart,
    loadAvgAtEnd: s.loadAvgAtEnd,
    goal: { minRatio: GOAL_MIN_RATIO, maxP99Ms: GOAL_MAX_P99_MS, met: s.goalMet },
  };
  return { text: out.join('\n'), json };
}
