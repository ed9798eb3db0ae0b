import type { DeadLetterRecord } from '@fuel-code/stream';
import type { DeadLetterFilter, DeadLetterPage, DeadLetterRow } from '../read/dead-letters';
import { formatCount, formatTime, html, plural, query, type SafeHtml } from './html';
import { page, type PageOptions } from './layout';

type Chrome = Pick<PageOptions, 'nav' | 'flash'> & { csrfToken: string };

const ERROR_PREVIEW = 160;

function filterForm(f: DeadLetterFilter): SafeHtml {
  const reason = (value: string, label: string) => html`<option value="${value}"${f.reason === value ? html` selected` : ''}>${label}</option>`;
  return html`<form method="get" action="/dead-letters" class="filters">
<label>Reason <select name="reason">${reason('', 'any')}${reason('invalid', 'invalid')}${reason('failed', 'failed')}</select></label>
<label>Type <input name="type" value="${f.type ?? ''}" placeholder="e.g. git.commit" size="18"></label>
<button type="submit">Filter</button> <a href="/dead-letters">Clear</a>
</form>`;
}

function row(r: DeadLetterRow): SafeHtml {
  const error = r.error.length > ERROR_PREVIEW ? `${r.error.slice(0, ERROR_PREVIEW)}…` : r.error;
  return html`<tr data-id="${r.id}">
<td><input type="checkbox" name="ids" value="${r.id}" aria-label="Select ${r.id}"></td>
<td><a href="/dead-letters/${r.id}">${r.id}</a></td><td>${formatTime(r.failedAt)}</td><td>${r.type ?? '—'}</td><td>${r.reason}</td>
<td class="error">${error}</td><td class="num">${r.attempts ?? '—'}</td><td>${r.consumer}</td></tr>`;
}

export interface DeadLetterListData {
  key: string;
  total: number;
  filter: DeadLetterFilter;
  page: DeadLetterPage;
  before: string | undefined;
}

function actions(d: DeadLetterListData, csrf: string): SafeHtml {
  const filtered = Boolean(d.filter.reason || d.filter.type);
  return html`<div class="actions">
<button type="submit" formaction="/dead-letters/replay" name="from" value="selection">Replay selected</button>
<button type="submit" formaction="/dead-letters/confirm" name="action" value="purge" class="danger">Purge selected…</button>
</div>
</form>
<form method="post" action="/dead-letters/confirm" class="actions">
<input type="hidden" name="csrf" value="${csrf}">
<input type="hidden" name="reason" value="${d.filter.reason ?? ''}"><input type="hidden" name="type" value="${d.filter.type ?? ''}">
<button type="submit" name="action" value="replay">Replay all ${filtered ? 'matching the filter' : 'dead letters'}…</button>
<button type="submit" name="action" value="purge" class="danger">Purge all ${filtered ? 'matching the filter' : 'dead letters'}…</button>
</form>`;
}

export function deadLetterListPage(d: DeadLetterListData, o: Chrome): string {
  const p = d.page;
  const pager = html`<p class="pager">${d.before ? html`<a href="/dead-letters${query({ reason: d.filter.reason, type: d.filter.type })}">Newest</a> · ` : ''}${
    p.nextBefore
      ? html`<a rel="next" href="/dead-letters${query({ reason: d.filter.reason, type: d.filter.type, before: p.nextBefore })}">${p.scanLimitReached ? 'Search further back' : 'Older'} →</a>`
      : 'End of the dead-letter stream.'
  }</p>`;
  const table =
    p.rows.length === 0
      ? html`<p>${p.scanLimitReached ? `No match among the ${formatCount(p.scanned)} dead letters read.` : 'No dead letters here.'}</p>`
      : html`<table class="dead-letters"><thead><tr><th><input type="checkbox" data-select-all aria-label="Select all on this page"></th><th>ID</th><th>Failed at</th><th>Type</th><th>Reason</th><th>Error</th><th>Attempts</th><th>Consumer</th></tr></thead>
<tbody>${p.rows.map(row)}</tbody></table>`;
  return page(
    { ...o, title: 'Dead letters' },
    html`<p>${plural(d.total, 'dead letter')} in <code>${d.key}</code>, newest first.</p>
${filterForm(d.filter)}
${p.scanLimitReached ? html`<p class="note">This filtered page read ${formatCount(p.scanned)} dead letters and stopped there; use "Search further back" for older ones.</p>` : ''}
<form method="post" action="/dead-letters/replay" id="selection">
<input type="hidden" name="csrf" value="${o.csrfToken}">
${table}
${actions(d, o.csrfToken)}
${pager}`,
  );
}

/** The original bytes, pretty-printed when they are JSON (a fields-format entry's `data` too). */
export function prettyBytes(bytes: Buffer): { text: string; kind: 'json' | 'text' | 'binary' } {
  const text = bytes.toString('utf8');
  const validUtf8 = Buffer.from(text, 'utf8').equals(bytes);
  if (!validUtf8) return { text: bytes.subarray(0, 64 * 1024).toString('hex').replace(/(.{64})/g, '$1\n'), kind: 'binary' };
  try {
    const parsed: unknown = JSON.parse(text);
    return { text: JSON.stringify(parsed, null, 2), kind: 'json' };
  } catch {
    return { text, kind: 'text' };
  }
}

export function deadLetterDetailPage(r: DeadLetterRecord, type: string | undefined, o: Chrome): string {
  const pretty = prettyBytes(r.event);
  const fields: [string, string][] = [
    ['Dead-letter id', r.id],
    ['Original stream id', r.streamId],
    ['Type', type ?? '—'],
    ['Reason', r.reason],
    ['Attempts', r.attempts === undefined ? '—' : String(r.attempts)],
    ['Consumer', r.consumer],
    ['Failed at', formatTime(r.failedAt)],
    ['Stream format', r.format === 'fields' ? 'fields (written back as fields on replay)' : 'event (one field, event)'],
    ['Size', plural(r.event.length, 'byte')],
  ];
  return page(
    { ...o, title: `Dead letter ${r.id}` },
    html`<dl class="detail">${fields.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>
<h2>Error</h2><pre class="error">${r.error}</pre>
<h2>Original bytes <span class="muted">(${pretty.kind === 'json' ? 'JSON, pretty-printed' : pretty.kind === 'text' ? 'text, not JSON' : 'not UTF-8, hex'})</span></h2>
<pre class="payload" id="payload">${pretty.text}</pre>
<form method="post" class="actions">
<input type="hidden" name="csrf" value="${o.csrfToken}"><input type="hidden" name="ids" value="${r.id}">
<button type="submit" formaction="/dead-letters/replay">Replay</button>
<button type="submit" formaction="/dead-letters/confirm" name="action" value="purge" class="danger">Purge…</button>
</form>
<p><a href="/dead-letters">← All dead letters</a></p>`,
  );
}

export interface ConfirmData {
  action: 'replay' | 'purge';
  selection: string;
  ids: readonly string[];
  scanLimitReached: boolean;
}

export function confirmPage(d: ConfirmData, o: Chrome): string {
  const count = plural(d.ids.length, 'dead letter');
  const shown = d.ids.slice(0, 50);
  const verb = d.action === 'purge' ? 'Purge' : 'Replay';
  return page(
    { ...o, title: `${verb} ${count}?` },
    html`<p id="confirm-text">${
      d.action === 'purge'
        ? `Purge ${count}? They are deleted for good; these ids and no others.`
        : `Replay ${count}? Each is re-published with its original bytes, then removed.`
    }</p>
${d.scanLimitReached ? html`<p class="note">The selection stopped at the scan bound: older matching dead letters are not included.</p>` : ''}
<ul class="ids">${shown.map((id) => html`<li><code>${id}</code></li>`)}${d.ids.length > shown.length ? html`<li>and ${formatCount(d.ids.length - shown.length)} more</li>` : ''}</ul>
<form method="post" action="/dead-letters/execute" class="actions">
<input type="hidden" name="csrf" value="${o.csrfToken}"><input type="hidden" name="selection" value="${d.selection}">
<button type="submit" class="${d.action === 'purge' ? 'danger' : ''}">${verb} ${count}</button> <a href="/dead-letters">Cancel</a>
</form>`,
  );
}
