/**
 * Users (forges-and-rest.md §C.2): anyone signed in may list and look users up (to add
 * members); only admins create, edit, delete, block and unblock. `GET /user` is the caller;
 * to a cookie-authenticated caller it also hands the session's CSRF token (X-CSRF-Token
 * response header; see sessions.ts).
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import { notFound } from '../core/errors';
import type { User } from '../db/schema';
import { peopleAuth } from '../http/auth';
import { withModel } from '../http/params';
import { empty, json } from '../http/respond';
import { Errors, restDoc } from './common';
import { numericId } from './lookup';
import { PageQuery, pageOf, paginated } from './pagination';
import { AnyUserModel, Presenter, UserAdminModel } from './presenters';

const UserParams = t.Object({ id: t.String({ description: 'user id' }) });
const password = t.String({ description: 'at least 8 characters; stored as an argon2id hash, never shown' });
const CreateBody = t.Object({
  username: t.String({ minLength: 1 }),
  name: t.String({ minLength: 1 }),
  email: t.Optional(t.String({ description: 'optional in Baton (no mail is sent); signs in like the username' })),
  password: t.Optional(password),
  force_random_password: t.Optional(t.Boolean({ description: 'no password anyone knows: tokens only, until an admin sets one' })),
  admin: t.Optional(t.Boolean({ description: 'an instance administrator (default false)' })),
  skip_confirmation: t.Optional(t.Boolean({ description: 'accepted and ignored: Baton sends no mail' })),
});
const UpdateBody = t.Object({
  username: t.Optional(t.String({ minLength: 1, description: "renaming moves the user's namespace and its projects" })),
  name: t.Optional(t.String({ minLength: 1 })),
  email: t.Optional(t.String()),
  password: t.Optional(t.String({ description: "a new password; ends the user's sign-in sessions" })),
  admin: t.Optional(t.Boolean()),
});
const ListQuery = t.Object({
  ...PageQuery,
  username: t.Optional(t.String({ description: 'exactly this username (case-insensitive)' })),
  search: t.Optional(t.String({ description: 'username or name (admins: also email) contains' })),
  active: t.Optional(t.Boolean({ description: 'only active users' })),
  blocked: t.Optional(t.Boolean({ description: 'only blocked users' })),
});

function userOf(core: Core, raw: string): User {
  const user = core.users.find(numericId(raw));
  if (!user) throw notFound('User');
  return user;
}

export function userRoutes(core: Core) {
  const show = new Presenter(core);
  const doc = restDoc('users');
  return new Elysia({ name: 'rest-api.users', prefix: '/api/v4' })
    .use(peopleAuth(core))
    .get('/users', ({ actor, query, request }) => {
      const page = pageOf(query);
      const state = query.blocked ? 'blocked' : query.active ? 'active' : undefined;
      const { rows, total } = core.users.list(page.offset, page.limit, { username: query.username, search: query.search, searchEmail: actor.admin, state });
      return paginated(request, core.deps.server.url, page, total, rows.map((u) => show.user(u, actor, 'basic')));
    }, { auth: true, query: ListQuery, response: { 200: t.Array(AnyUserModel), ...Errors }, ...doc('List users (newest first)', 'Admins see every field (is_admin, email, …); others the basic ones.') })

    .post('/users', async ({ actor, body }) => json(show.user(await core.users.create({
      username: body.username, name: body.name, email: body.email, password: body.password,
      forceRandomPassword: body.force_random_password, admin: body.admin,
    }), actor), 201), {
      admin: true, ...withModel(CreateBody), response: { 201: UserAdminModel, ...Errors, 409: Errors[400] },
      ...doc('Create a user', '409 when the username or email is taken; 400 {"message": {"password": ["is too short (minimum is 8 characters)"]}} and the like for invalid fields.'),
    })

    .get('/users/:id', ({ actor, params }) => json(show.user(userOf(core, params.id), actor)),
      { auth: true, params: UserParams, response: { 200: AnyUserModel, ...Errors }, ...doc('Get a user') })

    .put('/users/:id', async ({ actor, params, body }) => json(show.user(await core.users.update(userOf(core, params.id).id, {
      username: body.username, name: body.name, email: body.email, password: body.password, admin: body.admin,
    }), actor)), { admin: true, params: UserParams, ...withModel(UpdateBody), response: { 200: UserAdminModel, ...Errors, 409: Errors[400] }, ...doc('Edit a user') })

    .delete('/users/:id', ({ actor, params }) => {
      core.users.delete(userOf(core, params.id).id, actor);
      return empty(204);
    }, { admin: true, params: UserParams, response: { 204: t.Void(), ...Errors }, ...doc('Delete a user', 'With their tokens, sessions and memberships; projects in their namespace stay (admins see them).') })

    .post('/users/:id/block', ({ actor, params }) => json(core.users.block(userOf(core, params.id).id, actor), 201),
      { admin: true, params: UserParams, response: { 201: t.Boolean(), ...Errors }, ...doc('Block a user', 'Answers `true`. Their sessions end; their tokens are refused (403) until unblocked.') })

    .post('/users/:id/unblock', ({ params }) => json(core.users.unblock(userOf(core, params.id).id), 201),
      { admin: true, params: UserParams, response: { 201: t.Boolean(), ...Errors }, ...doc('Unblock a user', 'Answers `true` when the user was blocked, `false` when not.') })

    .get('/user', ({ actor }) => json(show.user(core.users.get(actor.userId), actor), 200, actor.session ? { 'X-CSRF-Token': actor.session.csrfToken } : {}),
      { auth: true, response: { 200: AnyUserModel, ...Errors }, ...doc('The caller', 'Signed in with the session cookie, the answer also carries the session\'s CSRF token in the X-CSRF-Token header.') });
}
