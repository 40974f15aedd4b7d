/**
 * One log line per request (id, method, path, status, duration) and the `X-Request-Id`
 * echo, done around the whole app so no response escapes it. A client's own request id
 * (modern runners send one) is kept when it is sane.
 */
import type { Logger } from '../log';

/** What the log wrapper knows of a request; the peer address is looked up only when asked. */
interface Meta { id: string; server?: PeerInfo; incoming: Request }
const metas = new WeakMap<Request, Meta>();
let counter = 0;
const prefix = Math.random().toString(36).slice(2, 8);

export function requestIdOf(request: Request): string | undefined {
  return metas.get(request)?.id;
}

/** The client's address (the peer of the socket; proxies' X-Forwarded-For is not trusted). */
export function clientAddressOf(request: Request): string | undefined {
  const m = metas.get(request);
  return m?.server?.requestIP(m.incoming)?.address.replace(/^::ffff:(?=\d+\.)/, '');
}

/** A copy of a request (its body re-wrapped) is the same request for the log. */
export function sameRequest(copy: Request, original: Request): Request {
  const m = metas.get(original);
  if (m) metas.set(copy, m);
  return copy;
}

/** What Bun.serve hands the fetch handler besides the request. */
export interface PeerInfo { requestIP(request: Request): { address: string } | null }

/**
 * Elysia finds the path by searching for "/" from the 12th character of the URL, so a
 * request to a host of three letters or fewer without a port (`http://ci/…`, a Docker
 * service name) would match no route. Such requests get a longer stand-in host; Baton
 * never derives anything from the Host header.
 */
function routable(request: Request): Request {
  const url = request.url;
  const pathStart = url.indexOf('/', url.indexOf('//') + 2);
  if (pathStart === -1 || pathStart >= 11) return request;
  return new Request(`http://baton.invalid${url.slice(pathStart)}`, request);
}

/**
 * `observe` (the HTTP metrics) hears of every response with its status and duration; it
 * reads the route template Elysia matched, so it gets the request Elysia saw.
 */
export function withRequestLog(log: Logger, handle: (req: Request) => Response | Promise<Response>, observe?: (request: Request, status: number, ms: number) => void, opts: { routed?: boolean } = {}) {
  // `routed`: Bun's router already matched the path (hot routes), so the host needs no stand-in
  const route = opts.routed ? (r: Request) => r : routable;
  const finish = (request: Request, id: string, started: number, answer: Response): Response => {
    let response = answer;
    try {
      response.headers.set('X-Request-Id', id);
    } catch {
      response = new Response(response.body, response);
      response.headers.set('X-Request-Id', id);
    }
    const ms = performance.now() - started;
    observe?.(request, response.status, ms);
    if (log.isLevelEnabled('info')) {
      const url = request.url;
      const q = url.indexOf('?', 8);
      const pathStart = url.indexOf('/', 8);
      // the path only: query strings can carry tokens
      const path = url.slice(pathStart, q === -1 ? undefined : q);
      log.info({ reqId: id, method: request.method, path, status: response.status, ms: Math.round(ms * 100) / 100 }, 'request');
    }
    return response;
  };
  const failed = (err: unknown, id: string) => {
    log.error({ err, reqId: id }, 'unhandled error');
    return new Response(JSON.stringify({ message: '500 Internal Server Error' }), { status: 500, headers: { 'content-type': 'application/json' } });
  };
  // Not async: an answer given at once goes back without a promise, and a late one with one
  // `then` instead of an async frame around it (bench P1: every poll passes here).
  return (incoming: Request, server?: PeerInfo): Response | Promise<Response> => {
    const started = performance.now();
    const request = route(incoming);
    const given = request.headers.get('x-request-id');
    const id = given && /^[\w.:-]{1,128}$/.test(given) ? given : `${prefix}-${(++counter).toString(36)}`;
    metas.set(request, { id, server, incoming });
    let answer: Response | Promise<Response>;
    try {
      answer = handle(request);
    } catch (err) {
      return finish(request, id, started, failed(err, id));
    }
    if (!(answer instanceof Promise)) return finish(request, id, started, answer);
    return answer.then((r) => finish(request, id, started, r), (err) => finish(request, id, started, failed(err, id)));
  };
}
