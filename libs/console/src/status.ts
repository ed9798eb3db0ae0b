/** One reading of the pipeline, taken by the sampler every few seconds. */
export interface Sample {
  at: number;
  redis: 'ok' | 'unreachable';
  database: 'writable' | 'read-only' | 'unreachable';
  groupExists: boolean;
  lag: number | null;
  pending: number;
  oldestPendingAgeMs: number | undefined;
  deadLetters: number;
  consumers: number;
  /** Consumers that read or claimed within the dead-consumer threshold. */
  liveConsumers: number;
}

export type StatusLevel = 'ok' | 'warning' | 'critical';

/** The plain-words line at the top of the overview; `level` is also spelt out on the page. */
export interface StatusLine {
  level: StatusLevel;
  text: string;
}

export interface StatusRules {
  /** Lag growing at least this long is "falling behind". */
  fallingBehindAfterMs: number;
  /** An entry pending longer than this is "stuck". */
  stuckPendingMs: number;
  /** New dead letters within this window are reported. */
  deadLetterWindowMs: number;
}

export const DEFAULT_STATUS_RULES: StatusRules = Object.freeze({
  fallingBehindAfterMs: 5 * 60_000,
  stuckPendingMs: 5 * 60_000,
  deadLetterWindowMs: 15 * 60_000,
});

/** "10:42 UTC": the page is read by people in many zones, and logs are in UTC. */
export function clockTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`;
}

export function minutes(ms: number): string {
  const m = Math.floor(ms / 60_000);
  return m < 1 ? 'under a minute' : `${m} min`;
}

/** The start of the current run of samples (newest last) for which `holds` is true. */
function trueSince(history: readonly Sample[], holds: (s: Sample) => boolean): number | undefined {
  let since: number | undefined;
  for (let i = history.length - 1; i >= 0; i--) {
    const s = history[i] as Sample;
    if (!holds(s)) break;
    since = s.at;
  }
  return since;
}

/**
 * How long the lag has been growing: back from now to the earliest sample below today's lag
 * with no sample in between lower than it and none higher than today's. An oscillating lag
 * breaks the run; a steady climb keeps it.
 */
export function lagGrowingForMs(history: readonly Sample[]): number {
  const now = history[history.length - 1];
  if (!now || now.lag === null) return 0;
  let start: Sample | undefined;
  let lowestAfter = now.lag;
  for (let i = history.length - 2; i >= 0; i--) {
    const s = history[i] as Sample;
    if (s.lag === null || s.lag > now.lag) break;
    // Strictly below every later sample: a flat stretch before the climb is not part of it.
    if (s.lag < lowestAfter) start = s;
    lowestAfter = Math.min(lowestAfter, s.lag);
  }
  return start ? now.at - start.at : 0;
}

/** Dead letters added within the window: the count now minus the oldest sample inside it. */
function newDeadLetters(history: readonly Sample[], windowMs: number): { added: number; overMs: number } {
  const now = history[history.length - 1];
  const first = history.find((s) => now !== undefined && now.at - s.at <= windowMs && s.redis === 'ok');
  if (!now || !first || first === now) return { added: 0, overMs: 0 };
  return { added: Math.max(0, now.deadLetters - first.deadLetters), overMs: now.at - first.at };
}

/** The status line from the samples so far (oldest first, the newest one is now). First rule that holds wins. */
export function statusLine(history: readonly Sample[], rules: StatusRules = DEFAULT_STATUS_RULES): StatusLine {
  const now = history[history.length - 1];
  if (!now) return { level: 'warning', text: 'no reading yet' };
  if (now.redis === 'unreachable') {
    return { level: 'critical', text: `Redis not answering since ${clockTime(trueSince(history, (s) => s.redis === 'unreachable') ?? now.at)}` };
  }
  if (now.database === 'unreachable') {
    return { level: 'critical', text: `database not answering since ${clockTime(trueSince(history, (s) => s.database === 'unreachable') ?? now.at)}` };
  }
  if (now.database === 'read-only') {
    return { level: 'critical', text: `database refusing writes since ${clockTime(trueSince(history, (s) => s.database === 'read-only') ?? now.at)}` };
  }
  if (!now.groupExists) return { level: 'warning', text: 'no consumer group yet: no worker has started on this stream' };
  const waiting = (now.lag ?? 0) + now.pending;
  if (waiting > 0 && now.liveConsumers === 0) {
    return { level: 'critical', text: `no live consumer: ${waiting} entries waiting` };
  }
  const growing = lagGrowingForMs(history);
  if (growing >= rules.fallingBehindAfterMs) return { level: 'warning', text: `falling behind: lag growing for ${minutes(growing)}` };
  if (now.oldestPendingAgeMs !== undefined && now.oldestPendingAgeMs >= rules.stuckPendingMs) {
    return { level: 'warning', text: `stuck: the oldest pending entry has waited ${minutes(now.oldestPendingAgeMs)}` };
  }
  const dead = newDeadLetters(history, rules.deadLetterWindowMs);
  if (dead.added > 0) return { level: 'warning', text: `dead letters arriving: ${dead.added} in the last ${minutes(dead.overMs)}` };
  return { level: 'ok', text: 'healthy' };
}
