/**
 * Project members (forges-and-rest.md §C.4): every member sees the list; Maintainers add,
 * change and remove members (the Owner rules are in core/people/members.ts). Baton has no
 * groups, so `members/all` (direct + inherited) is the same list.
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import { peopleAuth } from '../http/auth';
import { withModel } from '../http/params';
import { empty, json } from '../http/respond';
import { Errors, ProjectParams, restDoc } from './common';
import { numericId } from './lookup';
import { PageQuery, pageOf, paginated } from './pagination';
import { MemberModel, Presenter } from './presenters';

const MemberParams = t.Object({ id: t.String({ description: 'project id' }), user_id: t.String() });
const level = t.Integer({ description: '10 Guest, 20 Reporter, 30 Developer, 40 Maintainer, 50 Owner' });
const expiresAt = t.Optional(t.Union([t.String({ description: 'YYYY-MM-DD, after today: the membership ends then' }), t.Null()]));
const AddBody = t.Object({
  user_id: t.Optional(t.Integer()),
  username: t.Optional(t.String({ minLength: 1, description: 'instead of user_id' })),
  access_level: level,
  expires_at: expiresAt,
});
const EditBody = t.Object({ access_level: level, expires_at: expiresAt });
const ListQuery = t.Object({
  ...PageQuery,
  query: t.Optional(t.String({ description: 'username or name contains' })),
  user_ids: t.Optional(t.Union([t.Array(t.Integer()), t.Integer()])),
  'user_ids[]': t.Optional(t.Union([t.Array(t.Integer()), t.Integer()])),
});

export function memberRoutes(core: Core) {
  const show = new Presenter(core);
  const doc = restDoc('members');
  const list = ({ project, query, request }: { project: Parameters<Core['members']['list']>[0]; query: typeof ListQuery.static; request: Request }) => {
    const page = pageOf(query);
    const userIds = [query.user_ids ?? [], query['user_ids[]'] ?? []].flat();
    const { rows, total } = core.members.list(project, page.offset, page.limit, { query: query.query, userIds });
    return paginated(request, core.deps.server.url, page, total, rows.map((r) => show.member(r)));
  };
  const List = { can: 'read_project' as const, params: ProjectParams, query: ListQuery, response: { 200: t.Array(MemberModel), ...Errors } };
  const One = { can: 'read_project' as const, params: MemberParams, response: { 200: MemberModel, ...Errors } };
  return new Elysia({ name: 'rest-api.members', prefix: '/api/v4/projects/:id/members' })
    .use(peopleAuth(core))
    .get('', list, { ...List, ...doc("List a project's members", 'Highest access level first.') })
    .get('/all', list, { ...List, ...doc("List a project's members, inherited ones included (Baton has no groups: the same list)") })

    .post('', ({ actor, project, body }) => json(show.member(core.members.add(actor, project, {
      userId: body.user_id, username: body.username, accessLevel: body.access_level, expiresAt: body.expires_at,
    })), 201), {
      can: 'admin_project', params: ProjectParams, ...withModel(AddBody), response: { 201: MemberModel, ...Errors, 409: Errors[400] },
      ...doc('Add a member', '409 "Member already exists"; 404 for an unknown user; only an Owner (or admin) may add an Owner.'),
    })

    .get('/:user_id', ({ project, params }) => json(show.member(core.members.get(project, numericId(params.user_id)))),
      { ...One, ...doc('Get a member') })
    .get('/all/:user_id', ({ project, params }) => json(show.member(core.members.get(project, numericId(params.user_id)))),
      { ...One, ...doc('Get a member (inherited ones included: the same as above)') })

    .put('/:user_id', ({ actor, project, params, body }) =>
      json(show.member(core.members.update(actor, project, numericId(params.user_id), { accessLevel: body.access_level, expiresAt: body.expires_at }))),
    { can: 'admin_project', params: MemberParams, ...withModel(EditBody), response: { 200: MemberModel, ...Errors }, ...doc("Change a member's access level or expiry", 'The last Owner stays an Owner.') })

    .delete('/:user_id', ({ actor, project, params }) => {
      core.members.remove(actor, project, numericId(params.user_id));
      return empty(204);
    }, { can: 'admin_project', params: MemberParams, response: { 204: t.Void(), ...Errors }, ...doc('Remove a member', 'The last Owner cannot be removed.') });
}
