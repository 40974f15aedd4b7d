/** Buttons that call the REST API (views/status.ts actionButton): data-action="METHOD /path". */
import { pathOf } from '../views/status';
import { api, ApiError, toast } from './api';

export function initActions() {
  document.addEventListener('click', async (e) => {
    const btn = (e.target as Element | null)?.closest<HTMLButtonElement>('button[data-action]');
    if (!btn || btn.disabled) return;
    e.preventDefault();
    if (btn.dataset.confirm && !window.confirm(btn.dataset.confirm)) return;
    const [method, path] = btn.dataset.action!.split(' ');
    const body = btn.dataset.body ? JSON.parse(btn.dataset.body) : undefined;
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    try {
      const res = await api<{ web_url?: string } | undefined>(method, path, body);
      const then = btn.dataset.then ?? 'reload';
      if (then === 'go' && res?.web_url) location.href = pathOf(res.web_url);
      else if (then === 'reload') location.reload();
      else toast(`${btn.getAttribute('aria-label') ?? btn.textContent ?? 'Done'}: done`);
    } catch (err) {
      toast(err instanceof ApiError ? err.message : `Failed: ${(err as Error).message}`, 'error');
    } finally {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
    }
  });
}
