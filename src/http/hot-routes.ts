/**
 * The runners' job requests and trace PATCHes, served by Bun's own router ahead of Elysia.
 *
 * Every idle runner polls several times a second, so this one request is most of a
 * coordinator's traffic (bench P1/P1b). Through the whole Elysia app an empty poll cost
 * four times what the bare runtime needs — global hooks, the router, the parameter
 * parser, validation twice, the request log's bookkeeping. A hot route is the same handler
 * the route group mounts in Elysia, with the same TypeBox model (compiled once), reached
 * directly for the common case only: a JSON body of a declared length within the cap, no
 * query string, a body that fits the model. Anything else — forms, queries, odd or invalid
 * bodies — is handed to the Elysia app unchanged, so every answer other than the plain
 * poll's (400s naming the field, 413, …) still comes from one place. A trace PATCH reads
 * its raw body itself (`parse: 'none'` in Elysia too), so it is always answered here.
 */
import type { TSchema } from 'elysia';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { MAX_PARAMS_BODY } from './params';
import { sameRequest } from './request-log';

/** A route with a parameter body: answered here only when the body is plain JSON that fits. */
export interface HotModelRoute {
  method: 'POST';
  /** the route template, also the metrics label (the same as the Elysia route's) */
  path: string;
  model: TSchema;
  handle(body: any, request: Request): Response | Promise<Response>;
}

/** A route that reads the raw request itself (a trace PATCH): always answered here. */
export interface HotRawRoute {
  method: 'PATCH';
  path: string;
  raw(request: Request, params: Record<string, string>): Response | Promise<Response>;
}

export type HotRoute = HotModelRoute | HotRawRoute;

/** What a hot route's handler may throw becomes the answer Elysia's error handler would give. */
export type ErrorAnswer = (error: unknown, request: Request) => Response;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bun.serve `routes` for the hot routes. `fallback` is the whole app (the request log
 * included); `wrap` puts the request log around a hot answer.
 */
export function hotRoutes(
  list: HotRoute[],
  fallback: (request: Request) => Response | Promise<Response>,
  answerError: ErrorAnswer,
  noteRoute: (request: Request, route: string) => void,
): Record<string, Partial<Record<'POST' | 'PATCH', (request: Request) => Response | Promise<Response>>>> {
  const out: Record<string, Partial<Record<'POST' | 'PATCH', (request: Request) => Response | Promise<Response>>>> = {};
  for (const route of list) {
    (out[route.path] ??= {})[route.method] = 'raw' in route ? rawHandler(route, answerError, noteRoute) : modelHandler(route, fallback, answerError, noteRoute);
  }
  return out;
}

function rawHandler(route: HotRawRoute, answerError: ErrorAnswer, noteRoute: (request: Request, route: string) => void) {
  // Not async: no promise frame of its own around the handler's (every trace PATCH passes here).
  return (request: Request): Response | Promise<Response> => {
    noteRoute(request, route.path);
    try {
      const answer = route.raw(request, (request as Request & { params?: Record<string, string> }).params ?? {});
      return answer instanceof Promise ? answer.catch((e) => answerError(e, request)) : answer;
    } catch (e) {
      return answerError(e, request);
    }
  };
}

function modelHandler(route: HotModelRoute, fallback: (request: Request) => Response | Promise<Response>, answerError: ErrorAnswer, noteRoute: (request: Request, route: string) => void) {
  const fits = TypeCompiler.Compile(route.model);
  return async (request: Request) => {
    const declared = request.headers.get('content-length');
    const type = request.headers.get('content-type');
    if (declared === null || Number(declared) > MAX_PARAMS_BODY || request.url.includes('?') || !type || !/^application\/json\b/i.test(type)) {
      return fallback(request);
    }
    const bytes = new Uint8Array(await request.arrayBuffer());
    let body: unknown;
    try { body = JSON.parse(UTF8.decode(bytes)); } catch { body = undefined; }
    if (typeof body !== 'object' || body === null || Array.isArray(body) || !fits.Check(body)) {
      // The body was read: the app gets a copy carrying the same bytes.
      return fallback(sameRequest(new Request(request.url, { method: request.method, headers: request.headers, body: bytes, signal: request.signal }), request));
    }
    noteRoute(request, route.path);
    try {
      const answer = route.handle(body, request);
      // most polls are answered without waiting: no promise to await then
      return answer instanceof Promise ? await answer : answer;
    } catch (e) {
      return answerError(e, request);
    }
  };
}
