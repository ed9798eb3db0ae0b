import type { SessionRow, TimelineEvent } from '../read/database';
import { formatCount, formatDuration, formatTime, html, type SafeHtml } from './html';
import { page, type PageOptions } from './layout';

type Chrome = Pick<PageOptions, 'nav' | 'flash'>;

function sessionRow(s: SessionRow): SafeHtml {
  return html`<tr data-session="${s.id}"><td><a href="/sessions/${encodeURIComponent(s.id)}">${s.id}</a></td><td>${s.lifecycle}</td><td>${s.workspace}</td><td>${s.device}</td>
<td>${formatTime(s.startedAt)}</td><td>${formatDuration(s.durationMs)}</td><td class="num">${formatCount(s.events)}</td></tr>`;
}

export function sessionListPage(sessions: SessionRow[] | undefined, limit: number, o: Chrome): string {
  const body = !sessions
    ? html`<p class="unavailable">PostgreSQL did not answer: sessions unavailable.</p>`
    : sessions.length === 0
      ? html`<p>No session stored yet.</p>`
      : html`<table class="sessions"><thead><tr><th>Session</th><th>Lifecycle</th><th>Workspace</th><th>Device</th><th>Started</th><th>Duration</th><th>Events</th></tr></thead>
<tbody>${sessions.map(sessionRow)}</tbody></table>`;
  return page({ ...o, title: 'Sessions' }, html`<p>The ${formatCount(limit)} sessions the pipeline saw most recently (read-only).</p>${body}`);
}

const WIDTH = 900;
const HEIGHT = 56;

/**
 * The events as marks on a line from the first to the last event time (SVG: no inline style,
 * so the page's CSP can forbid them). Each mark has its type and time as a tooltip.
 */
function timelineSvg(events: readonly TimelineEvent[]): SafeHtml {
  const times = events.map((e) => e.timestamp.getTime());
  const first = Math.min(...times);
  const span = Math.max(1, Math.max(...times) - first);
  const x = (t: number) => (20 + ((t - first) / span) * (WIDTH - 40)).toFixed(1);
  return html`<svg class="timeline" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="Timeline of ${formatCount(events.length)} events over ${formatDuration(span)}">
<line x1="20" y1="28" x2="${WIDTH - 20}" y2="28" class="axis"/>
${events.map(
  (e) => html`<g class="mark mark-${e.type.split('.')[0] ?? 'other'}"><line x1="${x(e.timestamp.getTime())}" y1="14" x2="${x(e.timestamp.getTime())}" y2="42"/><title>${e.type} at ${formatTime(e.timestamp)}</title></g>`,
)}
<text x="20" y="54" class="tick">${formatTime(first)}</text><text x="${WIDTH - 20}" y="54" class="tick end">+${formatDuration(span)}</text>
</svg>`;
}

export function sessionDetailPage(s: SessionRow, events: TimelineEvent[], limit: number, o: Chrome): string {
  const first = events[0]?.timestamp.getTime();
  const fields: [string, string][] = [
    ['Lifecycle', s.lifecycle],
    ['Workspace', s.workspace],
    ['Device', s.device],
    ['Started', formatTime(s.startedAt)],
    ['Ended', formatTime(s.endedAt)],
    ['Duration', formatDuration(s.durationMs)],
    ['Events stored', formatCount(s.events)],
  ];
  const lifecycle = events.some((e) => e.type === 'session.start') ? 'start stored' : 'no session.start stored';
  const ending = events.some((e) => e.type === 'session.end') ? 'end stored' : 'no session.end stored';
  return page(
    { ...o, title: `Session ${s.id}` },
    html`<dl class="detail">${fields.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>
<p class="note" id="wholeness">Whole? ${lifecycle}; ${ending}; ${formatCount(s.events)} events stored.</p>
${events.length > 0 ? timelineSvg(events) : html`<p>No events stored for this session.</p>`}
${s.events > events.length ? html`<p class="note">Showing the first ${formatCount(limit)} events by time.</p>` : ''}
<table class="timeline-events"><thead><tr><th>Time</th><th>+ from first</th><th>Type</th><th>Event id</th><th>Stored at</th></tr></thead><tbody>
${events.map(
  (e) => html`<tr data-event="${e.id}"><td>${formatTime(e.timestamp)}</td><td>${formatDuration(e.timestamp.getTime() - (first ?? 0))}</td><td>${e.type}</td><td><code>${e.id}</code></td><td>${formatTime(e.ingestedAt)}</td></tr>`,
)}
</tbody></table>
<p><a href="/sessions">← All sessions</a></p>`,
  );
}
