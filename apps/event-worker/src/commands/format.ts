import type { DeadLetterRecord, ReplayOutcome, StreamStatus } from '@fuel-code/stream';

/** Plain-text table: left-aligned columns, numbers right-aligned, two spaces between. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  return cells
    .map((r) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd())
    .join('\n');
}

/** 1234 → "1.2s", 90_000 → "1m30s", 7_200_000 → "2h0m". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.floor((ms % 60_000) / 1000)}s`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)}h${Math.floor((ms % 3_600_000) / 60_000)}m`;
  return `${Math.floor(ms / 86_400_000)}d${Math.floor((ms % 86_400_000) / 3_600_000)}h`;
}

/** One line of text at most `max` characters: control characters escaped, "…" when cut. */
export function preview(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const oneLine = text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

export const PREVIEW_CHARS = 80;

export function statusJson(s: StreamStatus) {
  return {
    stream: s.stream,
    exists: s.exists,
    length: s.length,
    groups: s.groups.map((g) => ({
      name: g.name,
      lag: g.lag,
      pending: g.pending,
      last_delivered_id: g.lastDeliveredId,
      entries_read: g.entriesRead,
      oldest_pending_id: g.oldestPendingId ?? null,
      consumers: g.consumerList.map((c) => ({ name: c.name, pending: c.pending, idle_ms: c.idleMs })),
    })),
    dead_letter_stream: s.deadLetterStream,
    dead_letters: s.deadLetters,
  };
}

export function formatStatus(s: StreamStatus): string {
  const lines = [`Stream ${s.stream}: ${s.exists ? `${s.length} entries` : 'does not exist yet'}`];
  lines.push(`Dead letters (${s.deadLetterStream}): ${s.deadLetters}`, '');
  if (s.groups.length === 0) {
    lines.push('No consumer groups.');
    return lines.join('\n');
  }
  lines.push(
    table(
      ['GROUP', 'LAG', 'PENDING', 'OLDEST PENDING', 'LAST DELIVERED', 'CONSUMERS'],
      s.groups.map((g) => [g.name, g.lag ?? 'unknown', g.pending, g.oldestPendingId ?? '-', g.lastDeliveredId, g.consumers]),
    ),
  );
  for (const g of s.groups) {
    lines.push('', `Consumers of ${g.name}:`);
    if (g.consumerList.length === 0) lines.push('  (none)');
    else lines.push(table(['CONSUMER', 'PENDING', 'IDLE'], g.consumerList.map((c) => [c.name, c.pending, formatDuration(c.idleMs)])));
  }
  return lines.join('\n');
}

export function deadLetterJson(r: DeadLetterRecord) {
  return {
    id: r.id,
    stream_id: r.streamId,
    reason: r.reason,
    error: r.error,
    attempts: r.attempts ?? null,
    consumer: r.consumer,
    failed_at: r.failedAt,
    payload_bytes: r.event.length,
    payload_preview: preview(r.event.toString('utf8'), PREVIEW_CHARS),
  };
}

export function formatDeadLetters(stream: string, total: number, records: readonly DeadLetterRecord[]): string {
  if (total === 0) return `No dead letters in ${stream}.`;
  const head = `${total} dead letter${total === 1 ? '' : 's'} in ${stream}${records.length < total ? ` (oldest ${records.length} shown; --limit for more)` : ''}`;
  const rows = records.map((r) => [
    r.id,
    r.streamId,
    r.reason,
    r.attempts ?? '-',
    r.failedAt,
    preview(r.error, 50),
    r.event.length === 0 ? '(empty)' : preview(r.event.toString('utf8'), 60),
  ]);
  return `${head}\n\n${table(['ID', 'STREAM ID', 'REASON', 'ATTEMPTS', 'FAILED AT', 'ERROR', 'PAYLOAD'], rows)}`;
}

export function replayJson(outcomes: readonly ReplayOutcome[], dryRun: boolean) {
  return {
    dry_run: dryRun,
    outcomes: outcomes.map((o) => ({
      id: o.id,
      status: o.status,
      ...('streamId' in o ? { stream_id: o.streamId } : {}),
      ...(o.status === 'replayed' ? { new_id: o.newId } : {}),
      ...(o.status === 'skipped' ? { reason: o.reason } : {}),
      ...(o.status === 'failed' ? { error: o.error } : {}),
    })),
  };
}

export function formatReplay(outcomes: readonly ReplayOutcome[], target: string, dryRun: boolean): string {
  const lines = outcomes.map((o) => {
    switch (o.status) {
      case 'replayed':
        return `replayed   ${o.id} (stream id ${o.streamId}) → ${target} ${o.newId}`;
      case 'would-replay':
        return `would replay ${o.id} (stream id ${o.streamId}) → ${target}`;
      case 'skipped':
        return `skipped    ${o.id} (stream id ${o.streamId}): ${o.reason}`;
      case 'not-found':
        return `not found  ${o.id}`;
      case 'failed':
        return `FAILED     ${o.id} (stream id ${o.streamId}): ${o.error}; stopped, the rest is left in place`;
    }
  });
  const count = (status: ReplayOutcome['status']) => outcomes.filter((o) => o.status === status).length;
  lines.push(
    dryRun
      ? `Dry run: ${count('would-replay')} would be replayed, ${count('skipped')} skipped, ${count('not-found')} not found. Nothing was changed.`
      : `Replayed ${count('replayed')}, skipped ${count('skipped')}, not found ${count('not-found')}, failed ${count('failed')}.`,
  );
  return lines.join('\n');
}
