/**
 * People-facing authentication and authorization as named macros. A route says what it
 * needs, never how to check it:
 *   `{ auth: true }`               any signed-in caller   → `actor` in the handler
 *   `{ admin: true }`              an instance admin      → `actor`
 *   `{ can: 'create_pipeline' }`   that permission on the project in `:id` (a numeric id or
 *                                  `team%2Fapp`)          → `actor`, `project`
 *   `{ runner: 'update_runner' }`  that permission on the runner in `:id` → `actor`, `runner`
 *   `{ canOrJob: 'create_release' }` like `can`, or a running job's CI_JOB_TOKEN (`JOB-TOKEN`
 *                                  header or `job_token` parameter) for the job's own project
 *                                  → `actor` (null for a job), `project`, `job` (null for a person)
 * The answer comes from the one authorization function (src/core/people/access.ts). Each
 * macro also writes what it needs into the route's OpenAPI detail (`x-baton-permission`),
 * which the role tests read.
 *
 * Everything is decided in `transform`, before any parameter is validated, so a caller
 * learns nothing about the parameters of a thing it may not touch: no credential → 401,
 * not an admin → 403, a project it may not see → 404, a role too low → 403, and only then
 * 400 for a bad body (runner credentials are checked by each runner adapter, which knows
 * its protocol's codes).
 *
 * Credentials: `PRIVATE-TOKEN` or `Authorization: Bearer` (personal access tokens, among
 * them the admin token), else the `baton_session` cookie of a dashboard sign-in. A token is
 * not an ambient credential, so token requests need nothing more. A cookie is: a
 * cookie-authenticated request that changes state (anything but GET, HEAD, OPTIONS) must
 * send the session's CSRF token in `X-CSRF-Token` and must not come from another origin
 * (`Origin` / `Sec-Fetch-Site`), else 403. How a page gets the CSRF token: see
 * src/rest-api/sessions.ts.
 */
import { Elysia } from 'elysia';
import type { Core } from '../core';
import { forbidden } from '../core/errors';
import { insufficientScope, PROJECT_PERMISSIONS, RUNNER_PERMISSIONS, type Actor, type Credential, type ProjectPermission, type RunnerPermission } from '../core/people/access';
import { SESSION_COOKIE } from '../core/people/sessions';
import type { Job, Project, Runner } from '../db/schema';

/** A CI_JOB_TOKEN presented to a people route: `JOB-TOKEN`, else `job_token` in the query. */
export function presentedJobToken(request: Request): string | undefined {
  return request.headers.get('job-token') ?? new URL(request.url).searchParams.get('job_token') ?? undefined;
}

/** The credential of a request: `PRIVATE-TOKEN`, else `Authorization: Bearer`. */
export function presentedToken(request: Request): string | undefined {
  const h = request.headers;
  return h.get('private-token') ?? /^Bearer\s+(.+)$/i.exec(h.get('authorization') ?? '')?.[1];
}

/** One cookie's value from the `Cookie` header. */
export function cookieValue(request: Request, name: string): string | undefined {
  const header = request.headers.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** A token header wins; the cookie counts only when no token is presented. */
export function credentialOf(request: Request): Credential {
  const token = presentedToken(request);
  if (token !== undefined) return { token };
  const session = cookieValue(request, SESSION_COOKIE);
  return session !== undefined ? { session } : {};
}

/** GitLab's read_api scope: these methods only. */
const READ_METHODS = new Set(['GET', 'HEAD']);
/** Requests a cookie may make without a CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Is a browser request from another site? `Sec-Fetch-Site` says so directly; else the
 * `Origin` must be this server's external URL or the host the request was sent to.
 */
export function isCrossOrigin(request: Request, externalUrl: string): boolean {
  const site = request.headers.get('sec-fetch-site');
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = request.headers.get('origin');
  if (origin === null) return false;
  let o: URL;
  try { o = new URL(origin); } catch { return true; }
  try { if (externalUrl && o.origin === new URL(externalUrl).origin) return false; } catch { /* no external URL */ }
  return o.host !== request.headers.get('host');
}

/** Cookie-authenticated writes: same origin, and the session's CSRF token in X-CSRF-Token. */
export function checkSessionRequest(core: Core, request: Request, actor: Actor) {
  if (actor.via !== 'session' || SAFE_METHODS.has(request.method)) return;
  if (isCrossOrigin(request, core.deps.server.url)) throw forbidden('403 Forbidden - cross-origin request refused');
  if (!core.sessions.checkCsrf(cookieValue(request, SESSION_COOKIE) ?? '', request.headers.get('x-csrf-token'))) {
    throw forbidden('403 Forbidden - CSRF token missing or invalid: send the session\'s token in X-CSRF-Token');
  }
}

/** What a route needs, as the OpenAPI documents it (and the role tests read it). */
export const PERMISSION_KEY = 'x-baton-permission';
/** An OpenAPI extension field; Elysia's detail type does not list `x-` keys. */
const needs = (what: string) => ({ [PERMISSION_KEY]: what }) as { hide?: boolean };

export function peopleAuth(core: Core) {
  // What transform found, handed to resolve (the same request object flows through).
  const found = new WeakMap<Request, { actor: Actor | null; project?: Project; runner?: Runner; job?: Job }>();
  const authenticate = (request: Request): Actor => {
    const actor = core.access.authenticate(credentialOf(request));
    if (actor.readOnly && !READ_METHODS.has(request.method)) throw insufficientScope();
    checkSessionRequest(core, request, actor);
    found.set(request, { actor });
    return actor;
  };
  const actorOf = (request: Request) => ({ actor: found.get(request)!.actor! });

  return new Elysia({ name: 'baton.people-auth' })
    .macro({
      auth: {
        detail: needs('signed_in'),
        transform: ({ request }) => { authenticate(request); },
        resolve: ({ request }) => actorOf(request),
      },
      admin: {
        detail: needs('admin'),
        transform: ({ request }) => { core.access.requireAdmin(authenticate(request)); },
        resolve: ({ request }) => actorOf(request),
      },
      can(permission: ProjectPermission) {
        if (!(permission in PROJECT_PERMISSIONS)) throw new Error(`unknown project permission "${permission}"`);
        return {
          detail: needs(permission),
          transform({ request, params }: { request: Request; params: Record<string, string> }) {
            const actor = authenticate(request);
            found.set(request, { actor, project: core.access.project(actor, params.id ?? '', permission) });
          },
          resolve({ request }: { request: Request }) {
            const { actor, project } = found.get(request)!;
            return { actor: actor!, project: project! };
          },
        };
      },
      canOrJob(permission: ProjectPermission) {
        if (!(permission in PROJECT_PERMISSIONS)) throw new Error(`unknown project permission "${permission}"`);
        return {
          detail: needs(permission),
          transform({ request, params }: { request: Request; params: Record<string, string> }) {
            const jobToken = presentedJobToken(request);
            // A person's credential wins; a job token alone stands for its job.
            if (jobToken !== undefined && presentedToken(request) === undefined) {
              const { project, job } = core.access.projectForJobToken(jobToken, params.id ?? '');
              found.set(request, { actor: null, project, job });
              return;
            }
            const actor = authenticate(request);
            found.set(request, { actor, project: core.access.project(actor, params.id ?? '', permission) });
          },
          resolve({ request }: { request: Request }) {
            const { actor, project, job } = found.get(request)!;
            return { actor, project: project!, job: job ?? null };
          },
        };
      },
      runner(permission: RunnerPermission) {
        if (!RUNNER_PERMISSIONS.includes(permission)) throw new Error(`unknown runner permission "${permission}"`);
        return {
          detail: needs(permission),
          transform({ request, params }: { request: Request; params: Record<string, string> }) {
            const actor = authenticate(request);
            found.set(request, { actor, runner: core.access.runner(actor, params.id ?? '', permission) });
          },
          resolve({ request }: { request: Request }) {
            const { actor, runner } = found.get(request)!;
            return { actor: actor!, runner: runner! };
          },
        };
      },
    });
}
