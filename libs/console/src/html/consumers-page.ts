import type { ConsumerRow } from '../read/stream-state';
import type { HealthVerdict } from '../worker-health';
import { formatCount, formatDuration, html, type SafeHtml } from './html';
import { badge, page, type PageOptions } from './layout';

export interface ConsumerView extends ConsumerRow {
  dead: boolean;
  health: HealthVerdict;
}

function healthCell(h: HealthVerdict): SafeHtml {
  switch (h.kind) {
    case 'unknown':
      return html`<span class="muted">unknown (no URL configured)</span>`;
    case 'unreachable':
      return html`${badge('critical', 'UNREACHABLE')} <span class="muted">${h.detail}</span>`;
    case 'answered':
      return h.ok ? badge('ok', h.status.toUpperCase()) : badge('critical', h.status.toUpperCase());
  }
}

function lastDelivery(c: ConsumerRow): string {
  if (c.lastDeliveryMs === undefined) return '—';
  return `${c.lastDeliveryExact ? '' : '≈ '}${formatDuration(c.lastDeliveryMs)} ago`;
}

export interface ConsumersData {
  group: string;
  stream: string;
  /** Undefined when Redis did not answer. */
  consumers: ConsumerView[] | undefined;
  deadConsumerIdleMs: number;
}

export function consumersPage(d: ConsumersData, o: Pick<PageOptions, 'nav' | 'flash'>): string {
  const body = !d.consumers
    ? html`<p class="unavailable">Redis did not answer: consumers unavailable.</p>`
    : d.consumers.length === 0
      ? html`<p>No consumer in group ${d.group} on ${d.stream}.</p>`
      : html`<table class="consumers"><thead><tr><th>Consumer</th><th>State</th><th>Pending</th><th>Idle</th><th>Last delivery</th><th>/healthz</th></tr></thead><tbody>
${d.consumers.map(
  (c) => html`<tr data-consumer="${c.name}"><td>${c.name}</td><td>${c.dead ? badge('critical', 'DEAD') : badge('ok', 'LIVE')}</td><td class="num">${formatCount(c.pending)}</td><td>${formatDuration(c.idleMs)}</td><td>${lastDelivery(c)}</td><td>${healthCell(c.health)}</td></tr>`,
)}
</tbody></table>`;
  return page(
    { ...o, title: 'Consumers', refreshSeconds: 15 },
    html`<p>Group <code>${d.group}</code> on <code>${d.stream}</code>. A consumer idle for more than ${formatDuration(d.deadConsumerIdleMs)} (no read, no claim) is marked DEAD; its pending entries are taken over by the live ones.</p>
${body}
<p class="note">Idle: since the consumer last read or claimed. Last delivery: since it was last handed entries (≈: estimated from its pending entries, on Redis before 7.2). /healthz: each worker's own verdict, for the consumers named in CONSOLE_WORKER_URLS. Consumers that left the group stay listed until removed (XGROUP DELCONSUMER) and show as DEAD. Refreshes every 15 s.</p>`,
  );
}
