/**
 * What the two simulated runners (fake-runner-v1.ts for gitlab-ci-multi-runner 1.11.5,
 * fake-runner-v4.ts for gitlab-runner 11.11.4) do the same way: the result and wire-record
 * types, the transport that records every exchange, the `last_update` echo, the log buffer,
 * the end of a job (FATAL / canceled / exit status lines), the dependency-download and
 * artifact-upload retry loops, the repeated final update and the chunked multipart body.
 *
 * Everything that differs per protocol — paths, token headers, status headers, Content-Range
 * ends, log wording, v1's PUT-running at start and full-trace fallback, v4's keep-alive — is
 * passed in by the fakes or stays in them.
 */

export interface JobBehaviour {
  /** lines the script prints */
  output?: string[];
  /** how the script ends (default success) */
  exit?: 'success' | 'failed';
  /** the archive the job leaves behind; uploaded when the job's artifacts settings ask for it */
  artifacts?: Uint8Array | string;
  /** report files by artifact_type (v4: uploaded for each report entry of the payload, gzipped when its format says so) */
  reports?: Record<string, Uint8Array | string>;
  /** the script's exit code, reported as `exit_code` (modern runners send it) */
  exitCode?: number;
  /** v4: the `failure_reason` of a failed job (default script_failure) */
  failureReason?: string;
  /**
   * v4, a runner with `multi_build_steps`: what the `release` step (release-cli) does while the
   * job runs — the test calls the Releases API with the job's token here; false fails the job.
   */
  release?: (job: { id: number; token: string; script: string[] }) => Promise<boolean>;
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
  /** the whole log as the runner produced it (v1 sends it all in the final update) */
  trace: string;
  /** the job was aborted by the server (a canceled/failed status header, 403, or — v1 — 404 on a full update) */
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

/** A `depends_on_builds` (v1) / `dependencies` (v4) entry as both runners read it. */
export interface DependencyRef { id: number; token: string; name: string; artifacts_file?: { filename: string; size: number } }

/** The options both fakes take the same way. */
export interface CommonRunnerOptions {
  description?: string;
  tags?: string[];
  /** default: true when no tags are given (what both runners send), else false */
  runUntagged?: boolean;
  /** pause between trace updates (the real runners: 3000 ms); default 0 */
  updateIntervalMs?: number;
  /** pause between retries of the final update / artifact upload (real: 3000 / 1000 ms); default 0 */
  retryIntervalMs?: number;
  /** how often the final update is tried before the fake gives up (the real runners: about forever) */
  maxFinalAttempts?: number;
  userAgent?: string;
}

/** Go's default, sent on requests without a body (artifact download). */
export const GO_USER_AGENT = 'Go-http-client/1.1';

/** A runner-side failure that ends the job with `FATAL: …` (the job fails, the runner goes on). */
export class FatalError extends Error {}

export const sleep = (ms: number) => (ms > 0 ? Bun.sleep(ms) : Promise.resolve());
const headersOf = (h: Headers) => Object.fromEntries([...h.entries()]);

/** `tag_list` (only when there are tags) and `run_untagged`, in the order both runners send them. */
export function tagFields(opts: CommonRunnerOptions): { tag_list?: string; run_untagged: boolean } {
  const tags = opts.tags ?? [];
  return { ...(tags.length ? { tag_list: tags.join(',') } : {}), run_untagged: opts.runUntagged ?? tags.length === 0 };
}

/**
 * Decodes a 201. Both runners parse the media type; Baton promises the exact
 * `application/json`, so the fakes refuse anything else. `what` prefixes the error.
 */
export async function exactJson(res: Response, what: string): Promise<unknown> {
  const ct = res.headers.get('content-type');
  if (ct !== 'application/json') throw new Error(`${what}: Server should return application/json. Got: ${ct}`);
  return res.json();
}

/** The `N` of a 416's `Range: 0-N`; a missing or ill-formed header throws (`note` says what the real runner does). */
export function rangeEnd(res: Response, note = ''): number {
  const m = /^0-(\d+)$/.exec(res.headers.get('range') ?? '');
  if (!m) throw new Error(`416 without a valid Range header (got ${JSON.stringify(res.headers.get('range'))})${note}`);
  return Number(m[1]);
}

export type CallOptions = {
  json?: unknown; text?: Uint8Array; headers?: Record<string, string>; accept?: boolean; body?: NonNullable<RequestInit['body']>; userAgent?: string;
};

/** Transport and bookkeeping of a fake runner; the subclass brings the protocol and its job type `J`. */
export abstract class FakeRunnerBase<O extends CommonRunnerOptions, J> {
  /** the last `X-GitLab-Last-Update` seen; echoed as `last_update` */
  lastUpdate: string | undefined;
  /** every exchange, in order */
  readonly calls: WireCall[] = [];
  /** every dependency archive downloaded, in order */
  readonly downloads: Download[] = [];

  constructor(readonly url: string, readonly token: string, readonly opts: O, readonly base: string, private readonly defaultUserAgent: string) {}

  /** One job request: the job, or null when there is none (403 throws). */
  abstract poll(): Promise<J | null>;
  /** Runs a job received from `poll()` to the end, as the real runner does. */
  abstract run(job: J, behaviour: JobBehaviour, opts?: RunOneOptions): Promise<RunResult>;
  /** The job's name, the key of the behaviours passed to `runOne`. */
  protected abstract jobName(job: J): string;

  /** Polls once and, if a job comes, runs it with the behaviour named after it; null when there was nothing. */
  async runOne(behaviours: Record<string, JobBehaviour>, opts: RunOneOptions = {}): Promise<RunResult | null> {
    const job = await this.poll();
    if (!job) return null;
    return this.run(job, behaviours[this.jobName(job)] ?? {}, opts);
  }

  /** One request with the headers the real runner sends for it, recorded in `calls`. */
  async call(method: string, path: string, o: CallOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { 'User-Agent': o.userAgent ?? this.opts.userAgent ?? this.defaultUserAgent, 'Accept-Encoding': 'gzip', ...o.headers };
    // Accept is sent only on the two calls whose answer is decoded (Bun adds `*/*` otherwise).
    if (o.accept) headers.Accept = 'application/json';
    let body: NonNullable<RequestInit['body']> | undefined = o.body;
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

  /** A JSON call whose answer only matters by its status (verify, unregister). */
  protected async statusOf(method: string, path: string, json: unknown): Promise<number> {
    const res = await this.call(method, path, { json });
    await res.body?.cancel();
    return res.status;
  }

  /** The job-request POST: `{info, token[, last_update]}`, remembering the `X-GitLab-Last-Update` answered. */
  protected async requestJob(path: string, info: unknown): Promise<Response> {
    const body: Record<string, unknown> = { info, token: this.token };
    if (this.lastUpdate) body.last_update = this.lastUpdate;
    const res = await this.call('POST', path, { json: body, accept: true });
    const lu = res.headers.get('x-gitlab-last-update');
    if (lu) this.lastUpdate = lu;
    return res;
  }
}

/** The end of a registration: the token from the 201's JSON, and a runner that keeps the probe's calls. */
export function registered<R extends FakeRunnerBase<CommonRunnerOptions, unknown>>(probe: R, parsed: { token?: unknown }, make: (token: string) => R): R {
  if (typeof parsed.token !== 'string' || !parsed.token) throw new Error('register: no token in the answer');
  const runner = make(parsed.token);
  runner.calls.push(...probe.calls);
  return runner;
}

/** How one protocol fetches a dependency's archive and words the outcome. */
export interface DownloadDialect {
  path: (id: number) => string;
  tokenHeader: string;
  notFound: string;
  okSuffix?: (dep: DependencyRef) => string;
}

/** One artifact archive to upload; `path` carries the query string. */
export interface Upload {
  path: string;
  headers: Record<string, string>;
  filename: string;
  data: Uint8Array;
  okLine: string;
}

/** The state of one job on a runner: log buffer, bytes acknowledged, abort flag, tick count. */
export abstract class SessionBase<R extends FakeRunnerBase<CommonRunnerOptions, unknown>> {
  protected buffer: Uint8Array = new Uint8Array(0);
  protected sent = 0;
  protected aborted = false;
  protected tick = 0;
  /** values replaced by `[MASKED]` in the log (v4's masked variables) */
  protected masked: string[] = [];
  private readonly enc = new TextEncoder();

  constructor(protected readonly runner: R, protected readonly jobId: number, protected readonly opts: RunOneOptions) {}

  protected append(text: string) {
    for (const m of this.masked) text = text.split(m).join('[MASKED]');
    const add = this.enc.encode(text);
    const next = new Uint8Array(this.buffer.length + add.length);
    next.set(this.buffer);
    next.set(add, this.buffer.length);
    this.buffer = next;
  }

  protected log(line: string) { this.append(line.endsWith('\n') ? line : `${line}\n`); }

  protected get text() { return new TextDecoder().decode(this.buffer); }

  /** Waits the update interval; false when the job was aborted meanwhile (the tick is skipped). */
  protected async beginTick(): Promise<boolean> {
    await sleep(this.runner.opts.updateIntervalMs ?? 0);
    return !this.aborted;
  }

  protected async endTick() {
    this.tick++;
    await this.opts.onTick?.({ jobId: this.jobId, tick: this.tick, sent: this.sent });
  }

  /**
   * Runs the job's phases (which answer whether the script failed), turns a FatalError into
   * `FATAL: …`, writes the closing line and answers the state to report.
   */
  protected async runPhases(phases: () => Promise<boolean>): Promise<'success' | 'failed'> {
    let failed = false;
    try {
      failed = await phases();
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
    return failed ? 'failed' : 'success';
  }

  protected result(name: string, state: string, finalStatus: number): RunResult {
    return { jobId: this.jobId, name, state, trace: this.text, aborted: this.aborted, finalStatus };
  }

  /**
   * The final update, repeated while the answer is not 200, 403, 404 (or what `done` accepts),
   * up to `maxFinalAttempts`; answers the last status.
   */
  protected async repeatFinal(what: string, send: () => Promise<Response>, done: (res: Response) => boolean = () => false): Promise<number> {
    const r = this.runner;
    const max = r.opts.maxFinalAttempts ?? 20;
    for (let attempt = 1; ; attempt++) {
      const res = await send();
      await res.body?.cancel();
      if (res.status === 200 || res.status === 403 || res.status === 404 || done(res)) return res.status;
      if (attempt >= max) throw new Error(`final update of ${what}: still ${res.status} after ${attempt} attempts`);
      await sleep(r.opts.retryIntervalMs ?? 0);
    }
  }

  /**
   * `artifacts-downloader` for every dependency that has an archive and, when `wanted` is
   * given, is listed in it — with the ENTRY's token and Go's own User-Agent; 5xx tried 3 times.
   */
  protected async downloadDependencies(deps: DependencyRef[], d: DownloadDialect, wanted?: string[]) {
    const r = this.runner;
    for (const dep of deps) {
      if (!dep.artifacts_file?.filename) continue;
      if (wanted && !wanted.includes(dep.name)) continue;
      this.log(`Downloading artifacts for ${dep.name} (${dep.id})...`);
      let res: Response | null = null;
      for (let attempt = 1; attempt <= 3; attempt++) {
        res = await r.call('GET', d.path(dep.id), { headers: { [d.tokenHeader]: dep.token }, userAgent: GO_USER_AGENT });
        if (res.status === 200 || res.status === 403 || res.status === 404) break;
        await res.body?.cancel();
        await sleep(r.opts.retryIntervalMs ?? 0);
      }
      if (res!.status === 403) { await res!.body?.cancel(); throw new FatalError('Downloading artifacts from coordinator... forbidden'); }
      if (res!.status === 404) { await res!.body?.cancel(); throw new FatalError(d.notFound); }
      if (res!.status !== 200) throw new FatalError(`Downloading artifacts from coordinator... failed (${res!.status})`);
      const bytes = new Uint8Array(await res!.arrayBuffer());
      r.downloads.push({ jobId: this.jobId, dependencyId: dep.id, name: dep.name, bytes });
      this.log(`Downloading artifacts from coordinator... ok      id=${dep.id} responseStatus=200 OK${d.okSuffix?.(dep) ?? ''}`);
    }
  }

  /**
   * `artifacts-uploader` for one archive: one multipart part `file`, streamed chunked (no
   * Content-Length), a fresh boundary per try; 201 ok, 403/413 fatal, others tried 3 times.
   */
  protected async uploadArchive(u: Upload) {
    const r = this.runner;
    this.log('Uploading artifacts...');
    for (let attempt = 1; attempt <= 3; attempt++) {
      const boundary = crypto.randomUUID().replace(/-/g, '') + crypto.randomUUID().replace(/-/g, '');
      const res = await r.call('POST', u.path, {
        headers: { ...u.headers, 'Content-Type': `multipart/form-data; boundary=${boundary}` },
        body: multipartStream(boundary, u.filename, u.data),
      });
      await res.body?.cancel();
      if (res.status === 201) {
        this.log(u.okLine);
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

/** Whether an artifacts `when` (already defaulted) asks for an upload after this outcome. */
export function uploadWanted(when: string, failed: boolean): boolean {
  return !((when === 'on_success' && failed) || (when === 'on_failure' && !failed));
}

/** A JobBehaviour's archive as bytes. */
export const archiveBytes = (a: Uint8Array | string): Uint8Array => (typeof a === 'string' ? new TextEncoder().encode(a) : a);

/** A multipart body with one `file` part, as a stream (so fetch sends it chunked, without Content-Length). */
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
