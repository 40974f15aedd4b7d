/**
 * What every page handler needs: who is asking (the session cookie, or a token), the project
 * a path names if the viewer may see it, and the answer to an error as a page (sign-in
 * redirect, 404, 403) instead of the REST API's JSON. Access is decided by the one
 * authorization function (core/people/access.ts), as for the REST API.
 */
import type { Core } from '../core';
import { DomainError } from '../core/errors';
import type { Actor, ProjectPermission } from '../core/people/access';
import type { Project } from '../db/schema';
import { credentialOf } from '../http/auth';
import { Presenter } from '../rest-api/presenters';
import { errorPage, type Viewer } from './pages/layout';
import { htmlResponse, redirect } from './security';

export interface Web {
  core: Core;
  show: Presenter;
}

export interface Seen { actor: Actor; viewer: Viewer }

export function webContext(core: Core): Web {
  return { core, show: new Presenter(core) };
}

/** The signed-in caller, or null (no credential, an expired session, a blocked user…). */
export function seen(web: Web, request: Request): Seen | null {
  let actor: Actor;
  try {
    actor = web.core.access.authenticate(credentialOf(request));
  } catch (e) {
    if (e instanceof DomainError && (e.code === 'unauthorized' || e.code === 'forbidden')) return null;
    throw e;
  }
  const user = web.core.users.get(actor.userId);
  return { actor, viewer: { id: user.id, username: user.username, name: user.name, admin: user.admin, csrf: actor.session?.csrfToken ?? null } };
}

/** `/users/sign_in?redirect_to=<this page>` */
export function signInRedirect(request: Request): Response {
  const u = new URL(request.url);
  const back = u.pathname + u.search;
  return redirect(back === '/' ? '/users/sign_in' : `/users/sign_in?redirect_to=${encodeURIComponent(back)}`);
}

/** Thrown by a page to answer with an error page. */
export class PageError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

/** The project at `/<namespace>/<project>` if the viewer may do `permission` on it (404/403 pages otherwise). */
export function projectAt(web: Web, s: Seen, namespace: string, path: string, permission: ProjectPermission): Project {
  return web.core.access.project(s.actor, `${namespace}/${path}`, permission);
}

/**
 * A page handler: signed-in callers only (others go to the sign-in page); domain errors
 * become error pages with the REST API's status.
 */
export function page(web: Web, request: Request, render: (s: Seen) => Response | string): Response {
  const s = seen(web, request);
  if (!s) return signInRedirect(request);
  try {
    const out = render(s);
    return typeof out === 'string' ? htmlResponse(out) : out;
  } catch (e) {
    if (e instanceof PageError) return htmlResponse(errorPage(s.viewer, e.status, e.message).value, e.status);
    if (e instanceof DomainError && ['not_found', 'forbidden', 'bad_request'].includes(e.code)) {
      const status = e.code === 'not_found' ? 404 : e.code === 'forbidden' ? 403 : 400;
      const message = status === 404 ? 'There is nothing here, or you may not see it.' : status === 403 ? 'Your role does not allow this.' : e.message;
      return htmlResponse(errorPage(s.viewer, status, message).value, status);
    }
    throw e;
  }
}

export function numeric(raw: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw new PageError(404, 'There is nothing here.');
  return Number(raw);
}
