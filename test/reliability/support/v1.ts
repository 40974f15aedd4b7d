/**
 * A lean GitLab CI API v1 client for load and crash tests: one method per runner call, no
 * retries of its own. A dead server is status 0 (the caller decides what a runner would do).
 * `base` is a function so a crash test can point every runner at the restarted server.
 */
import { tryFetch } from './process';

export interface V1Job { id: number; token: string; name: string; stage: string; variables: { key: string; value: string }[] }

export interface Answer { status: number; headers: Headers; text: string }

const UA = 'gitlab-ci-multi-runner 1.11.5 (1-11-stable; go1.8.3; linux/amd64)';

export class V1Client {
  constructor(private base: () => string) {}

  private async call(method: string, path: string, init: { json?: unknown; headers?: Record<string, string>; body?: NonNullable<RequestInit['body']>; timeoutMs?: number } = {}): Promise<Answer> {
    const headers: Record<string, string> = { 'user-agent': UA, ...init.headers };
    let body = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const res = await tryFetch(this.base() + '/ci/api/v1' + path, { method, headers, body, timeoutMs: init.timeoutMs });
    if (!res) return { status: 0, headers: new Headers(), text: '' };
    let text = '';
    try { text = await res.text(); } catch { return { status: 0, headers: new Headers(), text: '' }; }
    return { status: res.status, headers: res.headers, text };
  }

  async register(token: string, extra: Record<string, unknown> = {}): Promise<{ status: number; id?: number; token?: string }> {
    const a = await this.call('POST', '/runners/register', { json: { token, description: 'reliability', ...extra } });
    if (a.status !== 201) return { status: a.status };
    const b = JSON.parse(a.text);
    return { status: a.status, id: b.id, token: b.token };
  }

  /** 201 → a job; 204/404 → none; 409 → lost a race; 0 → server down. */
  async requestJob(runnerToken: string): Promise<{ status: number; job?: V1Job }> {
    const a = await this.call('POST', '/builds/register', { json: { token: runnerToken, info: { name: 'gitlab-ci-multi-runner', version: '1.11.5' } } });
    if (a.status !== 201) return { status: a.status };
    return { status: a.status, job: JSON.parse(a.text) };
  }

  /** Appends `bytes` at `start`; on 202/416 `range` is the stored length the server reports. */
  async patchTrace(id: number, jobToken: string, start: number, bytes: Uint8Array): Promise<{ status: number; range?: number; buildStatus?: string }> {
    const a = await this.call('PATCH', `/builds/${id}/trace.txt`, {
      headers: { 'BUILD-TOKEN': jobToken, 'content-type': 'text/plain', 'content-range': `${start}-${start + bytes.length}` },
      body: bytes,
    });
    const r = /^0-(\d+)$/.exec(a.headers.get('range') ?? '');
    return { status: a.status, range: r ? Number(r[1]) : undefined, buildStatus: a.headers.get('build-status') ?? undefined };
  }

  async uploadArtifact(id: number, jobToken: string, bytes: Uint8Array, filename = 'artifacts.zip'): Promise<number> {
    const form = new FormData();
    form.append('file', new Blob([bytes]), filename);
    const a = await this.call('POST', `/builds/${id}/artifacts`, { headers: { 'BUILD-TOKEN': jobToken }, body: form });
    return a.status;
  }

  async downloadArtifact(id: number, token: string): Promise<{ status: number; bytes?: Uint8Array }> {
    const res = await tryFetch(`${this.base()}/ci/api/v1/builds/${id}/artifacts`, { headers: { 'BUILD-TOKEN': token, 'user-agent': UA } });
    if (!res) return { status: 0 };
    try {
      const bytes = new Uint8Array(await res.arrayBuffer());
      return { status: res.status, bytes: res.status === 200 ? bytes : undefined };
    } catch { return { status: 0 }; }
  }

  /** The state update; `trace` (the whole log) replaces the stored one, as 1.x runners send it. */
  async update(id: number, runnerToken: string, state: string, trace?: string): Promise<number> {
    const a = await this.call('PUT', `/builds/${id}`, { json: { token: runnerToken, state, ...(trace === undefined ? {} : { trace }) } });
    return a.status;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
