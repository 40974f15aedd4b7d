/**
 * The HTTP side of the client commands: where the server is (`--url` / BATON_URL), the
 * token (`--token` / BATON_TOKEN: the admin token or a personal access token, sent as
 * PRIVATE-TOKEN), and every failure turned into one ClientError line that says why —
 * unreachable server, refused token, not allowed, 4xx/5xx.
 */
import { ClientError } from './errors';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
/** A request that gets no answer in this time is a failure, not a hang. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface Connection { url: string; token: string }

/** Flags win over the environment, as for the server's flags. */
export function connection(flags: { url?: string; token?: string }, env: Record<string, string | undefined> = process.env, tokenEnv = 'BATON_TOKEN'): Connection {
  const raw = flags.url ?? env.BATON_URL ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ClientError(`--url: expected an http(s) URL such as ${DEFAULT_URL}, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ClientError(`--url: expected an http(s) URL, got "${raw}"`);
  const token = flags.token ?? env[tokenEnv];
  if (!token) {
    throw new ClientError(tokenEnv === 'BATON_TOKEN'
      ? 'no token: pass --token or set BATON_TOKEN (the admin token `baton serve` printed on first start, or a personal access token)'
      : `no token: pass --token or set ${tokenEnv}`);
  }
  return { url: url.href.replace(/\/+$/, ''), token };
}

type Query = Record<string, string | number | undefined>;

export class BatonClient {
  constructor(private conn: Connection) {}

  get url() { return this.conn.url; }
  get token() { return this.conn.token; }

  /** A request with exactly these headers (no PRIVATE-TOKEN): the webhook of `baton hook`. */
  async raw(method: string, path: string, headers: Record<string, string>, body: string): Promise<Response> {
    try {
      return await fetch(`${this.conn.url}/api/v4${path}`, { method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), redirect: 'manual' });
    } catch (e) {
      const err = e as { name?: string; code?: string; message?: string };
      if (err.name === 'TimeoutError') throw new ClientError(`no answer from Baton at ${this.url} within ${REQUEST_TIMEOUT_MS / 1000} s`);
      throw new ClientError(`cannot reach Baton at ${this.url}: ${describeNetworkError(err)}`);
    }
  }

  /** GET a JSON resource under /api/v4. */
  get<T>(path: string, query?: Query): Promise<T> {
    return this.json<T>('GET', path, { query });
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('POST', path, { body });
  }

  /** DELETE a resource; the answer (204, usually) has no body to read. */
  async delete(path: string): Promise<void> {
    const res = await this.send('DELETE', path, {});
    if (!res.ok) await this.fail(res, 'DELETE', path);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('PUT', path, { body });
  }

  /** Every item of a paginated list, page after page (per_page=100, X-Total-Pages). */
  async list<T>(path: string, query: Query = {}): Promise<T[]> {
    const all: T[] = [];
    // Lists are newest first: an item created while paging shifts the rest by one, so an
    // item can come twice; it is printed once.
    const seen = new Set<unknown>();
    for (let page = 1; ; page++) {
      const res = await this.send('GET', path, { query: { ...query, page, per_page: 100 } });
      const items = await this.parse<T[]>(res, 'GET', path);
      if (!Array.isArray(items)) throw new ClientError(`GET /api/v4${path}: expected a list in the answer — is ${this.url} a Baton server?`);
      for (const item of items) {
        const id = (item as { id?: unknown } | null)?.id;
        if (id === undefined || !seen.has(id)) all.push(item);
        seen.add(id);
      }
      // A server that sends no X-Total-Pages gets one page read, never an endless loop.
      const pages = Number(res.headers.get('x-total-pages'));
      if (!Number.isFinite(pages) || page >= pages || items.length === 0) return all;
    }
  }

  /** The raw bytes of a resource (a job log). */
  async bytes(path: string): Promise<Uint8Array> {
    const res = await this.send('GET', path, {});
    if (!res.ok) await this.fail(res, 'GET', path);
    return new Uint8Array(await res.arrayBuffer());
  }

  /**
   * Opens a Server-Sent Events stream: no time limit (it lasts as long as what it follows;
   * the caller aborts it through `signal`); `lastEventId` resumes it. A non-2xx answer fails like any other request.
   */
  async stream(path: string, opts: { lastEventId?: string; signal: AbortSignal }): Promise<Response> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (opts.lastEventId !== undefined) headers['last-event-id'] = opts.lastEventId;
    const res = await this.send('GET', path, { headers, signal: opts.signal });
    if (!res.ok) await this.fail(res, 'GET', path);
    return res;
  }

  private async json<T>(method: string, path: string, opts: { query?: Query; body?: unknown }): Promise<T> {
    return this.parse<T>(await this.send(method, path, opts), method, path);
  }

  private async parse<T>(res: Response, method: string, path: string): Promise<T> {
    if (!res.ok) await this.fail(res, method, path);
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ClientError(`${method} /api/v4${path}: the answer is not JSON — is ${this.url} a Baton server?`);
    }
  }

  private async send(method: string, path: string, opts: { query?: Query; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal }): Promise<Response> {
    const target = new URL(`${this.conn.url}/api/v4${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) target.searchParams.set(k, String(v));
    const headers: Record<string, string> = { 'PRIVATE-TOKEN': this.conn.token, accept: 'application/json', ...opts.headers };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(target, {
        method, headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        redirect: 'manual',
      });
    } catch (e) {
      const err = e as { name?: string; code?: string; message?: string };
      if (err.name === 'TimeoutError') throw new ClientError(`no answer from Baton at ${this.url} within ${REQUEST_TIMEOUT_MS / 1000} s`);
      throw new ClientError(`cannot reach Baton at ${this.url}: ${describeNetworkError(err)}`);
    }
  }

  /** Turns a non-2xx answer into one line: the server's message, with a hint where one helps. */
  private async fail(res: Response, method: string, path: string): Promise<never> {
    const body = await res.text().catch(() => '');
    let message: unknown;
    try {
      // GitLab's OAuth-style answers (expired, revoked, insufficient scope) describe themselves in error_description.
      const parsed = JSON.parse(body) as { message?: unknown; error?: unknown; error_description?: unknown };
      message = parsed.message ?? parsed.error_description ?? parsed.error;
    } catch {
      message = undefined;
    }
    const lines = messageLines(message);
    const where = `${method} /api/v4${path}`;
    if (res.status === 401) {
      throw new ClientError(`401 Unauthorized: the server refused the token — check --token / BATON_TOKEN (${lines[0] ?? 'unknown, expired or revoked'})`, res.status, lines);
    }
    if (res.status === 403) {
      const why = /insufficient_scope/.test(body) ? 'the token has the read_api scope only' : lines[0] ?? '403 Forbidden';
      throw new ClientError(`${why.startsWith('403') ? why : `403 Forbidden - ${why}`}: this token's user may not do that (${where})`, res.status, lines);
    }
    const reason = lines.length ? lines.join('; ') : `${res.status} ${res.statusText || 'error'}`;
    // GitLab's messages already start with the status ("404 Project Not Found").
    const withStatus = reason.startsWith(String(res.status)) ? reason : `${res.status} ${res.statusText || 'error'}: ${reason}`;
    throw new ClientError(`${withStatus} (${where})`, res.status, lines);
  }
}

/** GitLab's `message` is a string, a list, or `{field: [problems]}` (`base` = not about one field). */
export function messageLines(message: unknown): string[] {
  if (message === undefined || message === null || message === '') return [];
  if (typeof message === 'string') return [message];
  if (Array.isArray(message)) return message.flatMap(messageLines);
  if (typeof message === 'object') {
    return Object.entries(message as Record<string, unknown>).flatMap(([field, v]) =>
      messageLines(v).map((line) => (field === 'base' ? line : `${field} ${line}`)));
  }
  return [String(message)];
}

function describeNetworkError(err: { code?: string; message?: string }): string {
  switch (err.code) {
    case 'ConnectionRefused': case 'ECONNREFUSED': return 'connection refused (is `baton serve` running there?)';
    case 'ENOTFOUND': case 'FailedToOpenSocket': return `${err.message ?? 'host not found'}`;
    case 'ConnectionClosed': case 'ECONNRESET': return 'the connection was closed';
    default: return err.message ?? String(err);
  }
}
