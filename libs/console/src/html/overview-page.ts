import type { HourlyDeadLetters } from '../read/dead-letter-stats';
import type { MinuteCount } from '../read/database';
import type { StreamState, StreamTarget } from '../read/stream-state';
import type { StatusLine } from '../status';
import { formatCount, formatDuration, formatTime, html, SafeHtml } from './html';
import { badge, page, type PageOptions } from './layout';

export interface OverviewData {
  target: StreamTarget;
  /** Undefined when Redis did not answer. */
  state: StreamState | undefined;
  liveConsumers: number;
  status: StatusLine;
  /** Undefined when PostgreSQL did not answer. */
  perMinute: MinuteCount[] | undefined;
  deadPerHour: HourlyDeadLetters | undefined;
}

const LEVEL_WORD = { ok: 'OK', warning: 'WARNING', critical: 'CRITICAL' } as const;

function figures(d: OverviewData): SafeHtml {
  const s = d.state;
  if (!s) return html`<p class="unavailable">Redis did not answer: stream figures unavailable.</p>`;
  const rows: [string, string, string][] = [
    ['Stream length', formatCount(s.length), `entries in ${d.target.stream}`],
    ['Group lag', s.groupExists ? formatCount(s.lag) : 'no group', `not yet delivered to ${d.target.group}`],
    ['Pending', formatCount(s.pending), 'delivered, not yet acknowledged'],
    ['Oldest pending', s.oldestPendingAgeMs === undefined ? 'none' : formatDuration(s.oldestPendingAgeMs), 'since it entered the stream'],
    ['Dead letters', formatCount(s.deadLetters), `in ${d.target.deadLetterStream}`],
    ['Consumers', `${formatCount(d.liveConsumers)} live of ${formatCount(s.consumers)}`, 'read or claimed recently'],
  ];
  return html`<dl class="figures">${rows.map(
    ([label, value, help]) => html`<div><dt>${label}</dt><dd><span class="value" data-figure="${label}">${value}</span><span class="help">${help}</span></dd></div>`,
  )}</dl>`;
}

function eventsChart(perMinute: MinuteCount[] | undefined): SafeHtml {
  if (!perMinute) return html`<p class="unavailable">PostgreSQL did not answer: no chart.</p>`;
  const total = perMinute.reduce((n, m) => n + m.count, 0);
  const data = JSON.stringify({ x: perMinute.map((m) => m.minute / 1000), y: perMinute.map((m) => m.count) });
  // JSON in a non-executed script element: read by console.js, allowed by the CSP. '<' is
  // escaped so the data can never close the element.
  return html`<figure class="chart">
<div id="events-chart" role="img" aria-label="Events stored per minute over the last hour: ${formatCount(total)} in total"></div>
<script type="application/json" id="events-per-minute">${new SafeHtml(data.replace(/</g, '\\u003c'))}</script>
<figcaption>${formatCount(total)} events stored in the last hour (per minute, by ingest time)</figcaption>
<details><summary>As a table</summary><table><thead><tr><th>Minute</th><th>Events</th></tr></thead><tbody>
${perMinute.filter((m) => m.count > 0).map((m) => html`<tr><td>${formatTime(m.minute)}</td><td class="num">${formatCount(m.count)}</td></tr>`)}
</tbody></table></details>
</figure>`;
}

function deadLetterHours(h: HourlyDeadLetters | undefined): SafeHtml {
  if (!h) return html`<p class="unavailable">Redis did not answer: no dead-letter counts.</p>`;
  const reasons = [...h.byReason.keys()].sort();
  const rows = h.hours
    .map((hour, i) => ({ hour, counts: reasons.map((r) => h.byReason.get(r)?.[i] ?? 0) }))
    .filter((r) => r.counts.some((c) => c > 0))
    .reverse();
  if (rows.length === 0) return html`<p>No dead letters in the last ${h.hours.length} hours.</p>`;
  return html`<table class="dead-per-hour"><thead><tr><th>Hour</th>${reasons.map((r) => html`<th>${r}</th>`)}<th>Total</th></tr></thead><tbody>
${rows.map(
  (r) => html`<tr><td>${formatTime(r.hour).slice(0, 16)}</td>${r.counts.map((c) => html`<td class="num">${formatCount(c)}</td>`)}<td class="num">${formatCount(r.counts.reduce((a, b) => a + b, 0))}</td></tr>`,
)}
</tbody></table>
${h.truncated ? html`<p class="note">Counted the newest ${formatCount(h.scanned)} dead letters only; older hours may be higher.</p>` : ''}`;
}

export function overviewPage(d: OverviewData, o: Pick<PageOptions, 'nav' | 'flash'>): string {
  return page(
    { ...o, title: 'Overview', refreshSeconds: 15, chart: true },
    html`<p class="status status-${d.status.level}" role="status" id="status-line">${badge(d.status.level, LEVEL_WORD[d.status.level])} <span class="status-text">${d.status.text}</span></p>
${figures(d)}
<h2>Events stored per minute</h2>
${eventsChart(d.perMinute)}
<h2>Dead letters per hour, by reason</h2>
${deadLetterHours(d.deadPerHour)}
<p class="note">Refreshes every 15 s. Times are UTC.</p>`,
  );
}
