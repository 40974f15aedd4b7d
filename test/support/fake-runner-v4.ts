/**
 * A simulated gitlab-runner 11.11.4 (shell executor) speaking runner API v4, following the
 * real traffic recorded in shared/spec/wire-v4.md step by step: its headers and User-Agent,
 * JSON bodies with the `info` object, `last_update` echo, Go-strict decoding of the job
 * payload, no `PUT state=running` at start, trace PATCHes of only the new bytes with an
 * INCLUSIVE Content-Range end, 416 → resync to the server's length (a length beyond what the
 * runner holds panics, as 11.x does), abort on `Job-Status: canceled|failed` or 403,
 * keep-alive PUT after a quiet period, chunked multipart artifact upload with
 * `artifact_format`/`artifact_type`/`expire_in`, dependency downloads with the token each
 * entry carries, then the final PATCHes and `PUT {state, failure_reason}`.
 *
 * Jobs run nothing: a JobBehaviour (shared with fake-runner-v1.ts through
 * fake-runner-common.ts, with the rest of what the two fakes do alike) says what the script
 * prints, how it ends and which archive it leaves behind.
 */

import {
  archiveBytes, type CommonRunnerOptions, type DependencyRef, exactJson, FakeRunnerBase, type JobBehaviour,
  rangeEnd, registered, type RunOneOptions, type RunResult, SessionBase, sleep, tagFields, uploadWanted,
} from './fake-runner-common';

export { multipartStream } from './fake-runner-common';
export type { Download, JobBehaviour, RunOneOptions, RunResult, WireCall } from './fake-runner-common';

export interface FakeRunnerV4Options extends CommonRunnerOptions {
  /** default true, as `gitlab-runner register` sends it */
  locked?: boolean;
  /** `register --paused` → `active: false` */
  paused?: boolean;
  /** seconds; omitted when 0 */
  maximumTimeout?: number;
  /** pause between `jobs/request` polls in `runNext` (real: 3000 ms in run-single); default 0 */
  pollIntervalMs?: number;
  /** a `PUT state=running` is sent after this long without an accepted PATCH/PUT (real: 30 000 ms) */
  keepAliveMs?: number;
  /** send `exit_code` in the final update (modern runners do; 11.11.4 does not) */
  sendExitCode?: boolean;
  /** features a newer runner adds to `info.features` of `jobs/request` (`{multi_build_steps: true}`) */
  features?: Record<string, boolean>;
}

export const V4_USER_AGENT = 'gitlab-runner 11.11.4 (11-11-stable; go1.19.8; linux/amd64)';
/** 11.x sends at most 1 MiB per PATCH. */
const MAX_PATCH = 1024 * 1024;

const FEATURES = ['variables', 'image', 'services', 'artifacts', 'cache', 'shared', 'upload_multiple_artifacts',
  'upload_raw_artifacts', 'session', 'terminal', 'refspecs', 'masking'] as const;
const BASE_INFO = { name: 'gitlab-runner', version: '11.11.4', revision: 'e828d3bc', platform: 'linux', architecture: 'amd64' };
/** `POST /runners`: no executor/shell, every feature false. */
const REGISTER_INFO = { ...BASE_INFO, features: Object.fromEntries(FEATURES.map((f) => [f, false])) };
/** `jobs/request` and `PUT jobs/:id` of the shell executor. */
export const RUN_INFO = {
  ...BASE_INFO, executor: 'shell', shell: 'bash',
  features: Object.fromEntries(FEATURES.map((f) => [f, !['image', 'services'].includes(f)])),
};

// ---------------------------------------------------------------- the job payload as 11.11.4 decodes it

export interface V4Image { name?: string; alias?: string; command?: string[]; entrypoint?: string[] }
export interface V4Artifact {
  name?: string; untracked?: boolean; paths?: string[]; when?: string; artifact_type?: string; artifact_format?: string; expire_in?: string;
}
/** The fields of `common.JobResponse` (gitlab-runner 11.11.4) that the fake reads. */
export interface V4Job {
  id: number;
  token: string;
  allow_git_fetch?: boolean;
  job_info: { name: string; stage: string; project_id: number; project_name: string };
  git_info: { repo_url: string; ref: string; sha: string; before_sha?: string; ref_type?: string; refspecs?: string[] | null; depth?: number };
  runner_info?: { timeout?: number };
  variables?: { key: string; value: string; public: boolean; masked?: boolean }[] | null;
  steps: { name: string; script: string[]; timeout?: number; when?: string; allow_failure?: boolean }[];
  image?: V4Image | null;
  services?: V4Image[] | null;
  artifacts?: V4Artifact[] | null;
  cache?: { key?: string; untracked?: boolean; policy?: string; paths?: string[] }[] | null;
  credentials?: { type: string; url: string; username: string; password: string }[] | null;
  dependencies?: DependencyRef[] | null;
  features?: { trace_sections?: boolean };
}

type GoType = 'int' | 'string' | 'bool' | { obj: Record<string, GoType> } | { arr: GoType };
const image: GoType = { obj: { name: 'string', alias: 'string', command: { arr: 'string' }, entrypoint: { arr: 'string' } } };
/** `common.JobResponse` of 11.11.4 as Go's encoding/json sees it (unknown keys ignored, null = zero value). */
const JOB_RESPONSE: GoType = {
  obj: {
    id: 'int', token: 'string', allow_git_fetch: 'bool',
    job_info: { obj: { name: 'string', stage: 'string', project_id: 'int', project_name: 'string' } },
    git_info: { obj: { repo_url: 'string', ref: 'string', sha: 'string', before_sha: 'string', ref_type: 'string', refspecs: { arr: 'string' }, depth: 'int' } },
    runner_info: { obj: { timeout: 'int' } },
    variables: { arr: { obj: { key: 'string', value: 'string', public: 'bool', file: 'bool', masked: 'bool' } } },
    steps: { arr: { obj: { name: 'string', script: { arr: 'string' }, timeout: 'int', when: 'string', allow_failure: 'bool' } } },
    image,
    services: { arr: image },
    artifacts: { arr: { obj: { name: 'string', untracked: 'bool', paths: { arr: 'string' }, when: 'string', artifact_type: 'string', artifact_format: 'string', expire_in: 'string' } } },
    cache: { arr: { obj: { key: 'string', untracked: 'bool', policy: 'string', paths: { arr: 'string' } } } },
    credentials: { arr: { obj: { type: 'string', url: 'string', username: 'string', password: 'string' } } },
    dependencies: { arr: { obj: { id: 'int', token: 'string', name: 'string', artifacts_file: { obj: { filename: 'string', size: 'int' } } } } },
    features: { obj: { trace_sections: 'bool' } },
  },
};

function goCheck(value: unknown, type: GoType, path: string) {
  if (value === null || value === undefined) return;
  const fail = (want: string) => {
    throw new Error(`json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value} into Go struct field ${path} of type ${want}`);
  };
  if (type === 'int') { if (typeof value !== 'number' || !Number.isInteger(value)) fail('int'); return; }
  if (type === 'string') { if (typeof value !== 'string') fail('string'); return; }
  if (type === 'bool') { if (typeof value !== 'boolean') fail('bool'); return; }
  if ('arr' in type) {
    if (!Array.isArray(value)) fail('[]…');
    (value as unknown[]).forEach((v, i) => goCheck(v, type.arr, `${path}[${i}]`));
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) fail('struct');
  for (const [k, t] of Object.entries(type.obj)) goCheck((value as Record<string, unknown>)[k], t, path ? `${path}.${k}` : k);
}

/** Decodes a job payload like 11.11.4 does: any type mismatch fails the whole job request. */
export function decodeJob(raw: unknown): V4Job {
  goCheck(raw, JOB_RESPONSE, '');
  return raw as V4Job;
}

/** The base URL as 11.x builds it: trailing `/` trimmed, a trailing `/ci` removed, then `/api/v4/`. */
export function v4BaseUrl(url: string): string {
  return `${url.replace(/\/+$/, '').replace(/\/ci$/, '')}/api/v4/`;
}

const isAbort = (status: string | null) => status === 'canceled' || status === 'failed';

export class FakeRunnerV4 extends FakeRunnerBase<FakeRunnerV4Options, V4Job> {
  /** every job payload received, undecoded (tests check its exact JSON) */
  readonly payloads: unknown[] = [];

  constructor(url: string, token: string, opts: FakeRunnerV4Options = {}) {
    super(url, token, opts, v4BaseUrl(url), V4_USER_AGENT);
  }

  /** `POST /runners` as `gitlab-runner register --non-interactive` sends it; 201 + JSON `token` expected. */
  static async register(url: string, registrationToken: string, opts: FakeRunnerV4Options = {}): Promise<FakeRunnerV4> {
    const body: Record<string, unknown> = { description: opts.description ?? 'fake-v4-runner', ...tagFields(opts) };
    body.locked = opts.locked ?? true;
    if (opts.maximumTimeout) body.maximum_timeout = opts.maximumTimeout;
    body.active = !opts.paused;
    body.info = REGISTER_INFO;
    body.token = registrationToken;
    const probe = new FakeRunnerV4(url, '', opts);
    const res = await probe.call('POST', 'runners', { json: body, accept: true });
    if (res.status === 403) throw new Error('Registering runner... forbidden (check registration token)');
    if (res.status !== 201) throw new Error(`Registering runner... failed: ${res.status} ${await res.text()}`);
    return registered(probe, (await probe.decodeJson(res, 'register')) as { token?: unknown }, (token) => new FakeRunnerV4(url, token, opts));
  }

  /** `gitlab-runner verify`: 200 alive, 403 removed. */
  async verify(): Promise<'alive' | 'removed'> {
    const status = await this.statusOf('POST', 'runners/verify', { token: this.token });
    if (status === 200) return 'alive';
    if (status === 403) return 'removed';
    throw new Error(`Verifying runner... failed: ${status}`);
  }

  /** `gitlab-runner unregister`: a DELETE with a JSON body; 204 expected. */
  unregister(): Promise<number> {
    return this.statusOf('DELETE', 'runners', { token: this.token });
  }

  /** One `jobs/request`: the job, or null for 204 and for failures (404/409/5xx, backed off by the real runner). 403 throws. */
  async poll(): Promise<V4Job | null> {
    const info = this.opts.features ? { ...RUN_INFO, features: { ...RUN_INFO.features, ...this.opts.features } } : RUN_INFO;
    const res = await this.requestJob('jobs/request', info);
    if (res.status === 201) {
      const raw = await this.decodeJson(res, 'Checking for jobs...');
      this.payloads.push(raw);
      return decodeJob(raw);
    }
    await res.body?.cancel();
    if (res.status === 403) throw new Error('Checking for jobs... forbidden (Runner is not healthy!)');
    return null;
  }

  /** Polls at the configured cadence until a job comes (at most `maxPolls` times), then runs it. */
  async runNext(behaviours: Record<string, JobBehaviour>, opts: RunOneOptions & { maxPolls?: number } = {}): Promise<RunResult | null> {
    for (let i = 0; i < (opts.maxPolls ?? 10); i++) {
      if (i > 0) await sleep(this.opts.pollIntervalMs ?? 0);
      const r = await this.runOne(behaviours, opts);
      if (r) return r;
    }
    return null;
  }

  /** Runs a job received from `poll()` to the end the way 11.11.4 does. */
  async run(job: V4Job, behaviour: JobBehaviour, opts: RunOneOptions = {}): Promise<RunResult> {
    return new JobSession(this, job, opts).execute(behaviour);
  }

  protected jobName(job: V4Job): string { return job.job_info.name; }

  /**
   * Decodes a 201. 11.x parses the media type ("Server should return application/json");
   * Baton promises the exact string, so the fake refuses anything else.
   */
  decodeJson(res: Response, what: string): Promise<unknown> {
    return exactJson(res, `${what} failed`);
  }
}

/** The state of one job on the runner: log buffer, bytes acknowledged, abort flag. */
class JobSession extends SessionBase<FakeRunnerV4> {
  private lastContact = Date.now();
  private exitCode: number | undefined;
  private failureReason: string | undefined;

  constructor(runner: FakeRunnerV4, private job: V4Job, opts: RunOneOptions) {
    super(runner, job.id, opts);
    this.masked = (job.variables ?? []).filter((v) => v.masked && v.value).map((v) => v.value);
  }

  /** `section_start:<unix ts>:<name>\r\e[0K` … `section_end:…` around a phase. */
  private async section<T>(name: string, body: () => Promise<T> | T): Promise<T> {
    const ts = () => Math.floor(Date.now() / 1000);
    this.append(`section_start:${ts()}:${name}\r\x1b[0K`);
    try {
      return await body();
    } finally {
      this.append(`section_end:${ts()}:${name}\r\x1b[0K`);
    }
  }

  async execute(behaviour: JobBehaviour): Promise<RunResult> {
    const j = this.job;
    this.exitCode = behaviour.exitCode;
    this.failureReason = behaviour.failureReason;
    const r = this.runner;
    this.log('Running with gitlab-runner 11.11.4 (e828d3bc)');
    this.log(`  on ${r.opts.description ?? 'fake-v4-runner'} ${r.token.slice(0, 8)}`);
    await this.section('prepare_executor', () => this.log('Using Shell executor...'));
    await this.section('prepare_script', () => this.log('Running on fake...'));
    const state = await this.runPhases(async () => {
      await this.section('get_sources', () => this.getSources());
      await this.section('restore_cache', () => {});
      await this.section('download_artifacts', () => this.downloadDependencies(j.dependencies ?? [], {
        path: (id) => `jobs/${id}/artifacts`, tokenHeader: 'Job-Token', notFound: 'file does not exist', okSuffix: (dep) => ` token=${dep.token.slice(0, 8)}`,
      }));
      await this.section('build_script', async () => {
        const script = j.steps.find((s) => s.name === 'script')?.script ?? [];
        for (const cmd of script) this.log(`$ ${cmd}`);
        for (const line of behaviour.output ?? []) {
          if (this.aborted) break;
          this.log(line);
          await this.update();
        }
      });
      let failed = behaviour.exit === 'failed';
      const release = j.steps.find((s) => s.name === 'release');
      if (release && !failed && !this.aborted && r.opts.features?.multi_build_steps) {
        await this.section('step_release', async () => {
          for (const cmd of release.script) this.log(`$ ${cmd}`);
          const ok = behaviour.release ? await behaviour.release({ id: j.id, token: j.token, script: release.script }) : true;
          if (!ok) { this.log('ERROR: Job failed: release step'); failed = true; }
        });
      }
      const after = j.steps.find((s) => s.name === 'after_script');
      if (after && !this.aborted) {
        await this.section('after_script', () => {
          this.log('Running after script...');
          for (const cmd of after.script) this.log(`$ ${cmd}`);
        });
      }
      await this.section('archive_cache', () => {});
      await this.section(`upload_artifacts_on_${failed ? 'failure' : 'success'}`, () => (this.aborted ? undefined : this.uploadArtifacts(behaviour, failed)));
      return failed;
    });
    await this.flushTrace();
    const finalStatus = await this.finalUpdate(state);
    return this.result(j.job_info.name, state, finalStatus);
  }

  private getSources() {
    const g = this.job.git_info;
    if (!g.refspecs?.length) {
      this.log("DEPRECATION: this GitLab server doesn't support refspecs, gitlab-runner 12.0 will no longer work with this version of GitLab");
    }
    this.log('Fetching changes...');
    this.log(`Checking out ${g.sha.slice(0, 8)} as ${g.ref}...`);
    this.log('Skipping Git submodules setup');
  }

  /**
   * One tick of the trace loop: after the update interval, PATCH the new bytes, or — with
   * nothing new and no accepted call for `keepAliveMs` — `PUT state=running`.
   */
  private async update() {
    if (!(await this.beginTick())) return;
    if (this.buffer.length !== this.sent) await this.patch();
    else if (Date.now() - this.lastContact > (this.runner.opts.keepAliveMs ?? 30_000)) await this.keepAlive();
    await this.endTick();
  }

  /**
   * PATCH the bytes from `sent` (at most 1 MiB) with an inclusive end. 202 → advance by what
   * was sent; 416 → resync to the server's `Range: 0-N` (N beyond the buffer panics, as the
   * slice in 11.x's sendPatch does); 403 or Job-Status canceled/failed → abort; 404 → next
   * try from offset 0 (11.x has no full-trace fallback).
   */
  private async patch(): Promise<number> {
    const r = this.runner;
    const start = this.sent;
    const chunk = this.buffer.subarray(start, Math.min(this.buffer.length, start + MAX_PATCH));
    const res = await r.call('PATCH', `jobs/${this.job.id}/trace`, {
      text: chunk,
      headers: { 'Job-Token': this.job.token, 'Content-Range': `${start}-${start + chunk.length - 1}` },
    });
    await res.body?.cancel();
    if (isAbort(res.headers.get('job-status'))) this.aborted = true;
    if (res.status === 202) {
      this.sent = start + chunk.length;
      this.lastContact = Date.now();
    } else if (res.status === 403) {
      this.aborted = true;
    } else if (res.status === 404) {
      this.sent = 0;
    } else if (res.status === 416) {
      const n = rangeEnd(res);
      if (n > this.buffer.length) {
        throw new Error(`panic: runtime error: slice bounds out of range [${n}:${this.buffer.length}] in network.(*clientJobTrace).sendPatch`);
      }
      this.sent = n;
    }
    return res.status;
  }

  private async keepAlive() {
    const r = this.runner;
    const res = await r.call('PUT', `jobs/${this.job.id}`, { json: { info: RUN_INFO, token: this.job.token, state: 'running' } });
    await res.body?.cancel();
    if (res.status === 403 || isAbort(res.headers.get('job-status'))) this.aborted = true;
    else if (res.status === 200) this.lastContact = Date.now();
  }

  /** The rest of the log before the final update: PATCH until all is sent; 403/404 give up. */
  private async flushTrace() {
    for (let attempt = 0; this.sent < this.buffer.length && attempt < 10; attempt++) {
      const status = await this.patch();
      if (status === 403 || status === 404) return;
      if (status >= 500) await sleep(this.runner.opts.retryIntervalMs ?? 0);
    }
  }

  /** `PUT {info, token, state[, failure_reason]}`; retried on 5xx; 403/404 or Job-Status canceled/failed end it. */
  private finalUpdate(state: string): Promise<number> {
    const r = this.runner;
    const body: Record<string, unknown> = { info: RUN_INFO, token: this.job.token, state };
    if (state === 'failed') body.failure_reason = this.failureReason ?? 'script_failure';
    if (this.exitCode !== undefined) body.exit_code = this.exitCode;
    else if (r.opts.sendExitCode) body.exit_code = state === 'failed' ? 1 : 0;
    return this.repeatFinal(`job ${this.job.id}`, () => r.call('PUT', `jobs/${this.job.id}`, { json: body }), (res) => isAbort(res.headers.get('job-status')));
  }

  /**
   * `artifacts-uploader` for each `artifacts[]` entry whose `when` matches, with
   * `?artifact_format=…&artifact_type=…&expire_in=…` (no `?` when none is set).
   */
  private async uploadArtifacts(behaviour: JobBehaviour, failed: boolean) {
    for (const spec of this.job.artifacts ?? []) {
      if (!uploadWanted(spec.when || 'on_success', failed)) continue;
      if (spec.artifact_type && spec.artifact_type !== 'archive') {
        await this.uploadReport(spec, behaviour.reports?.[spec.artifact_type]);
        continue;
      }
      if (behaviour.artifacts === undefined) continue;
      const data = archiveBytes(behaviour.artifacts);
      const query = new URLSearchParams();
      if (spec.artifact_format) query.set('artifact_format', spec.artifact_format);
      if (spec.artifact_type) query.set('artifact_type', spec.artifact_type);
      if (spec.expire_in) query.set('expire_in', spec.expire_in);
      await this.uploadArchive({
        path: `jobs/${this.job.id}/artifacts${query.size ? `?${query}` : ''}`,
        headers: { 'Job-Token': this.job.token },
        filename: `${spec.name || 'artifacts'}.zip`,
        data,
        okLine: `Uploading artifacts to coordinator... ok            id=${this.job.id} responseStatus=201 Created token=${this.job.token.slice(0, 8)}`,
      });
    }
  }

  /**
   * A report entry as modern runners upload it: the matched files as gzip members (or the
   * one file, raw) named `<entry name>.gz`, with its type and format. 11.11.4 had no reports;
   * a behaviour without a file for the type uploads nothing (no file matched).
   */
  private async uploadReport(spec: V4Artifact, content: Uint8Array | string | undefined) {
    if (content === undefined) return;
    const raw = archiveBytes(content);
    const gzip = spec.artifact_format === 'gzip';
    const query = new URLSearchParams({ artifact_format: spec.artifact_format ?? 'raw', artifact_type: spec.artifact_type! });
    if (spec.expire_in) query.set('expire_in', spec.expire_in);
    await this.uploadArchive({
      path: `jobs/${this.job.id}/artifacts?${query}`,
      headers: { 'Job-Token': this.job.token },
      filename: gzip ? `${spec.name}.gz` : spec.name ?? 'report',
      data: gzip ? Bun.gzipSync(new Uint8Array(raw)) : raw,
      okLine: `Uploading artifacts as "${spec.artifact_type}" to coordinator... 201 Created  id=${this.job.id} responseStatus=201 Created`,
    });
  }
}
