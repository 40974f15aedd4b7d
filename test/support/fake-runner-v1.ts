/**
 * A simulated gitlab-ci-multi-runner 1.11.5 speaking GitLab CI API v1, following the real
 * traffic recorded in shared/spec/wire-v1.md step by step (headers, JSON bodies with the
 * `info` object, exclusive-end trace ranges, 416/404 recovery, abort rules, chunked
 * multipart artifact upload, dependency downloads with the entry's token, final PUT
 * repeated until 200/403/404). Jobs do not run anything: a JobBehaviour says what the
 * "script" prints, how it ends and which archive it leaves behind.
 *
 * Where the fake is stricter than 1.11.5 it says so (exact `application/json` on the 201s,
 * a missing `Range` on 416 throws — the real runner panics there).
 */

export interface JobBehaviour {
  /** lines the script prints */
  output?: string[];
  /** how the script ends (default success) */
  exit?: 'success' | 'failed';
  /** the archive the job leaves behind; uploaded when the YAML asks for artifacts */
  artifacts?: Uint8Array | string;
}

export interface FakeRunnerV1Options {
  description?: string;
  tags?: string[];
  /** default: true when no tags are given (what 1.11.5 sends), else false */
  runUntagged?: boolean;
  locked?: boolean;
  /** pause between trace updates (the real runner: 3000 ms); default 0 */
  updateIntervalMs?: number;
  /** pause between retries of the final update / artifact upload (real: 3000 / 1000 ms); default 0 */
  retryIntervalMs?: number;
  /** how often the final update is repeated before the fake gives up (the real runner: forever) */
  maxFinalAttempts?: number;
  userAgent?: string;
}

export interface RunOneOptions {
  /** called after every trace update tick while the script "runs" (tests cancel jobs here) */
  onTick?: (info: { jobId: number; tick: number; sent: number }) => void | Promise<void>;
}

export interface RunResult {
  jobId: number;
  name: string;
  /** what the runner reported in its final update */
  state: string;
  /** the whole log, as sent in the final update */
  trace: string;
  /** the build was aborted by the server (Build-Status canceled/failed, 403, or 404 on a full update) */
  aborted: boolean;
  /** status of the last final update (200, 403 or 404) */
  finalStatus: number;
}

/** One HTTP exchange as the fake saw it, for tests that check the wire sequence. */
export interface WireCall {
  method: string;
  path: string;
  status: number;
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string>;
  /** request body for JSON calls (parsed) and trace patches (text) */
  body?: unknown;
}

export interface Download { jobId: number; dependencyId: number; name: string; bytes: Uint8Array }

export const V1_USER_AGENT = 'gitlab-ci-multi-runner 1.11.5 (1-11-stable; go1.19.8; linux/amd64)';
/** Go's default, sent on requests without a body (artifact download). */
const GO_USER_AGENT = 'Go-http-client/1.1';

type Features = { variables: boolean; image: boolean; services: boolean; features: boolean; cache: boolean };
const info = (executor: string | undefined, features: Features) => ({
  name: 'gitlab-ci-multi-runner', version: '1.11.5', revision: 'cbfcb5c8', platform: 'linux', architecture: 'amd64',
  ...(executor ? { executor } : {}),
  // 1.11.5 serialises the artifacts flag under "features" (a struct-tag bug of the runner).
  features,
});
const REGISTER_INFO = info(undefined, { variables: false, image: false, services: false, features: false, cache: false });
const RUN_INFO = info('shell', { variables: true, image: false, services: false, features: false, cache: false });

/** The build JSON fields a 1.x runner reads (runner-api-v1.md §4.3). */
export interface V1Build {
  id: number;
  token: string;
  name: string;
  stage: string;
  commands: string;
  options: { artifacts?: { name?: string; when?: string; expire_in?: string; paths?: string[] }; dependencies?: string[]; [k: string]: unknown };
  depends_on_builds: { id: number; name: string; token: string; artifacts_file?: { filename: string; size: number } }[];
  [k: string]: unknown;
}

class FatalError extends Error {}

/** base URL as 1.6+ builds it: trailing `/` trimmed, `/ci` appended unless present, then `/api/v1/`. */
export function v1BaseUrl(url: string): string {
  let u = url.replace(/\/+$/, '');
  if (!u.endsWith('/ci')) u += '/ci';
  return `${u}/api/v1/`;
}

const sleep = (ms: number) => (ms > 0 ? Bun.sleep(ms) : Promise.resolve());
const headersOf = (h: Headers) => Object.fromEntries([...h.entries()]);

export class FakeRunnerV1 {
  readonly base: string;
  /** the last `X-GitLab-Last-Update` seen; echoed as `last_update` (runner 1.9+) */
  lastUpdate: string | undefined;
  /** every exchange, in order */
  readonly calls: WireCall[] = [];
  /** every dependency archive downloaded, in order */
  readonly downloads: Download[] = [];
  readonly opts: FakeRunnerV1Options;

  constructor(readonly url: string, readonly token: string, opts: FakeRunnerV1Options = {}) {
    this.base = v1BaseUrl(url);
    this.opts = opts;
  }

  /** `POST runners/register.json` as `gitlab-ci-multi-runner register --non-interactive` sends it. */
  static async register(url: string, registrationToken: string, opts: FakeRunnerV1Options = {}): Promise<FakeRunnerV1> {
    const tags = opts.tags ?? [];
    const body: Record<string, unknown> = { info: REGISTER_INFO, token: registrationToken, description: opts.description ?? 'fake-v1-runner' };
    if (tags.length) body.tag_list = tags.join(',');
    body.run_untagged = opts.runUntagged ?? tags.length === 0;
    if (opts.locked !== undefined) body.locked = opts.locked;
    const probe = new FakeRunnerV1(url, '', opts);
    const res = await probe.call('POST', 'runners/register.json', { json: body, accept: true });
    if (res.status !== 201) throw new Error(`register: expected 201, got ${res.status} ${await res.text()}`);
    const parsed = (await probe.decodeJson(res, 'register')) as { token?: string };
    if (typeof parsed.token !== 'string' || !parsed.token) throw new Error('register: no token in the answer');
    const runner = new FakeRunnerV1(url, parsed.token, opts);
    runner.calls.push(...probe.calls);
    return runner;
  }

  /** `gitlab-ci-multi-runner verify`: `PUT builds/-1` → 404 alive, 403 removed, anything else alive. */
  async verify(): Promise<'alive' | 'removed'> {
    const res = await this.call('PUT', 'builds/-1', { json: { token: this.token } });
    await res.body?.cancel();
    return res.status === 403 ? 'removed' : 'alive';
  }

  /** `gitlab-ci-multi-runner unregister`: a DELETE with a JSON body; 200 expected. */
  async unregister(): Promise<number> {
    const res = await this.call('DELETE', 'runners/delete', { json: { token: this.token } });
    await res.body?.cancel();
    return res.status;
  }

  /** One `builds/register.json` poll: the build, or null for 204/404/409/5xx ("nothing"/"failed"). 403 throws (unhealthy). */
  async poll(): Promise<V1Build | null> {
    const body: Record<string, unknown> = { info: RUN_INFO, token: this.token };
    if (this.lastUpdate) body.last_update = this.lastUpdate;
    const res = await this.call('POST', 'builds/register.json', { json: body, accept: true });
    const lu = res.headers.get('x-gitlab-last-update');
    if (lu) this.lastUpdate = lu;
    if (res.status === 201) return (await this.decodeJson(res, 'builds/register')) as V1Build;
    await res.body?.cancel();
    if (res.status === 403) throw new Error('builds/register: 403 forbidden (runner is not healthy)');
    return null;
  }

  /** Polls once and, if a build comes, runs it to the end the way 1.11.5 does. */
  async runOne(behaviours: Record<string, JobBehaviour>, opts: RunOneOptions = {}): Promise<RunResult | null> {
    const build = await this.poll();
    if (!build) return null;
    return this.run(build, behaviours[build.name] ?? {}, opts);
  }

  /** Runs a build received from `poll()`. */
  async run(build: V1Build, behaviour: JobBehaviour, opts: RunOneOptions = {}): Promise<RunResult> {
    const job = new BuildSession(this, build, opts);
    return job.execute(behaviour);
  }

  // ---------------------------------------------------------------- transport

  /** One request with the headers 1.11.5 sends for it. */
  async call(method: string, path: string, o: { json?: unknown; text?: Uint8Array; headers?: Record<string, string>; accept?: boolean; body?: NonNullable<RequestInit["body"]>; userAgent?: string } = {}): Promise<Response> {
    const headers: Record<string, string> = { 'User-Agent': o.userAgent ?? this.opts.userAgent ?? V1_USER_AGENT, 'Accept-Encoding': 'gzip', ...o.headers };
    // Accept is sent only on the two calls whose answer is decoded (Bun adds `*/*` otherwise).
    if (o.accept) headers.Accept = 'application/json';
    let body: NonNullable<RequestInit["body"]> | undefined = o.body;
    let logged: unknown;
    if (o.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(o.json);
      logged = o.json;
    } else if (o.text !== undefined) {
      headers['Content-Type'] = 'text/plain';
      body = o.text;
      logged = new TextDecoder().decode(o.text);
    }
    const res = await fetch(this.base + path, { method, headers, body });
    this.calls.push({ method, path, status: res.status, requestHeaders: headers, responseHeaders: headersOf(res.headers), body: logged });
    return res;
  }

  /**
   * Decodes a 201. 1.10+ compare the media type, ≤ 1.9 the whole header; Baton promises the
   * exact string, so the fake refuses anything else (runner-api-v1.md §0.2).
   */
  private async decodeJson(res: Response, what: string): Promise<unknown> {
    const ct = res.headers.get('content-type');
    if (ct !== 'application/json') throw new Error(`${what}: Server should return application/json. Got: ${ct}`);
    return res.json();
  }
}

/** The state of one build on the runner: log buffer, bytes acknowledged, state sent. */
class BuildSession {
  private buffer: Uint8Array = new Uint8Array(0);
  private sent = 0;
  private sentState: string | null = null;
  private incremental = true;
  private aborted = false;
  private tick = 0;
  private readonly enc = new TextEncoder();

  constructor(private runner: FakeRunnerV1, private build: V1Build, private opts: RunOneOptions) {}

  private log(line: string) {
    const add = this.enc.encode(line.endsWith('\n') ? line : `${line}\n`);
    const next = new Uint8Array(this.buffer.length + add.length);
    next.set(this.buffer);
    next.set(add, this.buffer.length);
    this.buffer = next;
  }

  private get text() { return new TextDecoder().decode(this.buffer); }

  async execute(behaviour: JobBehaviour): Promise<RunResult> {
    const b = this.build;
    const r = this.runner;
    this.log(`Running with gitlab-ci-multi-runner 1.11.5 (cbfcb5c8)`);
    this.log(`  on ${r.opts.description ?? 'fake-v1-runner'} (${r.token.slice(0, 8)})`);
    this.log('Using Shell executor...');
    this.log('Running on fake...');
    let failed = false;
    try {
      await this.downloadDependencies();
      for (const cmd of b.commands ? b.commands.split('\n') : []) this.log(`$ ${cmd}`);
      await this.update('running');
      for (const line of behaviour.output ?? []) {
        if (this.aborted) break;
        this.log(line);
        await this.update('running');
      }
      failed = behaviour.exit === 'failed';
      if (!this.aborted) await this.uploadArtifacts(behaviour, failed);
    } catch (e) {
      if (!(e instanceof FatalError)) throw e;
      this.log(`FATAL: ${e.message}`);
      failed = true;
    }
    if (this.aborted) {
      this.log('ERROR: Job failed: canceled');
      failed = true;
    } else if (failed) {
      this.log('ERROR: Job failed: exit status 1');
    } else {
      this.log('Job succeeded');
    }
    const state = failed ? 'failed' : 'success';
    const finalStatus = await this.finalUpdate(state);
    return { jobId: b.id, name: b.name, state, trace: this.text, aborted: this.aborted, finalStatus };
  }

  /**
   * One tick of the 1.x trace loop (§7.3): a state-only PUT when the state changed, then a
   * PATCH of the new bytes with an EXCLUSIVE end; 416 → resend from the server's length
   * (or a full PUT when the server claims more than the runner holds); 404 → full PUT mode.
   */
  private async update(state: string) {
    const r = this.runner;
    await sleep(r.opts.updateIntervalMs ?? 0);
    if (this.aborted) return;
    if (this.sentState !== state) {
      // The first update of every build; 1.x ignores its answer.
      const res = await r.call('PUT', `builds/${this.build.id}.json`, { json: { info: RUN_INFO, token: r.token, state } });
      await res.body?.cancel();
      this.sentState = state;
    }
    if (!this.incremental) {
      await this.fullUpdate(state);
    } else if (this.buffer.length !== this.sent) {
      await this.patch(state, false);
    }
    this.tick++;
    await this.opts.onTick?.({ jobId: this.build.id, tick: this.tick, sent: this.sent });
  }

  private async patch(state: string, isRetry: boolean): Promise<void> {
    const r = this.runner;
    const length = this.buffer.length;
    const res = await r.call('PATCH', `builds/${this.build.id}/trace.txt`, {
      text: this.buffer.subarray(this.sent, length),
      headers: { 'BUILD-TOKEN': this.build.token, 'Content-Range': `${this.sent}-${length}` },
    });
    await res.body?.cancel();
    const buildStatus = res.headers.get('build-status');
    if (res.status === 202) {
      this.sent = length;
      if (buildStatus === 'canceled' || buildStatus === 'failed') this.aborted = true;
      return;
    }
    if (res.status === 403) { this.aborted = true; return; }
    if (res.status === 404) {
      // "Incremental build update not available. Switching back to full build update"
      this.incremental = false;
      await this.fullUpdate(state);
      return;
    }
    if (res.status === 416) {
      const m = /^0-(\d+)$/.exec(res.headers.get('range') ?? '');
      // 1.3–1.11 panic on a missing or ill-formed Range header.
      if (!m) throw new Error(`416 without a valid Range header (got ${JSON.stringify(res.headers.get('range'))}): gitlab-ci-multi-runner 1.x panics here`);
      const n = Number(m[1]);
      if (n > length) {
        // "Full build update is needed"
        await this.fullUpdate(state);
        return;
      }
      if (isRetry) return; // "failed due to range mismatch": retried on the next tick
      this.sent = n;
      await this.patch(state, true);
    }
    // anything else: retried on the next tick
  }

  /** `PUT {state, trace: <whole log>}`; 403/404 abort the build. */
  private async fullUpdate(state: string) {
    const r = this.runner;
    const length = this.buffer.length;
    const res = await r.call('PUT', `builds/${this.build.id}.json`, { json: { info: RUN_INFO, token: r.token, state, trace: this.text } });
    await res.body?.cancel();
    if (res.status === 200) this.sent = length;
    else if (res.status === 403 || res.status === 404) this.aborted = true;
  }

  /** The final `PUT {state, trace}`, repeated while the answer is not 200, 403 or 404. */
  private async finalUpdate(state: string): Promise<number> {
    const r = this.runner;
    const max = r.opts.maxFinalAttempts ?? 20;
    for (let attempt = 1; ; attempt++) {
      const res = await r.call('PUT', `builds/${this.build.id}.json`, { json: { info: RUN_INFO, token: r.token, state, trace: this.text } });
      await res.body?.cancel();
      if (res.status === 200 || res.status === 403 || res.status === 404) return res.status;
      if (attempt >= max) throw new Error(`final update of build ${this.build.id}: still ${res.status} after ${attempt} attempts`);
      await sleep(r.opts.retryIntervalMs ?? 0);
    }
  }

  /**
   * `artifacts-downloader` for every `depends_on_builds` entry that has an archive and, when
   * `options.dependencies` is there, is listed in it — with the ENTRY's token, no runner UA.
   */
  private async downloadDependencies() {
    const r = this.runner;
    const wanted = this.build.options?.dependencies;
    for (const dep of this.build.depends_on_builds ?? []) {
      if (!dep.artifacts_file?.filename) continue;
      if (wanted && !wanted.includes(dep.name)) continue;
      this.log(`Downloading artifacts for ${dep.name} (${dep.id})...`);
      let res: Response | null = null;
      for (let attempt = 1; attempt <= 3; attempt++) {
        res = await r.call('GET', `builds/${dep.id}/artifacts`, { headers: { 'BUILD-TOKEN': dep.token }, userAgent: GO_USER_AGENT });
        if (res.status === 200 || res.status === 403 || res.status === 404) break;
        await res.body?.cancel();
        await sleep(r.opts.retryIntervalMs ?? 0);
      }
      if (res!.status === 403) throw new FatalError('Downloading artifacts from coordinator... forbidden');
      if (res!.status === 404) throw new FatalError('Downloading artifacts from coordinator... not found');
      if (res!.status !== 200) throw new FatalError(`Downloading artifacts from coordinator... failed (${res!.status})`);
      const bytes = new Uint8Array(await res!.arrayBuffer());
      r.downloads.push({ jobId: this.build.id, dependencyId: dep.id, name: dep.name, bytes });
      this.log(`Downloading artifacts from coordinator... ok      id=${dep.id} responseStatus=200 OK`);
    }
  }

  /**
   * `artifacts-uploader`: one multipart part `file` named `<artifacts:name>.zip`, streamed
   * chunked (no Content-Length), `?expire_in=` when set; 201 ok, 403/413 fatal, others ×3.
   */
  private async uploadArtifacts(behaviour: JobBehaviour, failed: boolean) {
    const spec = this.build.options?.artifacts;
    if (!spec || behaviour.artifacts === undefined) return;
    const when = spec.when ?? 'on_success';
    if (when === 'on_success' && failed) return;
    if (when === 'on_failure' && !failed) return;
    const r = this.runner;
    const data = typeof behaviour.artifacts === 'string' ? new TextEncoder().encode(behaviour.artifacts) : behaviour.artifacts;
    const filename = `${spec.name || 'artifacts'}.zip`;
    const query = new URLSearchParams();
    if (spec.expire_in) query.set('expire_in', spec.expire_in);
    this.log('Uploading artifacts...');
    for (let attempt = 1; attempt <= 3; attempt++) {
      const boundary = crypto.randomUUID().replace(/-/g, '') + crypto.randomUUID().replace(/-/g, '');
      const res = await r.call('POST', `builds/${this.build.id}/artifacts?${query}`, {
        headers: { 'BUILD-TOKEN': this.build.token, 'Content-Type': `multipart/form-data; boundary=${boundary}` },
        body: multipartStream(boundary, filename, data),
      });
      await res.body?.cancel();
      if (res.status === 201) {
        this.log(`Uploading artifacts to coordinator... ok          id=${this.build.id} responseStatus=201 Created`);
        return;
      }
      if (res.status === 403) throw new FatalError('Uploading artifacts to coordinator... forbidden');
      if (res.status === 413) throw new FatalError('Uploading artifacts to coordinator... too large archive');
      this.log(`WARNING: Uploading artifacts to coordinator... failed (${res.status}). Retrying...`);
      await sleep(r.opts.retryIntervalMs ?? 0);
    }
    throw new FatalError('invalid argument');
  }
}

/** A multipart body with one `file` part, as a stream (so fetch sends it chunked). */
export function multipartStream(boundary: string, filename: string, data: Uint8Array, chunk = 32 * 1024): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const head = enc.encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = enc.encode(`\r\n--${boundary}--\r\n`);
  let off = -1;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (off === -1) { c.enqueue(head); off = 0; return; }
      if (off < data.length) { c.enqueue(data.slice(off, off + chunk)); off += chunk; return; }
      c.enqueue(tail);
      c.close();
    },
  });
}
