/**
 * People-facing authentication and authorization as named macros. A route says what it
 * needs, never how to check it:
 *   `{ auth: true }`               any signed-in caller   → `actor` in the handler
 *   `{ admin: true }`              an instance admin      → `actor`
 *   `{ can: 'create_pipeline' }`   that permission on the project in `:id` → `actor`, `project`
 * The answer comes from the one authorization function (src/core/people/access.ts).
 * Credentials are read in `transform`, before validation, so a caller without one learns
 * 401 and nothing about the parameters (GitLab's order); the project is looked up after
 * validation. Runner credentials are checked by each runner adapter, which knows its
 * protocol's codes.
 */
import { Elysia } from 'elysia';
import type { Core } from '../core';
import { DomainError } from '../core/errors';
import type { Actor, ProjectPermission } from '../core/people/access';

/** The credential of a request: `PRIVATE-TOKEN`, else `Authorization: Bearer`. */
export function presentedToken(request: Request): string | undefined {
  const h = request.headers;
  return h.get('private-token') ?? /^Bearer\s+(.+)$/i.exec(h.get('authorization') ?? '')?.[1];
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

export function peopleAuth(core: Core) {
  // The actor found in transform, handed to resolve (the same request object flows through).
  const actors = new WeakMap<Request, Actor>();
  const authenticate = ({ request }: { request: Request }) => {
    const actor = core.access.authenticate(presentedToken(request));
    // GitLab's read_api scope: GET requests only.
    if (actor.readOnly && !SAFE_METHODS.has(request.method)) {
      throw new DomainError('forbidden', '403 Forbidden - insufficient_scope: this token may only read (read_api)');
    }
    actors.set(request, actor);
  };
  const actorOf = (request: Request): Actor => actors.get(request)!;

  return new Elysia({ name: 'baton.people-auth' })
    .macro({
      auth: {
        transform: authenticate,
        resolve: ({ request }) => ({ actor: actorOf(request) }),
      },
      admin: {
        transform: authenticate,
        resolve({ request }) {
          const actor = actorOf(request);
          core.access.requireAdmin(actor);
          return { actor };
        },
      },
      can(permission: ProjectPermission) {
        return {
          transform: authenticate,
          resolve({ request, params }: { request: Request; params: Record<string, string> }) {
            const actor = actorOf(request);
            return { actor, project: core.access.project(actor, params.id ?? '', permission) };
          },
        };
      },
    });
}
