/** The sign-in form; it posts to POST /users/sign_in (src/rest-api/sessions.ts). */
import { html } from '../html';
import { layout } from './layout';

export function signInPage(redirectTo: string): string {
  return layout({
    title: 'Sign in', viewer: null, page: 'sign-in',
    main: html`<div class="signin card">
<h1>Sign in to Baton</h1>
<form method="post" action="/users/sign_in" data-sign-in>
<input type="hidden" name="redirect_to" value="${redirectTo}">
<label for="login">Username or email</label>
<input id="login" name="user[login]" required autocomplete="username" autocapitalize="none" spellcheck="false" autofocus>
<label for="password">Password</label>
<input id="password" name="user[password]" type="password" required autocomplete="current-password">
<p class="form-error" role="alert" hidden data-error></p>
<button class="btn primary wide" type="submit">Sign in</button>
</form>
<p class="muted small">Accounts are made by an administrator (<code>baton user create</code> or the Users page).</p>
</div>`,
  }).value;
}

/** Only a path on this server (never `//host`): where to go after signing in. */
export function localPath(raw: string | undefined): string {
  return raw && /^\/(?![/\\])/.test(raw) ? raw : '/';
}
