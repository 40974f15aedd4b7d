/** Status badges and the small shared pieces of every page. */
import { html, type Html } from '../html';
import { STATUS_ICON, STATUS_LABEL } from './format';

export function statusBadge(status: string, size: 'small' | 'big' = 'small'): Html {
  return html`<span class="ci-status ci-${status}${size === 'big' ? ' big' : ''}" data-status="${status}"><span class="ci-icon" aria-hidden="true">${STATUS_ICON[status] ?? '•'}</span> ${STATUS_LABEL[status] ?? status}</span>`;
}

/** The path of one of our own URLs (web_url is absolute; links inside pages stay on this host). */
export function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}

/**
 * A button that calls the REST API (src/web/client/actions.ts): `POST <path>` with the
 * session's CSRF token; `then` says what happens after: `reload` the page, or `go` to the
 * answer's web_url (a retried job is a new job).
 */
export function actionButton(label: string, opts: { path: string; method?: string; body?: unknown; then?: 'reload' | 'go' | 'stay'; kind?: 'primary' | 'danger' | ''; aria?: string; confirm?: string }): Html {
  return html`<button type="button" class="btn ${opts.kind ?? ''}" data-action="${opts.method ?? 'POST'} ${opts.path}" data-then="${opts.then ?? 'reload'}"${opts.body !== undefined ? html` data-body="${JSON.stringify(opts.body)}"` : ''}${opts.confirm ? html` data-confirm="${opts.confirm}"` : ''} aria-label="${opts.aria ?? label}">${label}</button>`;
}
