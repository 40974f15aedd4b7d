/**
 * People-facing authentication: the admin token in `PRIVATE-TOKEN` or
 * `Authorization: Bearer`, as a named macro (`{ admin: true }` on a route or group).
 * Runner credentials are checked by each runner adapter, which knows its protocol's codes.
 */
import { Elysia } from 'elysia';
import type { Core } from '../core';
import { DomainError } from '../core/errors';

export function adminAuth(core: Core) {
  return new Elysia({ name: 'baton.admin-auth' })
    .macro({
      admin: {
        // transform, not beforeHandle: it runs before validation, so a caller without the
        // token learns 401 and nothing about the parameters (GitLab's order).
        transform({ request }) {
          const h = request.headers;
          const bearer = /^Bearer\s+(.+)$/i.exec(h.get('authorization') ?? '')?.[1];
          const token = h.get('private-token') ?? bearer;
          if (!token || !core.instance.isAdminToken(token)) throw new DomainError('unauthorized', '401 Unauthorized');
        },
      },
    });
}
