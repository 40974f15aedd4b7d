/**
 * A simulated gitlab-ci-multi-runner 1.11.5 speaking GitLab CI API v1, following the real
 * traffic recorded in shared/spec/wire-v1.md step by step (headers, JSON bodies with the
 * `info` object, exclusive-end trace ranges, 416/404 recovery, abort rules, chunked
 * multipart artifact upload, dependency downloads with the entry's token, final PUT
 * repeated until 200/403/404). Jobs do not run anything: a JobBehaviour says what the
 * "script" prints, how it ends and which archive it leaves behind. What this fake shares
 * with the v4 one lives in fake-runner-common.ts.
 *
 * Where the fake is stricter than 1.11.5 it says so (exact `application/json` on the 201s,
 * a missing `Range` on 416 throws — the real runner panics there).
 */

import {
  archiveBytes, type CommonRunnerOptions, type DependencyRef, exactJson, FakeRunnerBase, type JobBehaviour,
  rangeEnd, registered, type RunOneOptions, type RunResult, SessionBase, tagFields, uploadWanted,
} from './fake-runner-common';

export { multipartStream } from './fake-runner-common';
export type { Download, JobBehaviour, RunOneOptions, RunResult, WireCall } from './fake-runner-common';

export interface FakeRunnerV1Options extends CommonRunnerOptions {
  locked?: boolean;
  /** how often the final update is repeated before the fake gives up (the real runner: forever) */
  maxFinalAttempts?: number;
}

export const V1_USER_AGENT = 'gitlab-ci-multi-runner 1.11.5 (1-11-stable; go1.19.8; linux/amd64)';

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
  depends_on_builds: DependencyRef[];
  [k: string]: unknown;
}

/** base URL as 1.6+ builds it: trailing `/` trimmed, `/ci` appended unless present, then `/api/v1/`. */
export function v1BaseUrl(url: string): string {
  let u = url.replace(/\/+$/, '');
  if (!u.endsWith('/ci')) u += '/ci';
  return `${u}/api/v1/`;
}

export class FakeRunnerV1 extends FakeRunnerBase<FakeRunnerV1Options, V1Build> {
  constructor(url: string, token: string, opts: FakeRunnerV1Options = {}) {
    super(url, token, opts, v1BaseUrl(url), V1_USER_AGENT);
  }

  /** `POST runners/register.json` as `gitlab-ci-multi-runner register --non-interactive` sends it. */
  static async register(url: string, registrationToken: string, opts: FakeRunnerV1Options = {}): Promise<FakeRunnerV1> {
    const body: Record<string, unknown> = { info: REGISTER_INFO, token: registrationToken, description: opts.description ?? 'fake-v1-runner', ...tagFields(opts) };
    if (opts.locked !== undefined) body.locked = opts.locked;
    const probe = new FakeRunnerV1(url, '', opts);
    const res = await probe.call('POST', 'runners/register.json', { json: body, accept: true });
    if (res.status !== 201) throw new Error(`register: expected 201, got ${res.status} ${await res.text()}`);
    return registered(probe, (await probe.decodeJson(res, 'register')) as { token?: unknown }, (token) => new FakeRunnerV1(url, token, opts));
  }

  /** `gitlab-ci-multi-runner verify`: `PUT builds/-1` → 404 alive, 403 removed, anything else alive. */
  async verify(): Promise<'alive' | 'removed'> {
    return (await this.statusOf('PUT', 'builds/-1', { token: this.token })) === 403 ? 'removed' : 'alive';
  }

  /** `gitlab-ci-multi-runner unregister`: a DELETE with a JSON body; 200 expected. */
  unregister(): Promise<number> {
    return this.statusOf('DELETE', 'runners/delete', { token: this.token });
  }

  /** One `builds/register.json` poll: the build, or null for 204/404/409/5xx ("nothing"/"failed"). 403 throws (unhealthy). */
  async poll(): Promise<V1Build | null> {
    const res = await this.requestJob('builds/register.json', RUN_INFO);
    if (res.status === 201) return (await this.decodeJson(res, 'builds/register')) as V1Build;
    await res.body?.cancel();
    if (res.status === 403) throw new Error('builds/register: 403 forbidden (runner is not healthy)');
    return null;
  }

  /** Runs a build received from `poll()` to the end the way 1.11.5 does. */
  async run(build: V1Build, behaviour: JobBehaviour, opts: RunOneOptions = {}): Promise<RunResult> {
    return new BuildSession(this, build, opts).execute(behaviour);
  }

  protected jobName(build: V1Build): string { return build.name; }

  /** Decodes a 201; 1.10+ compare the media type, ≤ 1.9 the whole header (runner-api-v1.md §0.2). */
  private decodeJson(res: Response, what: string): Promise<unknown> {
    return exactJson(res, what);
  }
}

/** The state of one build on the runner: log buffer, bytes acknowledged, state sent. */
class BuildSession extends SessionBase<FakeRunnerV1> {
  private sentState: string | null = null;
  private incremental = true;

  constructor(runner: FakeRunnerV1, private build: V1Build, opts: RunOneOptions) {
    super(runner, build.id, opts);
  }

  async execute(behaviour: JobBehaviour): Promise<RunResult> {
    const b = this.build;
    const r = this.runner;
    this.log(`Running with gitlab-ci-multi-runner 1.11.5 (cbfcb5c8)`);
    this.log(`  on ${r.opts.description ?? 'fake-v1-runner'} (${r.token.slice(0, 8)})`);
    this.log('Using Shell executor...');
    this.log('Running on fake...');
    const state = await this.runPhases(async () => {
      await this.downloadDependencies(b.depends_on_builds ?? [], {
        path: (id) => `builds/${id}/artifacts`, tokenHeader: 'BUILD-TOKEN', notFound: 'Downloading artifacts from coordinator... not found',
      }, b.options?.dependencies);
      for (const cmd of b.commands ? b.commands.split('\n') : []) this.log(`$ ${cmd}`);
      await this.update('running');
      for (const line of behaviour.output ?? []) {
        if (this.aborted) break;
        this.log(line);
        await this.update('running');
      }
      const failed = behaviour.exit === 'failed';
      if (!this.aborted) await this.uploadArtifacts(behaviour, failed);
      return failed;
    });
    const finalStatus = await this.finalUpdate(state);
    return this.result(b.name, state, finalStatus);
  }

  /**
   * One tick of the 1.x trace loop (§7.3): a state-only PUT when the state changed, then a
   * PATCH of the new bytes with an EXCLUSIVE end; 416 → resend from the server's length
   * (or a full PUT when the server claims more than the runner holds); 404 → full PUT mode.
   */
  private async update(state: string) {
    const r = this.runner;
    if (!(await this.beginTick())) return;
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
    await this.endTick();
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
      // 1.3–1.11 panic on a missing or ill-formed Range header.
      const n = rangeEnd(res, ': gitlab-ci-multi-runner 1.x panics here');
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
  private finalUpdate(state: string): Promise<number> {
    const r = this.runner;
    return this.repeatFinal(`build ${this.build.id}`, () =>
      r.call('PUT', `builds/${this.build.id}.json`, { json: { info: RUN_INFO, token: r.token, state, trace: this.text } }));
  }

  /** `artifacts-uploader` for `options.artifacts` when its `when` matches, `?expire_in=` when set. */
  private async uploadArtifacts(behaviour: JobBehaviour, failed: boolean) {
    const spec = this.build.options?.artifacts;
    if (!spec || behaviour.artifacts === undefined) return;
    if (!uploadWanted(spec.when ?? 'on_success', failed)) return;
    const query = new URLSearchParams();
    if (spec.expire_in) query.set('expire_in', spec.expire_in);
    await this.uploadArchive({
      path: `builds/${this.build.id}/artifacts?${query}`,
      headers: { 'BUILD-TOKEN': this.build.token },
      filename: `${spec.name || 'artifacts'}.zip`,
      data: archiveBytes(behaviour.artifacts),
      okLine: `Uploading artifacts to coordinator... ok          id=${this.build.id} responseStatus=201 Created`,
    });
  }
}
