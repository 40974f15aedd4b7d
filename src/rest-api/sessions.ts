/**
 * Dashboard sign-in and sign-out (GitLab's web paths `/users/sign_in`, `/users/sign_out`);
 * the pages themselves belong to the dashboard (src/web/). core/people/sessions.ts keeps
 * the sessions and the failed-sign-in limits.
 *
 * The contract with the pages:
 *   - `POST /users/sign_in` with `login` (username or email) and `password`, as JSON or as
 *     a form (`user[login]`/`user[password]`, GitLab's form names, work too). Success sets
 *     `baton_session=…; Path=/; HttpOnly; SameSite=Lax` (+ `Secure` when --external-url is
 *     https) and answers JSON 200 `{user, csrf_token, expires_at}`, or for a form 303 to
 *     `redirect_to` (a local path, default `/`). Failures answer their status with a JSON
 *     message for both: 400 (field missing), 401 (wrong login or password), 403 (blocked
 *     account, or a cross-origin request), 429 with Retry-After (too many failures).
 *   - The cookie is HttpOnly: page scripts never see it. The session's CSRF token is what a
 *     page must send in `X-CSRF-Token` on every state-changing request it makes with the
 *     cookie (anything but GET/HEAD/OPTIONS, any /api/v4 route): server-rendered pages put
 *     it in `<meta name="csrf-token" content="…">` (the actor of a cookie-authenticated
 *     request carries it: `actor.session.csrfToken`, or `core.sessions.csrfToken(cookie)`);
 *     a script can also read it from the `csrf_token` of the sign-in answer or from the
 *     `X-CSRF-Token` response header of `GET /api/v4/user`. Requests from another origin
 *     (`Origin`, `Sec-Fetch-Site`) are refused even with the token.
 *   - `POST /users/sign_out` ends the session: the token in `X-CSRF-Token` or, for a plain
 *     HTML form, in the `authenticity_token` field. JSON 204 or, for a form, 303 to
 *     `/users/sign_in`; the cookie is cleared either way.
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import { badRequest, forbidden } from '../core/errors';
import { SESSION_COOKIE, SESSION_IDLE_MS } from '../core/people/sessions';
import { cookieValue, isCrossOrigin } from '../http/auth';
import { withModel } from '../http/params';
import { empty, json } from '../http/respond';
import { clientAddressOf } from '../http/request-log';
import { Errors } from './common';
import { AnyUserModel, Presenter } from './presenters';

const SignInBody = t.Object({
  login: t.Optional(t.String({ description: 'username or email' })),
  password: t.Optional(t.String()),
  user: t.Optional(t.Object({ login: t.Optional(t.String()), password: t.Optional(t.String()) }, { description: "GitLab's form names: user[login], user[password]" })),
  redirect_to: t.Optional(t.String({ description: 'forms: where to go after signing in (a local path; default /)' })),
});
const SignOutBody = t.Object({ authenticity_token: t.Optional(t.String({ description: 'the CSRF token, for a plain HTML form' })) });
const SignedInModel = t.Object({ user: AnyUserModel, csrf_token: t.String({ description: 'send it in X-CSRF-Token on state-changing requests' }), expires_at: t.String({ format: 'date-time' }) });

/** An HTML form post (answered with redirects); anything else is answered as an API call. */
const isForm = (request: Request) => /^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(request.headers.get('content-type') ?? '');

/** Only a path on this server: `/x`, never `//host` or `/\host` (an open redirect). */
function localPath(raw: string | undefined): string {
  return raw && /^\/(?![/\\])/.test(raw) ? raw : '/';
}

export function sessionRoutes(core: Core) {
  const show = new Presenter(core);
  const detail = (summary: string, description: string) => ({ detail: { tags: ['sessions'], summary, description } });
  const secure = () => (/^https:/i.test(core.deps.server.url) ? '; Secure' : '');
  const cookie = (value: string, maxAgeS: number) => `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeS}${secure()}`;
  const sameOrigin = (request: Request) => {
    if (isCrossOrigin(request, core.deps.server.url)) throw forbidden('403 Forbidden - cross-origin request refused');
  };

  return new Elysia({ name: 'rest-api.sessions' })
    .post('/users/sign_in', async ({ body, request }) => {
      sameOrigin(request);
      const login = body.login ?? body.user?.login;
      const password = body.password ?? body.user?.password;
      if (!login) throw badRequest('400 Bad request - login is missing');
      if (password === undefined) throw badRequest('400 Bad request - password is missing');
      const signed = await core.sessions.signIn({ login, password, address: clientAddressOf(request), userAgent: request.headers.get('user-agent') ?? undefined });
      const headers = { 'Set-Cookie': cookie(signed.token, SESSION_IDLE_MS / 1000), 'Cache-Control': 'no-store' };
      if (isForm(request)) return empty(303, { ...headers, Location: localPath(body.redirect_to) });
      const actor = { userId: signed.user.id, username: signed.user.username, admin: signed.user.admin, readOnly: false, via: 'session' as const };
      return json({ user: show.user(signed.user, actor), csrf_token: signed.csrfToken, expires_at: new Date(signed.session.expiresAt).toISOString() }, 200, headers);
    }, {
      ...withModel(SignInBody), response: { 200: SignedInModel, 303: t.Void(), ...Errors, 429: Errors[400] },
      ...detail('Sign in (dashboard session)', 'login (username or email) + password, as JSON (200 with csrf_token) or a form (303). Sets the HttpOnly baton_session cookie. 401 wrong login or password, 403 blocked, 429 with Retry-After after 5 failures in 15 minutes per account or address.'),
    })

    .post('/users/sign_out', ({ body, request }) => {
      const token = cookieValue(request, SESSION_COOKIE);
      if (token && core.sessions.authenticate(token)) {
        sameOrigin(request);
        if (!core.sessions.checkCsrf(token, request.headers.get('x-csrf-token') ?? body.authenticity_token)) {
          throw forbidden("403 Forbidden - CSRF token missing or invalid: send the session's token in X-CSRF-Token");
        }
        core.sessions.signOut(token);
      }
      const headers = { 'Set-Cookie': cookie('', 0), 'Cache-Control': 'no-store' };
      return isForm(request) ? empty(303, { ...headers, Location: '/users/sign_in' }) : empty(204, headers);
    }, {
      ...withModel(SignOutBody), response: { 204: t.Void(), 303: t.Void(), ...Errors },
      ...detail('Sign out', 'Ends the session of the cookie (CSRF token in X-CSRF-Token, or authenticity_token in a form) and clears the cookie.'),
    });
}
