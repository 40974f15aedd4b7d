/**
 * The ONE place that knows the session contract of the REST API (src/rest-api/sessions.ts,
 * src/http/auth.ts): the browser sends the HttpOnly `baton_session` cookie by itself; every
 * state-changing call must also carry the session's CSRF token in `X-CSRF-Token`, which the
 * page was rendered with in `<meta name="csrf-token">`.
 */
export function csrfToken(): string | null {
  return document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? null;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly lines: string[], readonly retryAfter: number | null) {
    super(lines.join('; ') || `request failed (${status})`);
  }
}

/** GitLab's `message` is a string, a list or `{field: [problems]}` (`base`: not about one field). */
function messageLines(message: unknown): string[] {
  if (message === undefined || message === null || message === '') return [];
  if (typeof message === 'string') return [message];
  if (Array.isArray(message)) return message.flatMap(messageLines);
  if (typeof message === 'object') {
    return Object.entries(message as Record<string, unknown>).flatMap(([k, v]) => messageLines(v).map((l) => (k === 'base' ? l : `${k} ${l}`)));
  }
  return [String(message)];
}

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (!['GET', 'HEAD'].includes(method)) {
    const token = csrfToken();
    if (token) headers['x-csrf-token'] = token;
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const text = await res.text();
  let parsed: unknown = undefined;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
  if (!res.ok) {
    const p = parsed as { message?: unknown; error?: unknown } | undefined;
    const retry = res.headers.get('retry-after');
    throw new ApiError(res.status, messageLines(p?.message ?? p?.error ?? (text.slice(0, 200) || res.statusText)), retry === null ? null : Number(retry));
  }
  return parsed as T;
}

/** A short message for everyone, screen readers included. */
export function toast(message: string, kind: 'ok' | 'error' = 'ok') {
  let box = document.querySelector<HTMLElement>('[data-toasts]');
  if (!box) {
    box = document.createElement('div');
    box.className = 'toasts';
    box.dataset.toasts = '';
    box.setAttribute('role', 'status');
    box.setAttribute('aria-live', 'polite');
    document.body.append(box);
  }
  const t = document.createElement('div');
  t.className = `toast ${kind}`;
  t.textContent = message;
  box.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 3500);
}
