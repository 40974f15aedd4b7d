/**
 * `GET /metrics` (Prometheus text format) and the per-route HTTP metrics.
 *
 * Requests are labelled with the route TEMPLATE Elysia matched (`/api/v4/jobs/:id/trace`),
 * never the raw path, so label cardinality stays bounded; what matched no route is
 * `unmatched`. The template is noted by a global transform hook (after routing, before
 * parsing the rest) and read by the request log wrapper, which has the final status and
 * duration of every response, errors included.
 */
import { Elysia } from 'elysia';
import type { Core } from '../core';
import { DomainError } from '../core/errors';
import type { MetricsRegistry } from '../core/metrics';
import { safeEqual } from '../core/tokens';

const routes = new WeakMap<Request, string>();

/** The route template a request matched, if routing got that far. */
export function routeOf(request: Request): string | undefined {
  return routes.get(request);
}

/** Notes the route template of a request answered outside Elysia (src/http/hot-routes.ts). */
export function noteRoute(request: Request, route: string) {
  routes.set(request, route);
}

/** Notes each request's route template; `use` it before the error handler and the routes. */
export function routeRecorder() {
  return new Elysia({ name: 'baton.route-recorder' })
    .onTransform({ as: 'global' }, ({ request, route }) => { routes.set(request, route); })
    // a request refused before its transform (a body that does not parse) still names its route
    .onError({ as: 'global' }, ({ request, route }) => { if (route && !routes.has(request)) routes.set(request, route); });
}

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** The HTTP metrics; `observe` is called once per response by the request log wrapper. */
export function httpMetrics(registry: MetricsRegistry) {
  const requests = registry.counterVec('baton_http_requests_total', 'HTTP requests by route template and status', ['route', 'status']);
  const duration = registry.histogramVec('baton_http_request_duration_seconds', 'HTTP request duration by route template (long polls included)', ['route'], HTTP_BUCKETS);
  // The series of each route and status, found once: observe() runs for every request.
  const series = new Map<string, Map<number, { count: () => void; time: (s: number) => void }>>();
  const of = (route: string, status: number) => {
    let byStatus = series.get(route);
    if (!byStatus) series.set(route, (byStatus = new Map()));
    let s = byStatus.get(status);
    if (!s) {
      const counter = requests.child([route, String(status)]);
      const histogram = duration.child([route]);
      byStatus.set(status, (s = { count: () => { counter.value++; }, time: (v) => histogram.observe(v) }));
    }
    return s;
  };
  return {
    observe(request: Request, status: number, ms: number) {
      const s = of(routes.get(request) ?? 'unmatched', status);
      s.count();
      s.time(ms / 1000);
    },
  };
}

export type HttpMetrics = ReturnType<typeof httpMetrics>;

/**
 * The scrape endpoint: open, or with `--metrics-token` only for `Authorization: Bearer
 * <token>` (compared in constant time).
 */
export function metricsRoute(core: Core, opts: { metricsToken?: string }) {
  return new Elysia({ name: 'baton.metrics' })
    .get('/metrics', async ({ request }) => {
      if (opts.metricsToken !== undefined) {
        const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
        if (!bearer || !safeEqual(bearer, opts.metricsToken)) throw new DomainError('unauthorized', '401 Unauthorized');
      }
      // The first scrape waits a little for the first walk of the data dir; later ones never do.
      if (core.dataDirSize.value() === null) await Promise.race([core.dataDirSize.refresh(), Bun.sleep(1000)]);
      return new Response(core.deps.metrics.registry.render(), { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } });
    }, { detail: { tags: ['instance'], summary: 'Prometheus metrics (Bearer --metrics-token when set)' } });
}
