/**
 * GitLab's offset pagination for every list of the REST API: `page` and `per_page` in
 * (default 20, at most 100), the items newest first, and `X-Page`, `X-Per-Page`, `X-Total`,
 * `X-Total-Pages`, `X-Next-Page`, `X-Prev-Page` and a `Link` header (first/prev/next/last) out.
 */
import { t } from 'elysia';
import { badRequest } from '../core/errors';
import { json } from '../http/respond';

export const DEFAULT_PER_PAGE = 20;
export const MAX_PER_PAGE = 100;
const MAX_PAGE = 1_000_000_000;

/** Query fields every list takes (spread into the route's query model). */
export const PageQuery = {
  page: t.Optional(t.Integer({ description: 'page number, from 1 (default 1)' })),
  per_page: t.Optional(t.Integer({ description: `items per page (default ${DEFAULT_PER_PAGE}, at most ${MAX_PER_PAGE}; more is cut to ${MAX_PER_PAGE})` })),
};

export interface Page { page: number; perPage: number; offset: number; limit: number }

/** Ranges are checked here (not in the model) so the message names the field. */
export function pageOf(query: { page?: number; per_page?: number }): Page {
  const page = query.page ?? 1;
  if (page < 1 || page > MAX_PAGE) throw badRequest(`page is invalid: must be between 1 and ${MAX_PAGE}`);
  const asked = query.per_page ?? DEFAULT_PER_PAGE;
  if (asked < 1) throw badRequest('per_page is invalid: must be at least 1');
  const perPage = Math.min(asked, MAX_PER_PAGE);
  return { page, perPage, offset: (page - 1) * perPage, limit: perPage };
}

/** One page of a list the core returns whole (small lists: variables, a pipeline's jobs). */
export function slice<T>(all: T[], page: Page): { rows: T[]; total: number } {
  return { rows: all.slice(page.offset, page.offset + page.limit), total: all.length };
}

/**
 * The JSON array with the pagination headers. Links use the external URL (as GitLab uses
 * its configured URL), keeping every other query parameter of the request.
 */
export function paginated(request: Request, externalUrl: string, page: Page, total: number, items: unknown[]): Response {
  const totalPages = Math.max(1, Math.ceil(total / page.perPage));
  const next = page.page < totalPages ? page.page + 1 : null;
  const prev = page.page > 1 ? Math.min(page.page - 1, totalPages) : null;
  const url = new URL(request.url);
  const base = externalUrl ? externalUrl.replace(/\/+$/, '') : url.origin;
  const link = (p: number) => {
    const q = new URLSearchParams(url.search);
    q.set('page', String(p));
    q.set('per_page', String(page.perPage));
    return `<${base}${url.pathname}?${q.toString()}>`;
  };
  const links = [
    ...(prev !== null ? [`${link(prev)}; rel="prev"`] : []),
    ...(next !== null ? [`${link(next)}; rel="next"`] : []),
    `${link(1)}; rel="first"`,
    `${link(totalPages)}; rel="last"`,
  ];
  return json(items, 200, {
    'X-Page': String(page.page),
    'X-Per-Page': String(page.perPage),
    'X-Total': String(total),
    'X-Total-Pages': String(totalPages),
    'X-Next-Page': next === null ? '' : String(next),
    'X-Prev-Page': prev === null ? '' : String(prev),
    Link: links.join(', '),
  });
}
