import { catchUpRule, type ActionRecord } from './actions';
import { QUIET_FAULTS, type QuietFault } from './faults';
import type { DataFacts } from './verify';
import type { ChaosResult } from './run-chaos';
import type { Check } from './verify';
import { POISON_KINDS } from './workload';

/** The human report of a chaos run; its last line is `chaos: N passed, M failed`. */

const s = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
const caught = (a: ActionRecord) =>
  a.error ? '-' : a.catchUpMs === undefined ? 'never' : `${s(a.catchUpMs)}${a.overlappedBy ? ` (overlapped by the next ${a.overlappedBy} action${a.overlappedBy > 1 ? 's' : ''})` : ''}`;

export function printChecks(checks: Check[], out: (line: string) => void): void {
  out('checks:');
  for (const c of checks) out(`  ${c.ok ? 'PASS' : 'FAIL'}  ${c.name}\n        ${c.detail}`);
  const failed = checks.filter((c) => !c.ok).length;
  out(`chaos: ${checks.length - failed} passed, ${failed} failed`);
}

/** Dead letters of non-poison entries written from the fault's start until 30 s after it ended. */
function outageDeadLetters(a: ActionRecord, f: DataFacts | undefined): string {
  if (!f) return 'dead letters not read';
  const to = (a.endedAtMs ?? a.startedAtMs) + 30_000;
  const n = f.deadLetters.filter((d) => !f.poisonEntries.has(d.streamId) && Date.parse(d.failedAt) >= a.startedAtMs && Date.parse(d.failedAt) <= to).length;
  return `${n} dead letters of events to store in [start, end + 30 s]`;
}

export function printReport(r: ChaosResult, out: (line: string) => void): void {
  const w = r.workload;
  const count = (kind: string) => w.items.filter((i) => i.kind === kind).length;
  out('');
  out(`==== chaos report — ${r.options.short ? '--short' : 'full'} run, seed ${r.options.seed} ====`);
  const p = r.producer;
  const as = new Map<string, number>();
  for (const v of w.storedAs.values()) as.set(v, (as.get(v) ?? 0) + 1);
  const types = new Set([...w.valid.values()].map((e) => e.type));
  out(`events: ${w.items.length} published — ${w.valid.size} to store (${types.size} types; ${[...as].map(([k, n]) => `${k} ${n}`).join(', ')}; ` +
    `${w.items.filter((i) => i.kind === 'valid' && i.fields).length} in the fields format), ${count('duplicate')} deliberate re-publishes, ` +
    `${w.poison.length} poison (${POISON_KINDS.map((k) => `${k} ${count(k)}`).join(', ')})`);
  if (p) {
    out(`  via the API: ${p.viaApi} (${p.apiRequests} requests, ${p.api503} answered 503, ${p.api429} answered 429, ${p.apiNetworkErrors} network errors)`);
    out(`  direct XADD: ${p.viaDirect} (${p.directPipelines} pipelines, ${p.redisErrors} with Redis errors), of which ${p.rejectedByApiThenDirect} schema poison first rejected by the API`);
    const routes = [...p.routes].filter(([k]) => k !== 'valid' && k !== 'duplicate');
    out(`  poison went: ${routes.map(([k, r]) => `${k} api ${r.api} / direct ${r.direct}${r.rejectedThenDirect ? ` / rejected by the API then direct ${r.rejectedThenDirect}` : ''}`).join('; ')}`);
    out(`  re-published after a failure that may have written anyway: ${p.retriedItems} items; publishing took ${s(p.finishedAt - p.startedAt)}`);
  }
  const kills = r.actions.filter((a) => a.kind.startsWith('kill'));
  out(`kills: ${kills.length}`);
  for (const a of kills) out(`  [${a.at.toFixed(1)}s] ${a.detail || a.error}; caught up ${caught(a)}`);
  out('outages:');
  const quiet = (a: ActionRecord) => QUIET_FAULTS.includes(a.kind as QuietFault);
  for (const a of r.actions.filter((x) => !x.kind.startsWith('kill') && !quiet(x))) {
    out(`  [${a.at.toFixed(1)}s] ${a.detail || `${a.kind}: ${a.error}`}; caught up ${caught(a)} after it ended`);
  }
  out('quiet faults (catch-up counted from the fault being lifted; silent Redis: from the proxy restore, after the fleet healed by itself):');
  for (const a of r.actions.filter(quiet)) {
    out(`  [${a.at.toFixed(1)}s] ${a.kind}: ${a.detail || a.error}; caught up ${caught(a)} after it ended; ${outageDeadLetters(a, r.facts)}`);
  }
  const measured = r.actions.filter((a) => a.catchUpMs !== undefined);
  const clean = measured.filter((a) => a.overlappedBy === 0);
  const max = (xs: ActionRecord[]) => xs.reduce<ActionRecord | undefined>((m, a) => (!m || (m.catchUpMs ?? 0) < (a.catchUpMs ?? 0) ? a : m), undefined);
  const describe = (a: ActionRecord | undefined) => (a ? `${s(a.catchUpMs)} (after the ${a.kind} at ${a.at.toFixed(1)}s)` : '-');
  out(`longest catch-up: ${describe(max(measured))}; without overlap by a later action: ${describe(max(clean))}` +
    (r.actions.some((a) => !a.error && a.catchUpMs === undefined) ? ' — some never caught up' : ''));
  out(`  rule: ${catchUpRule(r.lagThreshold)}`);
  const f = r.facts;
  if (f) {
    const dupEntries = f.validEntries - f.validDistinct;
    out(`duplicates: ${f.validEntries} stream entries carried ${f.validDistinct} valid ids → ${dupEntries} duplicate entries (${count('duplicate')} deliberate, ${dupEntries - count('duplicate')} from retried publishes); ${f.rows} rows → ${f.validEntries - f.rows} absorbed`);
    if (r.logs) out(`  workers' own counts (last "Consumer stats" line of each process; a killed one's count since its last line is lost): ${r.logs.reportedProcessed} processed, ${r.logs.reportedDuplicates} duplicates`);
    const reasons = new Map<string, number>();
    const attempts = new Map<string, number>();
    for (const d of f.deadLetters) {
      reasons.set(d.reason, (reasons.get(d.reason) ?? 0) + 1);
      if (d.reason === 'failed') attempts.set(d.attempts, (attempts.get(d.attempts) ?? 0) + 1);
    }
    out(`dead letters: ${f.deadLetters.length} — ${[...reasons].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}; failed ones by attempts: ${[...attempts].map(([k, n]) => `${k}×${n}`).join(', ') || '-'}`);
  }
  const workers = r.procs.filter((x) => x.role === 'worker');
  out(`processes: ${workers.length} workers started (${workers.filter((x) => x.killedByUs).length} kill -9ed), exits: ${r.procs.map((x) => `${x.name}=${x.exit ? (x.exit.signal ?? x.exit.code) : 'running'}`).join(' ')}`);
  if (r.logs) {
    const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, n]) => `    ${n}× ${k}`);
    if (r.logs.errors.size) out(['  error lines in the logs:', ...top(r.logs.errors)].join('\n'));
    if (r.logs.warnings.size) out(['  warn lines in the logs:', ...top(r.logs.warnings)].join('\n'));
  }
  if (r.artifacts) out(`logs and backlog samples: ${r.artifacts}`);
  const t = r.timings;
  out(`timings: setup ${s(t.setupMs)}, publish ${s(t.publishMs)}, chaos ${s(t.chaosMs)}, drain ${s(t.drainMs)}, verify ${s(t.verifyMs)}, total ${s(t.totalMs)}`);
}
