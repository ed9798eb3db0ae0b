import { html, type SafeHtml } from './html';

export type NavItem = 'overview' | 'consumers' | 'dead-letters' | 'sessions';

const NAV: readonly [NavItem, string, string][] = [
  ['overview', '/', 'Overview'],
  ['consumers', '/consumers', 'Consumers'],
  ['dead-letters', '/dead-letters', 'Dead letters'],
  ['sessions', '/sessions', 'Sessions'],
];

export interface PageOptions {
  title: string;
  /** Absent on the login page: no navigation, no logout, before login. */
  nav?: { active: NavItem | undefined; csrfToken: string };
  /** A message from the last action (replayed, purged, refused). */
  flash?: string | undefined;
  /** Reload the page this often (seconds): the overview and consumers pages stay current. */
  refreshSeconds?: number;
  /** Pages with a chart load uPlot. */
  chart?: boolean;
}

function navigation(nav: NonNullable<PageOptions['nav']>): SafeHtml {
  return html`<nav aria-label="Console">
  <span class="brand">fuel-code console</span>
  <ul>${NAV.map(([id, href, label]) =>
    id === nav.active ? html`<li><a href="${href}" aria-current="page">${label}</a></li>` : html`<li><a href="${href}">${label}</a></li>`,
  )}</ul>
  <form method="post" action="/logout" class="logout"><input type="hidden" name="csrf" value="${nav.csrfToken}"><button type="submit">Log out</button></form>
</nav>`;
}

export function page(o: PageOptions, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${o.refreshSeconds ? html`<meta http-equiv="refresh" content="${o.refreshSeconds}">` : ''}
<title>${o.title} · fuel-code console</title>
<link rel="stylesheet" href="/assets/console.css">
${o.chart ? html`<link rel="stylesheet" href="/assets/uPlot.min.css"><script src="/assets/uPlot.iife.min.js" defer></script>` : ''}
<script src="/assets/console.js" defer></script>
</head>
<body>
${o.nav ? navigation(o.nav) : ''}
<main>
<h1>${o.title}</h1>
${o.flash ? html`<p class="flash" role="status">${o.flash}</p>` : ''}
${body}
</main>
</body>
</html>
`.value;
}

/** A level spelt out in words, with its colour as a second cue (never the only one). */
export function badge(level: 'ok' | 'warning' | 'critical' | 'unknown', word: string): SafeHtml {
  return html`<span class="badge badge-${level}">${word}</span>`;
}
