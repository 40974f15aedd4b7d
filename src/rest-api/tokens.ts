/**
 * Personal access tokens (forges-and-rest.md §C.3): admins make them for anyone, users for
 * themselves; each sees and revokes their own (admins: all). The `glpat-…` secret is in the
 * creation answer only.
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import type { TokenInput } from '../core/people/tokens';
import { peopleAuth } from '../http/auth';
import { withModel } from '../http/params';
import { empty, json } from '../http/respond';
import { Errors, restDoc } from './common';
import { numericId } from './lookup';
import { PageQuery, pageOf, paginated } from './pagination';
import { Presenter, TokenModel, TokenWithSecretModel } from './presenters';

const CreateBody = t.Object({
  name: t.String({ minLength: 1 }),
  scopes: t.Union([t.Array(t.String()), t.String()], { description: 'api (all the user may do) and/or read_api (reads only); a list, `scopes[]=…` or comma-separated' }),
  expires_at: t.Optional(t.Union([t.String({ description: 'YYYY-MM-DD, after today; the token stops working at midnight UTC of that day (default: never)' }), t.Null()])),
});
const TokenParams = t.Object({ id: t.String({ description: 'token id' }) });
const UserParams = t.Object({ id: t.String({ description: 'user id' }) });
const ListQuery = t.Object({
  ...PageQuery,
  user_id: t.Optional(t.Integer({ description: "admins: this user's tokens; others may only name themselves" })),
  revoked: t.Optional(t.Boolean()),
  state: t.Optional(t.Union([t.Literal('active'), t.Literal('inactive')])),
  search: t.Optional(t.String({ description: 'name contains' })),
});

function input(b: typeof CreateBody.static): TokenInput {
  const scopes = (Array.isArray(b.scopes) ? b.scopes : [b.scopes]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  return { name: b.name, scopes, expiresAt: b.expires_at };
}

export function tokenRoutes(core: Core) {
  const show = new Presenter(core);
  const doc = restDoc('personal access tokens');
  const created = ({ token, secret }: ReturnType<Core['tokens']['create']>) => json({ ...show.token(token), token: secret }, 201);
  const Created = { ...withModel(CreateBody), response: { 201: TokenWithSecretModel, ...Errors } };
  return new Elysia({ name: 'rest-api.tokens', prefix: '/api/v4' })
    .use(peopleAuth(core))
    .post('/users/:id/personal_access_tokens', ({ params, body }) => created(core.tokens.create(core.users.get(numericId(params.id)).id, input(body))),
      { admin: true, params: UserParams, ...Created, ...doc("Create a personal access token for a user", 'The token is in this answer only.') })

    .post('/user/personal_access_tokens', ({ actor, body }) => created(core.tokens.create(actor.userId, input(body))),
      { auth: true, ...Created, ...doc('Create a personal access token for yourself', 'The token is in this answer only.') })

    .get('/personal_access_tokens', ({ actor, query, request }) => {
      const page = pageOf(query);
      const filter = core.access.tokenFilter(actor, { userId: query.user_id, revoked: query.revoked, state: query.state, search: query.search });
      const { rows, total } = core.tokens.list(page.offset, page.limit, filter);
      return paginated(request, core.deps.server.url, page, total, rows.map((tk) => show.token(tk)));
    }, { auth: true, query: ListQuery, response: { 200: t.Array(TokenModel), ...Errors }, ...doc('List personal access tokens', "Your own; an admin's list has everyone's (filter with user_id).") })

    .get('/personal_access_tokens/self', ({ actor }) => json(show.token(core.access.ownToken(actor))),
      { auth: true, response: { 200: TokenModel, ...Errors }, ...doc('The token this request uses', '404 when the request is signed in with a session instead.') })

    .delete('/personal_access_tokens/self', ({ actor }) => {
      core.tokens.revoke(core.access.ownToken(actor).id);
      return empty(204);
    }, { auth: true, response: { 204: t.Void(), ...Errors }, ...doc('Revoke the token this request uses') })

    .get('/personal_access_tokens/:id', ({ actor, params }) => json(show.token(core.access.token(actor, params.id))),
      { auth: true, params: TokenParams, response: { 200: TokenModel, ...Errors }, ...doc('Get a personal access token', "401 for another user's token (GitLab's answer); admins see any.") })

    .delete('/personal_access_tokens/:id', ({ actor, params }) => {
      core.tokens.revoke(core.access.token(actor, params.id).id);
      return empty(204);
    }, { auth: true, params: TokenParams, response: { 204: t.Void(), ...Errors }, ...doc('Revoke a personal access token', 'It stops working at once (401 "Token was revoked").') });
}
