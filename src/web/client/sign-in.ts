/** The sign-in form: sent as JSON so that a wrong password or a rate limit is said on the page. */
import { api, ApiError } from './api';

export function initSignIn() {
  const form = document.querySelector<HTMLFormElement>('form[data-sign-in]');
  if (!form) return;
  const error = form.querySelector<HTMLElement>('[data-error]')!;
  const button = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
  const say = (text: string) => {
    error.textContent = text;
    error.hidden = false;
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    error.hidden = true;
    button.disabled = true;
    try {
      await api('POST', '/users/sign_in', { login: data.get('user[login]'), password: data.get('user[password]') });
      location.href = String(data.get('redirect_to') || '/');
    } catch (err) {
      button.disabled = false;
      if (!(err instanceof ApiError)) return say(`Could not reach Baton: ${(err as Error).message}`);
      if (err.status === 429) {
        let left = err.retryAfter ?? 60;
        button.disabled = true;
        const tick = () => {
          say(`Too many failed sign-ins. Try again in ${left} second${left === 1 ? '' : 's'}.`);
          if (left-- <= 0) { button.disabled = false; error.hidden = true; return; }
          setTimeout(tick, 1000);
        };
        return tick();
      }
      if (err.status === 401) return say('Invalid username, email or password.');
      if (err.status === 403) return say(err.message.replace(/^403 Forbidden - /, '') || 'This account may not sign in.');
      say(err.message);
    }
  });
}
