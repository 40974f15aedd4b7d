/** The frame of every page: head with the embedded assets, the top bar, breadcrumbs. */
import { ASSET_URL } from '../assets';
import { html, type Html } from '../html';

/** The signed-in person a page is rendered for. */
export interface Viewer {
  id: number;
  username: string;
  name: string;
  admin: boolean;
  /** the session's CSRF token (src/core/people/sessions.ts); null when the page was asked with a token */
  csrf: string | null;
}

export interface PageOptions {
  title: string;
  viewer: Viewer | null;
  /** which browser code runs (client/main.ts) */
  page: string;
  main: Html;
  crumbs?: [label: string, href?: string][];
  /** data-* attributes for the browser code */
  data?: Record<string, string | number | null | undefined>;
}

export function layout(o: PageOptions): Html {
  const v = o.viewer;
  const data = Object.entries(o.data ?? {}).filter(([, x]) => x !== undefined && x !== null);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
${v?.csrf ? html`<meta name="csrf-token" content="${v.csrf}">` : ''}
<title>${o.title} · Baton</title>
<link rel="icon" href="${ASSET_URL.icon}" type="image/svg+xml">
<link rel="stylesheet" href="${ASSET_URL.css}">
<script type="module" src="${ASSET_URL.js}"></script>
</head>
<body data-page="${o.page}"${data.map(([k, x]) => html` data-${k}="${String(x)}"`)}>
<a class="skip" href="#main">Skip to content</a>
<header class="topbar">
<a class="brand" href="/"><img src="${ASSET_URL.icon}" alt="" width="24" height="24"> Baton</a>
${v ? html`<nav aria-label="Main">
<a href="/">Projects</a>
${v.admin ? html`<a href="/admin/runners">Runners</a><a href="/admin/users">Users</a>` : ''}
</nav>
<form class="signout" method="post" action="/users/sign_out">
<span class="who" title="${v.name}">${v.username}</span>
${v.csrf ? html`<input type="hidden" name="authenticity_token" value="${v.csrf}">` : ''}
<button class="btn link" type="submit">Sign out</button>
</form>` : ''}
</header>
${o.crumbs?.length ? html`<nav class="crumbs" aria-label="Breadcrumb"><ol>${o.crumbs.map(([label, href], i) => html`<li>${href && i < o.crumbs!.length - 1 ? html`<a href="${href}">${label}</a>` : html`<span aria-current="page">${label}</span>`}</li>`)}</ol></nav>` : ''}
<main id="main" tabindex="-1">
${o.main}
</main>
</body>
</html>`;
}

export function errorPage(viewer: Viewer | null, status: number, message: string): Html {
  const title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Something went wrong';
  return layout({
    title, viewer, page: 'error',
    main: html`<div class="empty"><h1>${status} · ${title}</h1><p>${message}</p><p><a href="/">Back to the projects</a></p></div>`,
  });
}
