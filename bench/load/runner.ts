/**
 * A minimal runner client for the load generators, speaking v1 (gitlab-ci-multi-runner 1.11)
 * or v4 (gitlab-runner 11.11) as the wire logs in shared/spec show: same paths, headers,
 * `info` and `last_update` echo. It keeps nothing but tokens; timing is the caller's.
 */

export type Proto = 'v1' | 'v4';

const UA: Record<Proto, string> = {
  v1: 'gitlab-ci-multi-runner 1.11.5 (1-11-stable; go1.19.8; linux/amd64)',
  v4: 'gitlab-runner 11.11.4 (11-11-stable; go1.19.8; linux/amd64)',
};

export const INFO: Record<Proto, object> = {
  v1: {
    name: 'gitlab-ci-multi-runner', version: '1.11.5', revision: 'cbfcb5c8', platform: 'linux', architecture: 'amd64', executor: 'shell',
    features: { variables: true, image: false, services: false, features: false, cache: false },
  },
  v4: {
    name: 'gitlab-runner', version: '11.11.4', revision: 'e828d3bc', platform: 'linux', architecture: 'amd64', executor: 'shell', shell: 'bash',
    features: { variables: true, image: false, services: false, artifacts: true, cache: true, shared: true, upload_multiple_artifacts: true,
      upload_raw_artifacts: true, session: true, terminal: true, refspecs: true, masking: true },
  },
};

export interface ClaimedJob { id: number; token: string }

export interface PollAnswer { status: number; job?: ClaimedJob; lastUpdate?: string }

const jsonHeaders = (proto: Proto) => ({ 'content-type': 'application/json', accept: 'application/json', 'user-agent': UA[proto] });

export class RunnerClient {
  /** The last `X-GitLab-Last-Update` this runner was told; echoed on the next poll, as real runners do. */
  lastUpdate: string | undefined;

  constructor(readonly base: string, readonly proto: Proto, readonly token: string) {}

  static async register(base: string, proto: Proto, registrationToken: string, description = 'bench'): Promise<RunnerClient> {
    const path = proto === 'v1' ? '/ci/api/v1/runners/register.json' : '/api/v4/runners';
    const res = await fetch(base + path, {
      method: 'POST', headers: jsonHeaders(proto),
      body: JSON.stringify({ token: registrationToken, description, run_untagged: true, locked: false, info: INFO[proto] }),
    });
    if (res.status !== 201) throw new Error(`register (${proto}): HTTP ${res.status} ${await res.text()}`);
    const { token } = (await res.json()) as { token: string };
    return new RunnerClient(base, proto, token);
  }

  /** One job request. `echo` false sends no last_update (forces a queue search). */
  async poll(opts: { echo?: boolean; signal?: AbortSignal } = {}): Promise<PollAnswer> {
    const path = this.proto === 'v1' ? '/ci/api/v1/builds/register.json' : '/api/v4/jobs/request';
    const body: Record<string, unknown> = { info: INFO[this.proto], token: this.token };
    if (opts.echo !== false && this.lastUpdate !== undefined) body.last_update = this.lastUpdate;
    const res = await fetch(this.base + path, { method: 'POST', headers: jsonHeaders(this.proto), body: JSON.stringify(body), signal: opts.signal });
    const lu = res.headers.get('x-gitlab-last-update');
    if (lu !== null) this.lastUpdate = lu;
    if (res.status === 201) {
      const job = (await res.json()) as ClaimedJob;
      if (typeof job.id !== 'number' || typeof job.token !== 'string') throw new Error(`job request: 201 without id/token`);
      return { status: 201, job: { id: job.id, token: job.token }, lastUpdate: lu ?? undefined };
    }
    await res.arrayBuffer();
    // 409: another claim won the race for the same job — the runner simply asks again.
    if (res.status !== 204 && res.status !== 409) throw new Error(`job request (${this.proto}): unexpected HTTP ${res.status}`);
    return { status: res.status, lastUpdate: lu ?? undefined };
  }
}

/** PATCH a trace slice at `start`; v1's Content-Range end is exclusive, v4's inclusive. */
export function patchTrace(base: string, proto: Proto, job: ClaimedJob, start: number, bytes: Uint8Array): Promise<Response> {
  const end = proto === 'v1' ? start + bytes.length : start + bytes.length - 1;
  const path = proto === 'v1' ? `/ci/api/v1/builds/${job.id}/trace.txt` : `/api/v4/jobs/${job.id}/trace`;
  return fetch(base + path, {
    method: 'PATCH',
    headers: { 'content-type': 'text/plain', 'content-range': `${start}-${end}`, [proto === 'v1' ? 'build-token' : 'job-token']: job.token, 'user-agent': UA[proto] },
    body: bytes,
  });
}

export function artifactsUrl(base: string, proto: Proto, job: ClaimedJob): string {
  return proto === 'v1' ? `${base}/ci/api/v1/builds/${job.id}/artifacts` : `${base}/api/v4/jobs/${job.id}/artifacts?artifact_format=zip&artifact_type=archive`;
}

export function jobTokenHeader(proto: Proto): string {
  return proto === 'v1' ? 'build-token' : 'job-token';
}

export function userAgent(proto: Proto): string {
  return UA[proto];
}
