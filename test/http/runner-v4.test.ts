/**
 * Runner API v4 conformance: one table per endpoint (request → status, headers with the
 * exact `Content-Type: application/json`, body shape) with Baton's v4 decisions
 * (runner-api-v4.md, runner-api-v1.md §9), then end-to-end runs of a simulated
 * gitlab-runner 11.11.4 (test/support/fake-runner-v4.ts) against the real server.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { FakeClock } from '../../src/clock';
import type { Config } from '../../src/config';
import { ADMIN_TOKEN, makePipeline, makeProject, REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';
import { decodeJob, FakeRunnerV4, multipartStream, RUN_INFO, V4_USER_AGENT } from '../support/fake-runner-v4';

let server: TestServer;
let clock: FakeClock;
afterEach(async () => server?.stop());

async function start(overrides: Partial<Config> = {}) {
  clock = new FakeClock();
  server = await startTestServer(overrides, { clock });
  return server;
}

const SHA = 'a9738e26eea81eb998fab5ed3f808875eaec5196';
const enc = new TextEncoder();

/** A request as gitlab-runner 11.11.4 sends it (JSON body, its User-Agent). */
async function v4(path: string, o: { method?: string; json?: unknown; headers?: Record<string, string>; body?: string | Uint8Array | ReadableStream<Uint8Array> | null } = {}) {
  const headers: Record<string, string> = { 'User-Agent': V4_USER_AGENT, ...o.headers };
  let body = o.body ?? undefined;
  if (o.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(o.json);
  }
  return fetch(`${server.url}/api/v4${path}`, { method: o.method ?? 'POST', headers, body });
}

/** Status + exact JSON content type; returns the parsed body. */
async function expectJson(res: Response, status: number): Promise<any> {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status });
  expect(res.headers.get('content-type')).toBe('application/json');
  return JSON.parse(text);
}

async function expectEmpty(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(await res.text()).toBe('');
  expect(res.headers.get('content-type')).toBeNull();
}

/** Every path of a JSON value that holds null (Baton omits keys instead). */
function nullPaths(v: unknown, path = '$'): string[] {
  if (v === null) return [path];
  if (Array.isArray(v)) return v.flatMap((x, i) => nullPaths(x, `${path}[${i}]`));
  if (typeof v === 'object') return Object.entries(v as object).flatMap(([k, x]) => nullPaths(x, `${path}.${k}`));
  return [];
}

async function registerRunner(body: Record<string, unknown> = {}): Promise<{ id: number; token: string }> {
  return expectJson(await v4('/runners', { json: { token: REGISTRATION_TOKEN, info: RUN_INFO, ...body } }), 201);
}

/** Asks for a job and expects one. */
async function takeJob(runnerToken: string): Promise<any> {
  return expectJson(await v4('/jobs/request', { json: { info: RUN_INFO, token: runnerToken } }), 201);
}

/** A project with a pipeline of one running job taken by a fresh instance runner. */
async function runningJob(yaml = 'build:\n  script: [echo hi]\n') {
  const project = makeProject(server.core);
  const pipeline = await makePipeline(server.core, project.id, yaml);
  const runner = await registerRunner();
  const job = await takeJob(runner.token);
  return { project, pipeline, runner, job: job as { id: number; token: string; [k: string]: any } };
}

const patchTrace = (id: number, range: string | null, body: string | Uint8Array, token: string | null, query = '') =>
  v4(`/jobs/${id}/trace${query}`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'text/plain', ...(range === null ? {} : { 'Content-Range': range }), ...(token === null ? {} : { 'JOB-TOKEN': token }) },
    body: typeof body === 'string' ? body : body,
  });

const upload = (id: number, token: string | null, data: Uint8Array, query = '?artifact_format=zip&artifact_type=archive', filename = 'my-artifacts.zip') => {
  const boundary = 'b0undary' + crypto.randomUUID().replace(/-/g, '');
  return v4(`/jobs/${id}/artifacts${query}`, {
    headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, ...(token === null ? {} : { 'JOB-TOKEN': token }) },
    // A stream: fetch sends it chunked, without Content-Length, as the runner does.
    body: multipartStream(boundary, filename, data, 7),
  });
};

// ==================================================================== POST /runners

describe('POST /api/v4/runners (register)', () => {
  const S0 = {
    description: 'my-v4-runner', tag_list: 'linux,shell', run_untagged: false, locked: false, maximum_timeout: 3600, active: true,
    info: { name: 'gitlab-runner', version: '11.11.4', revision: 'e828d3bc', platform: 'linux', architecture: 'amd64', features: { variables: false } },
  };
  const cases: { id: string; body: (projectToken: string) => unknown; form?: boolean; status: number; check?: (s: TestServer, body: any) => void }[] = [
    {
      id: 'R1 instance token, 11.11.4 body of `register` with tags', body: () => ({ ...S0, token: REGISTRATION_TOKEN }), status: 201,
      check: (s, body) => {
        const r = s.core.runners.get(body.id);
        expect(r).toMatchObject({ isShared: true, tagList: ['linux', 'shell'], runUntagged: false, locked: false, maximumTimeout: 3600, active: true, protocol: 'v4', version: '11.11.4', description: 'my-v4-runner' });
      },
    },
    {
      id: 'R2 project runners token → project runner', body: (p) => ({ token: p, description: 'rb', run_untagged: true, locked: true, active: true }), status: 201,
      check: (s, body) => {
        expect(s.core.runners.get(body.id)).toMatchObject({ isShared: false, locked: true });
        expect(s.core.runners.projectIds(body.id)).toHaveLength(1);
      },
    },
    { id: 'R3 tag_list as array, elements split on commas', body: () => ({ token: REGISTRATION_TOKEN, tag_list: ['a, b', 'c'] }), status: 201, check: (s, b) => expect(s.core.runners.get(b.id).tagList).toEqual(['a', 'b', 'c']) },
    { id: 'R4 --paused sends active:false', body: () => ({ token: REGISTRATION_TOKEN, active: false }), status: 201, check: (s, b) => expect(s.core.runners.get(b.id).active).toBe(false) },
    { id: 'R5 paused:true (modern) wins over active', body: () => ({ token: REGISTRATION_TOKEN, paused: true, active: true }), status: 201, check: (s, b) => expect(s.core.runners.get(b.id).active).toBe(false) },
    { id: 'R6 defaults: no tags → run_untagged true, unlocked, active', body: () => ({ token: REGISTRATION_TOKEN }), status: 201, check: (s, b) => expect(s.core.runners.get(b.id)).toMatchObject({ runUntagged: true, locked: false, active: true, maximumTimeout: null }) },
    { id: 'R7 form-encoded with nested info[...] and tag_list[]', form: true, body: () => `token=${REGISTRATION_TOKEN}&tag_list[]=x&tag_list[]=y&info[version]=9.5.0&run_untagged=false`, status: 201, check: (s, b) => expect(s.core.runners.get(b.id)).toMatchObject({ tagList: ['x', 'y'], version: '9.5.0', runUntagged: false }) },
    { id: 'R8 missing token → 400', body: () => ({ description: 'x' }), status: 400, check: (_s, b) => expect(b).toEqual({ error: 'token is missing' }) },
    { id: 'R9 unknown token → 403', body: () => ({ token: 'BADTOKEN' }), status: 403, check: (_s, b) => expect(b).toEqual({ message: '403 Forbidden' }) },
    { id: 'R10 no tags and run_untagged:false → 400 naming tags_list', body: () => ({ token: REGISTRATION_TOKEN, run_untagged: false }), status: 400, check: (_s, b) => expect(JSON.stringify(b)).toContain('tags_list') },
    { id: 'R11 unknown token with an invalid runner → 403 (token first)', body: () => ({ token: 'BADTOKEN', run_untagged: false }), status: 403 },
    { id: 'R12 wrong type for run_untagged → 400 naming it', body: () => ({ token: REGISTRATION_TOKEN, run_untagged: 'maybe' }), status: 400, check: (_s, b) => expect(b.message).toContain('run_untagged') },
    { id: 'R13 body is not JSON → 400', body: () => '{nope', status: 400 },
  ];
  for (const c of cases) {
    test(c.id, async () => {
      await start();
      const project = makeProject(server.core);
      const raw = c.body(project.runnersToken);
      const res = typeof raw === 'string'
        ? await v4('/runners', { body: raw, headers: { 'Content-Type': c.form ? 'application/x-www-form-urlencoded' : 'application/json' } })
        : await v4('/runners', { json: raw });
      const body = await expectJson(res, c.status);
      if (c.status === 201) {
        expect(Object.keys(body)).toEqual(['id', 'token', 'token_expires_at']);
        expect(body.token_expires_at).toBeNull();
        expect(body.token).toStartWith('glrt-');
        expect(body.token).not.toBe(REGISTRATION_TOKEN);
      }
      c.check?.(server, body);
    });
  }
});

// ==================================================================== verify / unregister

describe('POST /api/v4/runners/verify and DELETE /api/v4/runners', () => {
  test('verify: 200 with {id, token, token_expires_at: null}; 403 unknown; 400 missing', async () => {
    await start();
    const r = await registerRunner();
    expect(await expectJson(await v4('/runners/verify', { json: { token: r.token } }), 200)).toEqual({ id: r.id, token: r.token, token_expires_at: null });
    expect(await expectJson(await v4('/runners/verify', { json: { token: 'nope' } }), 403)).toEqual({ message: '403 Forbidden' });
    expect(await expectJson(await v4('/runners/verify', { json: {} }), 400)).toEqual({ error: 'token is missing' });
  });

  test('unregister: 204 with no body, then the token is gone (verify 403, jobs/request 403); 403 unknown; 400 missing', async () => {
    await start();
    const r = await registerRunner();
    await expectEmpty(await v4('/runners', { method: 'DELETE', json: { token: r.token } }), 204);
    await expectJson(await v4('/runners/verify', { json: { token: r.token } }), 403);
    await expectJson(await v4('/jobs/request', { json: { token: r.token } }), 403);
    await expectJson(await v4('/runners', { method: 'DELETE', json: { token: r.token } }), 403);
    await expectJson(await v4('/runners', { method: 'DELETE', json: {} }), 400);
  });

  test('the fake runner: register → verify alive → unregister 204 → verify removed', async () => {
    await start();
    const runner = await FakeRunnerV4.register(server.url, REGISTRATION_TOKEN, { description: 'fake', tags: ['linux', 'shell'] });
    expect(await runner.verify()).toBe('alive');
    expect(await runner.unregister()).toBe(204);
    expect(await runner.verify()).toBe('removed');
    // Register sent what 11.11.4 sends: Accept on register only, its User-Agent, locked by default.
    const [reg, verify] = runner.calls;
    expect(reg.requestHeaders).toMatchObject({ 'User-Agent': V4_USER_AGENT, Accept: 'application/json', 'Content-Type': 'application/json' });
    expect(reg.body).toMatchObject({ tag_list: 'linux,shell', run_untagged: false, locked: true, active: true });
    expect(verify.requestHeaders.Accept).toBeUndefined();
  });

  test('a URL configured with /ci still reaches /api/v4', async () => {
    await start();
    const runner = await FakeRunnerV4.register(`${server.url}/ci/`, REGISTRATION_TOKEN);
    expect(runner.base).toBe(`${server.url}/api/v4/`);
    expect(await runner.verify()).toBe('alive');
  });
});

// ==================================================================== POST /user/runners

describe('POST /api/v4/user/runners (admin creates, runner only verifies)', () => {
  const admin = { 'PRIVATE-TOKEN': ADMIN_TOKEN };
  const cases: { id: string; body: (projectId: number) => unknown; headers?: Record<string, string>; status: number; check?: (s: TestServer, b: any, projectId: number) => void }[] = [
    {
      id: 'C1 instance_type → shared runner with the given settings', body: () => ({ runner_type: 'instance_type', description: 'made by admin', tag_list: 'docker, linux', run_untagged: false, locked: true, paused: true }), status: 201,
      check: (s, b) => expect(s.core.runners.get(b.id)).toMatchObject({ isShared: true, description: 'made by admin', tagList: ['docker', 'linux'], runUntagged: false, locked: true, active: false, protocol: 'v4' }),
    },
    {
      id: 'C2 project_type with project_id → project runner', body: (p) => ({ runner_type: 'project_type', project_id: p, tag_list: ['x'] }), status: 201,
      check: (s, b, p) => {
        expect(s.core.runners.get(b.id).isShared).toBe(false);
        expect(s.core.runners.projectIds(b.id)).toEqual([p]);
      },
    },
    { id: 'C3 Authorization: Bearer works too', body: () => ({ runner_type: 'instance_type' }), headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }, status: 201 },
    { id: 'C4 no admin token → 401', body: () => ({ runner_type: 'instance_type' }), headers: {}, status: 401 },
    { id: 'C5 wrong admin token → 401', body: () => ({ runner_type: 'instance_type' }), headers: { 'PRIVATE-TOKEN': 'nope' }, status: 401 },
    { id: 'C6 project_type without project_id → 400', body: () => ({ runner_type: 'project_type' }), status: 400, check: (_s, b) => expect(b.message).toContain('project_id') },
    { id: 'C7 project_type with an unknown project → 404', body: () => ({ runner_type: 'project_type', project_id: 999_999 }), status: 404 },
    { id: 'C8 group_type → 400 (no groups in Baton)', body: () => ({ runner_type: 'group_type' }), status: 400, check: (_s, b) => expect(b.message).toContain('runner_type') },
    { id: 'C9 unknown runner_type → 400 naming it', body: () => ({ runner_type: 'nope' }), status: 400, check: (_s, b) => expect(b.message).toContain('runner_type') },
    { id: 'C10 runner_type missing → 400', body: () => ({}), status: 400, check: (_s, b) => expect(b.message).toContain('runner_type') },
    { id: 'C11 instance_type with project_id → 400', body: (p) => ({ runner_type: 'instance_type', project_id: p }), status: 400 },
    { id: 'C12 no tags and run_untagged:false → 400', body: () => ({ runner_type: 'instance_type', run_untagged: false }), status: 400 },
    { id: 'C13 no admin token and an invalid body → 401 (credentials first)', body: () => ({ runner_type: 'nope' }), headers: {}, status: 401 },
  ];
  for (const c of cases) {
    test(c.id, async () => {
      await start();
      const project = makeProject(server.core);
      const body = await expectJson(await v4('/user/runners', { json: c.body(project.id), headers: c.headers ?? admin }), c.status);
      if (c.status === 201) {
        expect(Object.keys(body)).toEqual(['id', 'token', 'token_expires_at']);
        expect(body.token).toStartWith('glrt-');
        expect(body.token_expires_at).toBeNull();
      }
      c.check?.(server, body, project.id);
    });
  }

  test('`gitlab-runner register --token glrt-…` only verifies, then the runner takes jobs', async () => {
    await start();
    const project = makeProject(server.core);
    const created = await expectJson(await v4('/user/runners', { json: { runner_type: 'project_type', project_id: project.id }, headers: admin }), 201);
    const runner = new FakeRunnerV4(server.url, created.token);
    expect(await runner.verify()).toBe('alive');
    await makePipeline(server.core, project.id, 'build:\n  script: [echo hi]\n');
    const result = await runner.runOne({ build: { output: ['hi'] } });
    expect(result).toMatchObject({ name: 'build', state: 'success', finalStatus: 200 });
    expect(server.core.jobs.get(result!.jobId).status).toBe('success');
  });
});

// ==================================================================== POST /jobs/request

describe('POST /api/v4/jobs/request', () => {
  test('unknown or missing runner token → 403', async () => {
    await start();
    expect(await expectJson(await v4('/jobs/request', { json: { token: 'nope', info: RUN_INFO } }), 403)).toEqual({ message: '403 Forbidden' });
    await expectJson(await v4('/jobs/request', { json: { info: RUN_INFO } }), 403);
  });

  test('nothing to do → 204, empty, X-GitLab-Last-Update; echoing it still gets 204 (never 404)', async () => {
    await start();
    const r = await registerRunner();
    const first = await v4('/jobs/request', { json: { info: RUN_INFO, token: r.token } });
    await expectEmpty(first, 204);
    const epoch = first.headers.get('x-gitlab-last-update');
    expect(epoch).toBeTruthy();
    const second = await v4('/jobs/request', { json: { info: RUN_INFO, token: r.token, last_update: epoch } });
    await expectEmpty(second, 204);
    expect(second.headers.get('x-gitlab-last-update')).toBe(epoch);
  });

  test('the runner\'s info and liveness are recorded, protocol v4', async () => {
    await start();
    const r = await registerRunner({ info: undefined });
    await v4('/jobs/request', { json: { info: RUN_INFO, token: r.token } });
    expect(server.core.runners.get(r.id)).toMatchObject({ version: '11.11.4', revision: 'e828d3bc', executor: 'shell', platform: 'linux', protocol: 'v4', contactedAt: clock.now() });
  });

  test('paused runner → 204 even with a pending job, which stays pending', async () => {
    await start();
    const project = makeProject(server.core);
    const pipeline = await makePipeline(server.core, project.id, 'build:\n  script: [x]\n');
    const r = await registerRunner({ active: false });
    await expectEmpty(await v4('/jobs/request', { json: { info: RUN_INFO, token: r.token } }), 204);
    expect(server.core.pipelines.latestJobs(pipeline.id)[0].status).toBe('pending');
  });

  test('a locked instance runner (11.x default) takes jobs of every project', async () => {
    await start();
    const a = makeProject(server.core);
    const b = makeProject(server.core);
    await makePipeline(server.core, a.id, 'one:\n  script: [x]\n');
    await makePipeline(server.core, b.id, 'two:\n  script: [x]\n');
    const r = await registerRunner({ locked: true });
    const got = [await takeJob(r.token), await takeJob(r.token)];
    expect(got.map((j) => j.job_info.project_id).sort()).toEqual([a.id, b.id].sort());
  });

  test('tags: a job whose tags the runner lacks is not handed out', async () => {
    await start();
    const project = makeProject(server.core);
    await makePipeline(server.core, project.id, 'build:\n  script: [x]\n  tags: [gpu]\n');
    const r = await registerRunner({ tag_list: 'linux' });
    await expectEmpty(await v4('/jobs/request', { json: { info: RUN_INFO, token: r.token } }), 204);
    const gpu = await registerRunner({ tag_list: 'gpu,linux' });
    expect((await takeJob(gpu.token)).job_info.name).toBe('build');
  });

  test('a lost race → 409', async () => {
    await start();
    const r = await registerRunner();
    const take = server.core.jobs.take;
    server.core.jobs.take = () => ({ outcome: 'conflict' });
    try {
      const res = await v4('/jobs/request', { json: { info: RUN_INFO, token: r.token } });
      expect(await expectJson(res, 409)).toEqual({ message: '409 Conflict' });
      expect(res.headers.get('x-gitlab-last-update')).toBeNull();
    } finally {
      server.core.jobs.take = take;
    }
  });

  test('long polling: a request echoing the epoch is held until work arrives', async () => {
    await start({ pollTimeout: 10 });
    const project = makeProject(server.core);
    const r = await registerRunner();
    const first = await v4('/jobs/request', { json: { info: RUN_INFO, token: r.token } });
    await expectEmpty(first, 204);
    const held = v4('/jobs/request', { json: { info: RUN_INFO, token: r.token, last_update: first.headers.get('x-gitlab-last-update') } });
    let settled = false;
    held.then(() => { settled = true; });
    // Other requests are answered meanwhile; the held one is not.
    await expectJson(await v4('/runners/verify', { json: { token: r.token } }), 200);
    expect(settled).toBe(false);
    await makePipeline(server.core, project.id, 'build:\n  script: [x]\n');
    const job = await expectJson(await held, 201);
    expect(job.job_info.name).toBe('build');
  });

  describe('the job payload (runner-api-v1.md §9.2)', () => {
    const YAML = `
image:
  name: ruby:3.3
  entrypoint: [""]
services:
  - name: postgres:16
    alias: db
    command: ["postgres", "-c", "fsync=off"]
  - name: redis:7
    entrypoint: ["/bin/sh", "-c"]
  - busybox
variables:
  DB_NAME: postgres
before_script: [echo before]
build:
  stage: build
  script: [echo hello, ./build.sh]
  after_script: [echo after]
  artifacts:
    name: my-artifacts
    paths: [output.txt, README.md]
    expire_in: 1 week
  cache:
    key: k
    paths: [vendor/]
`;

    test('shape, types and values of a full job (jobs 2001 of wire-v4.md)', async () => {
      await start();
      const project = makeProject(server.core, { name: 'project' });
      server.core.projects.createVariable(project.id, { key: 'SECRET_VAR', value: 's3cr3t-value', masked: true });
      const pipeline = await makePipeline(server.core, project.id, YAML);
      const r = await registerRunner();
      clock.advance(5_000);
      const job = await takeJob(r.token);

      expect(nullPaths(job)).toEqual([]);
      expect(() => decodeJob(job)).not.toThrow();
      expect(Object.keys(job)).toEqual(['id', 'token', 'allow_git_fetch', 'job_info', 'git_info', 'runner_info', 'variables', 'steps', 'image', 'services', 'artifacts', 'cache', 'credentials', 'dependencies', 'features']);
      expect(job.token).toMatch(/^glcbt-/);
      expect(job.allow_git_fetch).toBe(true);
      expect(job.job_info).toEqual({ id: job.id, name: 'build', stage: 'build', project_id: project.id, project_name: 'project', pipeline_id: pipeline.id, time_in_queue_seconds: 5 });
      expect(job.git_info).toEqual({
        repo_url: project.repoUrl, ref: 'main', sha: SHA, before_sha: '0000000000000000000000000000000000000000', ref_type: 'branch',
        refspecs: ['+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'], depth: 0,
      });
      expect(job.runner_info).toEqual({ timeout: 3600 });
      expect(job.steps).toEqual([
        { name: 'script', script: ['echo before', 'echo hello', './build.sh'], timeout: 3600, when: 'on_success', allow_failure: false },
        { name: 'after_script', script: ['echo after'], timeout: 3600, when: 'always', allow_failure: true },
      ]);
      expect(job.image).toEqual({ name: 'ruby:3.3', entrypoint: [''] });
      expect(job.services).toEqual([
        { name: 'postgres:16', alias: 'db', command: ['postgres', '-c', 'fsync=off'] },
        { name: 'redis:7', entrypoint: ['/bin/sh', '-c'] },
        { name: 'busybox' },
      ]);
      expect(job.artifacts).toEqual([{ name: 'my-artifacts', untracked: false, paths: ['output.txt', 'README.md'], when: 'on_success', expire_in: '1 week', artifact_type: 'archive', artifact_format: 'zip' }]);
      // `when` and `fallback_keys` as today's GitLab sends them; 11.11.4 ignores them.
      expect(job.cache).toEqual([{ key: 'k', untracked: false, paths: ['vendor/'], policy: 'pull-push', when: 'on_success', fallback_keys: [] }]);
      expect(job.credentials).toEqual([]);
      expect(job.dependencies).toEqual([]);
      expect(job.features).toEqual({ trace_sections: true });

      const vars = new Map((job.variables as any[]).map((v) => [v.key, v]));
      for (const v of job.variables) expect(Object.keys(v)).toEqual(['key', 'value', 'public', 'masked']);
      expect(vars.get('CI_JOB_NAME')).toEqual({ key: 'CI_JOB_NAME', value: 'build', public: true, masked: false });
      expect(vars.get('CI_JOB_ID')).toEqual({ key: 'CI_JOB_ID', value: String(job.id), public: true, masked: false });
      expect(vars.get('CI_JOB_TOKEN')).toEqual({ key: 'CI_JOB_TOKEN', value: job.token, public: false, masked: false });
      expect(vars.get('DB_NAME')).toEqual({ key: 'DB_NAME', value: 'postgres', public: true, masked: false });
      expect(vars.get('SECRET_VAR')).toEqual({ key: 'SECRET_VAR', value: 's3cr3t-value', public: false, masked: true });
    });

    const traps: { id: string; pick: (job: any) => unknown[] }[] = [
      { id: 'image.entrypoint', pick: (j) => [j.image?.entrypoint] },
      { id: 'image.command', pick: (j) => [j.image?.command] },
      { id: 'services[].entrypoint', pick: (j) => j.services.map((s: any) => s.entrypoint) },
      { id: 'services[].command', pick: (j) => j.services.map((s: any) => s.command) },
      { id: 'steps[].script', pick: (j) => j.steps.map((s: any) => s.script) },
    ];
    for (const trap of traps) {
      test(`type trap: ${trap.id} is an array of strings or absent, never null or a string`, async () => {
        await start();
        const project = makeProject(server.core);
        await makePipeline(server.core, project.id, YAML);
        const r = await registerRunner();
        const job = await takeJob(r.token);
        const values = trap.pick(job);
        expect(values.length).toBeGreaterThan(0);
        for (const v of values) {
          if (v === undefined) continue;
          expect(Array.isArray(v) && (v as unknown[]).every((x) => typeof x === 'string')).toBe(true);
        }
        // Every integer field is an integer (Go's int).
        for (const n of [job.id, job.job_info.project_id, job.runner_info.timeout, job.git_info.depth, ...job.steps.map((s: any) => s.timeout)]) {
          expect(Number.isInteger(n)).toBe(true);
        }
      });
    }

    test('a minimal job: no image key, only the script step, empty lists', async () => {
      await start();
      const project = makeProject(server.core);
      await makePipeline(server.core, project.id, 'build:\n  script: [echo minimal-ok]\n');
      const r = await registerRunner();
      const job = await takeJob(r.token);
      expect(nullPaths(job)).toEqual([]);
      expect('image' in job).toBe(false);
      expect(job.steps).toEqual([{ name: 'script', script: ['echo minimal-ok'], timeout: 3600, when: 'on_success', allow_failure: false }]);
      expect([job.services, job.artifacts, job.cache, job.credentials, job.dependencies]).toEqual([[], [], [], [], []]);
    });

    test('a tag pipeline → ref_type tag; timeout capped by the runner\'s maximum_timeout; allow_git_fetch from the project', async () => {
      await start();
      const project = makeProject(server.core, { allowGitFetch: false });
      await makePipeline(server.core, project.id, 'build:\n  script: [x]\n', { ref: 'v1.0', tag: true });
      const r = await registerRunner({ maximum_timeout: 900 });
      const job = await takeJob(r.token);
      expect(job.git_info).toMatchObject({ ref: 'v1.0', ref_type: 'tag', refspecs: ['+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'], depth: 0 });
      expect(job.runner_info.timeout).toBe(900);
      expect(job.steps[0].timeout).toBe(900);
      expect(job.allow_git_fetch).toBe(false);
    });

    test('dependencies: earlier-stage jobs with the REQUESTING job\'s token; artifacts_file only when there is one', async () => {
      await start();
      const project = makeProject(server.core);
      await makePipeline(server.core, project.id, `
stages: [build, test]
build:
  stage: build
  script: [x]
  artifacts: {paths: [out]}
lint:
  stage: build
  script: [x]
test:
  stage: test
  script: [x]
`);
      const r = await registerRunner();
      const build = await takeJob(r.token);
      const lint = await takeJob(r.token);
      expect((await upload(build.id, build.token, enc.encode('zip-bytes'))).status).toBe(201);
      for (const j of [build, lint]) await v4(`/jobs/${j.id}`, { method: 'PUT', json: { token: j.token, state: 'success' } });
      const test_ = await takeJob(r.token);
      expect(nullPaths(test_)).toEqual([]);
      expect(test_.dependencies).toEqual([
        { id: build.id, name: 'build', token: test_.token, artifacts_file: { filename: 'my-artifacts.zip', size: 9 } },
        { id: lint.id, name: 'lint', token: test_.token },
      ]);
    });
  });
});

// ==================================================================== PUT /jobs/:id

describe('PUT /api/v4/jobs/:id', () => {
  type Ctx = { job: { id: number; token: string }; project: { runnersToken: string } };
  const cases: {
    id: string; setup?: (c: Ctx) => void; req: (c: Ctx) => { id?: number; json: unknown; headers?: Record<string, string> };
    status: number; jobStatus?: string | null; after?: Partial<{ status: string; failureReason: string | null; exitCode: number | null }>;
  }[] = [
    { id: 'U1 state running (keep-alive), token in body', req: (c) => ({ json: { info: RUN_INFO, token: c.job.token, state: 'running' } }), status: 200, after: { status: 'running' } },
    { id: 'U2 token in the JOB-TOKEN header', req: (c) => ({ json: { state: 'running' }, headers: { 'JOB-TOKEN': c.job.token } }), status: 200, after: { status: 'running' } },
    { id: 'U3 no state → keep-alive', req: (c) => ({ json: { token: c.job.token } }), status: 200, after: { status: 'running' } },
    { id: 'U4 success', req: (c) => ({ json: { info: RUN_INFO, token: c.job.token, state: 'success' } }), status: 200, after: { status: 'success', failureReason: null } },
    { id: 'U5 failed with failure_reason and exit_code', req: (c) => ({ json: { token: c.job.token, state: 'failed', failure_reason: 'job_execution_timeout', exit_code: 3 } }), status: 200, after: { status: 'failed', failureReason: 'job_execution_timeout', exitCode: 3 } },
    { id: 'U5b a reason of GitLab 19.1 runners is kept', req: (c) => ({ json: { token: c.job.token, state: 'failed', failure_reason: 'runner_external_dependency_failure' } }), status: 200, after: { status: 'failed', failureReason: 'runner_external_dependency_failure' } },
    { id: 'U5c a reason GitLab does not know → unknown_failure', req: (c) => ({ json: { token: c.job.token, state: 'failed', failure_reason: 'cosmic_rays' } }), status: 200, after: { status: 'failed', failureReason: 'unknown_failure' } },
    { id: 'U6 failed without a reason → script_failure', req: (c) => ({ json: { token: c.job.token, state: 'failed' } }), status: 200, after: { status: 'failed', failureReason: 'script_failure' } },
    { id: 'U7 unknown state → 400, job unchanged', req: (c) => ({ json: { token: c.job.token, state: 'bogus' } }), status: 400, after: { status: 'running' } },
    { id: 'U8 wrong job token → 403', req: () => ({ json: { token: 'glcbt-wrong', state: 'success' } }), status: 403, after: { status: 'running' } },
    { id: 'U9 no token → 403', req: () => ({ json: { state: 'success' } }), status: 403, after: { status: 'running' } },
    { id: 'U10 the project runners token is not a job token in v4 → 403', req: (c) => ({ json: { token: c.project.runnersToken, state: 'success' } }), status: 403, after: { status: 'running' } },
    { id: 'U11 unknown job → 404', req: (c) => ({ id: 999_999, json: { token: c.job.token, state: 'success' } }), status: 404 },
    { id: 'U12 canceled job → 403 + Job-Status: canceled', setup: (c) => server.core.jobs.cancel(c.job.id), req: (c) => ({ json: { token: c.job.token, state: 'success' } }), status: 403, jobStatus: 'canceled', after: { status: 'canceled' } },
    { id: 'U13 already succeeded → 403 + Job-Status: success', setup: (c) => server.core.jobs.finish(c.job.id, 'success', { failureReason: null, exitCode: 0 }), req: (c) => ({ json: { token: c.job.token, state: 'failed' } }), status: 403, jobStatus: 'success', after: { status: 'success' } },
    { id: 'U14 exit_code of the wrong type → 400 naming it', req: (c) => ({ json: { token: c.job.token, state: 'failed', exit_code: 'three' } }), status: 400, after: { status: 'running' } },
  ];
  for (const c of cases) {
    test(c.id, async () => {
      await start();
      const ctx = await runningJob();
      c.setup?.(ctx);
      const req = c.req(ctx);
      const res = await v4(`/jobs/${req.id ?? ctx.job.id}`, { method: 'PUT', json: req.json, headers: req.headers });
      const body = await expectJson(res, c.status);
      if (c.status === 200) expect(body).toEqual({ id: ctx.job.id });
      if (c.status === 200) expect(res.headers.get('job-status')).toBeNull();
      if (c.jobStatus !== undefined) expect(res.headers.get('job-status')).toBe(c.jobStatus);
      if (c.after) expect(server.core.jobs.get(ctx.job.id)).toMatchObject(c.after);
    });
  }

  test('a keep-alive is a sign of life (updated_at) and refreshes the runner\'s info', async () => {
    await start();
    const { job, runner } = await runningJob();
    clock.advance(60_000);
    await expectJson(await v4(`/jobs/${job.id}`, { method: 'PUT', json: { token: job.token, state: 'running', info: { ...RUN_INFO, version: '11.11.5' } } }), 200);
    expect(server.core.jobs.get(job.id).updatedAt).toBe(clock.now());
    expect(server.core.runners.get(runner.id).version).toBe('11.11.5');
  });
});

// ==================================================================== PATCH /jobs/:id/trace

describe('PATCH /api/v4/jobs/:id/trace', () => {
  // Setup: a running job whose stored trace is `BUILD TRACE` (11 bytes).
  type Ctx = { job: { id: number; token: string }; project: { runnersToken: string } };
  const cases: {
    id: string; setup?: (c: Ctx) => void; range: string | null; body: string; token?: (c: Ctx) => string | null; query?: (c: Ctx) => string; jobId?: number;
    status: number; headers?: Record<string, string>; trace?: string;
  }[] = [
    { id: 'T1 append at the stored length, inclusive end', range: '11-19', body: ' appended', status: 202, headers: { range: '0-20', 'job-status': 'running', 'x-gitlab-trace-update-interval': '3' }, trace: 'BUILD TRACE appended' },
    { id: 'T2 exclusive end (older runners) is fine too', range: '11-20', body: ' appended', status: 202, headers: { range: '0-20' }, trace: 'BUILD TRACE appended' },
    { id: 'T3 start beyond the stored length → 416 Range 0-11', range: '15-20', body: 'xxxxx', status: 416, headers: { range: '0-11' }, trace: 'BUILD TRACE' },
    { id: 'T4 start before the stored length → 416 Range 0-11', range: '8-20', body: 'xxxxx', status: 416, headers: { range: '0-11' }, trace: 'BUILD TRACE' },
    { id: 'T5 far beyond → 416 still never more than stored', range: '99999-100010', body: 'x', status: 416, headers: { range: '0-11' }, trace: 'BUILD TRACE' },
    { id: 'T6 no Content-Range → 400', range: null, body: 'x', status: 400, trace: 'BUILD TRACE' },
    { id: 'T7 wrong job token → 403', range: '11-11', body: 'x', token: () => 'glcbt-wrong', status: 403, trace: 'BUILD TRACE' },
    { id: 'T8 no token → 403', range: '11-11', body: 'x', token: () => null, status: 403, trace: 'BUILD TRACE' },
    { id: 'T9 project runners token → 403 (v4: job token only)', range: '11-11', body: 'x', token: (c) => c.project.runnersToken, status: 403, trace: 'BUILD TRACE' },
    { id: 'T10 token as query parameter', range: '11-11', body: '!', token: () => null, query: (c) => `?token=${c.job.token}`, status: 202, headers: { range: '0-12' }, trace: 'BUILD TRACE!' },
    { id: 'T11 unknown job → 404', range: '0-0', body: 'x', jobId: 999_999, status: 404 },
    { id: 'T12 canceled job → 202 with Job-Status: canceled (the runner aborts)', setup: (c) => server.core.jobs.cancel(c.job.id), range: '11-15', body: ' tick', status: 202, headers: { 'job-status': 'canceled', range: '0-16' }, trace: 'BUILD TRACE tick' },
    { id: 'T13 failed job → 202 with Job-Status: failed', setup: (c) => server.core.jobs.finish(c.job.id, 'failed', { failureReason: 'job_execution_timeout', exitCode: null }), range: '11-11', body: '.', status: 202, headers: { 'job-status': 'failed' } },
    { id: 'T14 succeeded job → 202 with Job-Status: success', setup: (c) => server.core.jobs.finish(c.job.id, 'success', { failureReason: null, exitCode: 0 }), range: '11-11', body: '.', status: 202, headers: { 'job-status': 'success' } },
    { id: 'T15 multi-byte UTF-8: offsets count bytes', range: '11-13', body: ' é', status: 202, headers: { range: '0-14' }, trace: 'BUILD TRACE é' },
  ];
  for (const c of cases) {
    test(c.id, async () => {
      await start();
      const ctx = await runningJob();
      expect((await patchTrace(ctx.job.id, '0-10', 'BUILD TRACE', ctx.job.token)).status).toBe(202);
      c.setup?.(ctx);
      const token = c.token ? c.token(ctx) : ctx.job.token;
      const res = await patchTrace(c.jobId ?? ctx.job.id, c.range, c.body, token, c.query?.(ctx) ?? '');
      expect(res.status).toBe(c.status);
      if (c.status === 202) expect(await res.text()).toBe('');
      else await expectJson(res, c.status);
      for (const [k, v] of Object.entries(c.headers ?? {})) expect([k, res.headers.get(k)]).toEqual([k, v]);
      if (c.trace !== undefined) expect(new TextDecoder().decode(await server.core.jobs.readTrace(ctx.job.id) as any)).toBe(c.trace);
    });
  }

  test('secrets are masked before they are stored, keeping the byte offsets', async () => {
    await start();
    const project = makeProject(server.core);
    server.core.projects.createVariable(project.id, { key: 'SECRET_VAR', value: 's3cr3t-value', masked: true });
    await makePipeline(server.core, project.id, 'build:\n  script: [x]\n');
    const r = await registerRunner();
    const job = await takeJob(r.token);
    const line = `secret is s3cr3t-value, token ${job.token}\n`;
    const res = await patchTrace(job.id, `0-${line.length - 1}`, line, job.token);
    expect(res.headers.get('range')).toBe(`0-${line.length}`);
    const stored = new TextDecoder().decode(await server.core.jobs.readTrace(job.id) as any);
    expect(stored.length).toBe(line.length);
    expect(stored).not.toContain('s3cr3t-value');
    expect(stored).not.toContain(job.token);
  });

  test('a log over --max-trace-size fails the job and answers 403 + Job-Status: failed', async () => {
    await start({ maxTraceSize: 16 });
    const { job } = await runningJob();
    expect((await patchTrace(job.id, '0-9', 'x'.repeat(10), job.token)).status).toBe(202);
    const res = await patchTrace(job.id, '10-19', 'x'.repeat(10), job.token);
    await expectJson(res, 403);
    expect(res.headers.get('job-status')).toBe('failed');
    expect(server.core.jobs.get(job.id)).toMatchObject({ status: 'failed', failureReason: 'trace_size_exceeded' });
  });
});

// ==================================================================== artifacts

describe('POST/GET /api/v4/jobs/:id/artifacts', () => {
  const YAML = `
stages: [build, test, deploy]
build:
  stage: build
  script: [x]
  artifacts: {name: my-artifacts, paths: [out], expire_in: 1 week}
test:
  stage: test
  script: [x]
deploy:
  stage: deploy
  script: [x]
`;
  const data = enc.encode('PK\x03\x04 pretend zip '.repeat(100));

  test('upload: chunked multipart with artifact_format/artifact_type/expire_in → 201, stored, expiry applied', async () => {
    await start();
    const { job } = await runningJob(YAML);
    const res = await upload(job.id, job.token, data, '?artifact_format=zip&artifact_type=archive&expire_in=1+week');
    const body = await expectJson(res, 201);
    const weekLater = clock.now() + 7 * 86400_000;
    expect(body).toEqual({ id: job.id, artifacts_file: { filename: 'my-artifacts.zip', size: data.length }, artifacts_expire_at: new Date(weekLater).toISOString() });
    expect(server.core.jobs.get(job.id)).toMatchObject({ artifactsFile: 'my-artifacts.zip', artifactsSize: data.length, artifactsExpireAt: weekLater });
  });

  const cases: { id: string; query?: string; token?: 'own' | 'project' | 'wrong' | 'none'; setup?: (jobId: number) => void; status: number; expireAt?: (now: number) => number | null }[] = [
    { id: 'A1 no expire_in → the instance default (30 days)', query: '', status: 201, expireAt: (now) => now + 30 * 86400_000 },
    { id: 'A2 expire_in=never → kept forever', query: '?expire_in=never', status: 201, expireAt: () => null },
    { id: 'A3 artifact_type=junit → 201: a report beside the archive, which stays empty', query: '?artifact_format=gzip&artifact_type=junit', status: 201 },
    { id: 'A3b an unknown artifact_type → 400', query: '?artifact_format=gzip&artifact_type=nonsense', status: 400 },
    { id: 'A3c a report in the wrong format → 400', query: '?artifact_format=raw&artifact_type=junit', status: 400 },
    { id: 'A4 archive in another format → 400', query: '?artifact_format=gzip&artifact_type=archive', status: 400 },
    { id: 'A5 wrong job token → 403', token: 'wrong', status: 403 },
    { id: 'A6 no token → 403', token: 'none', status: 403 },
    { id: 'A7 project runners token → 403', token: 'project', status: 403 },
    { id: 'A8 canceled job → 403', setup: (id) => server.core.jobs.cancel(id), status: 403 },
  ];
  for (const c of cases) {
    test(c.id, async () => {
      await start();
      const { job, project } = await runningJob(YAML);
      c.setup?.(job.id);
      const token = { own: job.token, project: project.runnersToken, wrong: 'glcbt-wrong', none: null }[c.token ?? 'own'];
      await expectJson(await upload(job.id, token, data, c.query ?? '?artifact_format=zip&artifact_type=archive'), c.status);
      const stored = server.core.jobs.get(job.id);
      if (c.status !== 201 || c.query?.includes('junit')) expect(stored.artifactsFile).toBeNull();
      if (c.expireAt) expect(stored.artifactsExpireAt).toBe(c.expireAt(clock.now()));
    });
  }

  test('too large → 413 and nothing is kept', async () => {
    await start({ maxArtifactSize: 100 });
    const { job } = await runningJob(YAML);
    await expectJson(await upload(job.id, job.token, data), 413);
    expect(server.core.jobs.get(job.id).artifactsFile).toBeNull();
    expect(existsSync(server.core.deps.store.artifactPath(job.id))).toBe(false);
  });

  test('no file part → 400', async () => {
    await start();
    const { job } = await runningJob(YAML);
    const boundary = 'xyz';
    const res = await v4(`/jobs/${job.id}/artifacts`, {
      headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'JOB-TOKEN': job.token },
      body: `--${boundary}\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n--${boundary}--\r\n`,
    });
    await expectJson(res, 400);
  });

  test('download: own token and a later-stage job\'s token → 200 the same bytes; others → 403; none stored → 404', async () => {
    await start();
    const project = makeProject(server.core);
    await makePipeline(server.core, project.id, YAML);
    const other = await makePipeline(server.core, project.id, YAML);
    const r = await registerRunner();
    const build = await takeJob(r.token);
    const otherBuild = await takeJob(r.token);
    expect(otherBuild.job_info.pipeline_id).toBe(other.id);
    expect((await upload(build.id, build.token, data)).status).toBe(201);
    await v4(`/jobs/${build.id}`, { method: 'PUT', json: { token: build.token, state: 'success' } });
    const testJob = await takeJob(r.token);
    expect(testJob.job_info.name).toBe('test');
    expect(testJob.dependencies[0]).toMatchObject({ id: build.id, token: testJob.token });

    const get = (id: number, token: string | null) => fetch(`${server.url}/api/v4/jobs/${id}/artifacts`, {
      headers: { 'User-Agent': 'Go-http-client/1.1', ...(token ? { 'JOB-TOKEN': token } : {}) },
    });
    for (const token of [build.token, testJob.token]) {
      const res = await get(build.id, token);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toBe('attachment; filename=my-artifacts.zip');
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(data);
    }
    const denied: [string, string | null][] = [
      ['wrong token', 'glcbt-wrong'], ['no token', null], ['project runners token', project.runnersToken], ['a job of another pipeline', otherBuild.token],
    ];
    for (const [why, token] of denied) expect([why, (await get(build.id, token)).status]).toEqual([why, 403]);
    await v4(`/jobs/${testJob.id}`, { method: 'PUT', json: { token: testJob.token, state: 'success' } });
    // Once the downloading job ended its token no longer opens its dependencies' archives.
    expect((await get(build.id, testJob.token)).status).toBe(403);
    expect((await get(testJob.id, testJob.token)).status).toBe(404);
    expect((await get(999_999, build.token)).status).toBe(404);
  });
});

// ==================================================================== API docs

test('/swagger/json lists every v4 runner endpoint under the runner-v4 tag', async () => {
  await start();
  const doc = await (await fetch(`${server.url}/swagger/json`)).json() as { paths: Record<string, Record<string, { tags?: string[]; summary?: string }>> };
  const expected: [string, string][] = [
    ['/api/v4/runners', 'post'], ['/api/v4/runners/verify', 'post'], ['/api/v4/runners', 'delete'], ['/api/v4/user/runners', 'post'],
    ['/api/v4/jobs/request', 'post'], ['/api/v4/jobs/{id}', 'put'], ['/api/v4/jobs/{id}/trace', 'patch'],
    ['/api/v4/jobs/{id}/artifacts', 'post'], ['/api/v4/jobs/{id}/artifacts', 'get'],
  ];
  for (const [path, method] of expected) {
    const op = doc.paths[path]?.[method];
    expect([path, method, op?.tags]).toEqual([path, method, ['runner-v4']]);
    expect(op?.summary).toBeTruthy();
  }
});

// ==================================================================== end to end with the fake 11.11.4

describe('a simulated gitlab-runner 11.11.4 end to end', () => {
  const PIPELINE = `
stages: [build, test]
build-job:
  stage: build
  script: [echo hello, ./build.sh]
  after_script: [echo after-script-ran]
  artifacts:
    name: my-artifacts
    paths: [output.txt]
    expire_in: 1 week
test-job:
  stage: test
  script: [cat output.txt]
`;
  const ZIP = enc.encode('PK\x03\x04 the build output');

  test('two stages: artifacts uploaded, downloaded by the next stage with the token given, both succeed', async () => {
    await start();
    const project = makeProject(server.core);
    server.core.projects.createVariable(project.id, { key: 'SECRET_VAR', value: 's3cr3t-value', masked: true });
    const runner = await FakeRunnerV4.register(server.url, REGISTRATION_TOKEN, { description: 'e2e' });
    expect(server.core.runners.get(server.core.runners.list({ offset: 0, limit: 1 }).rows[0].id).locked).toBe(true);

    // Nothing yet: 204, and the epoch comes back as last_update.
    expect(await runner.runOne({})).toBeNull();
    expect(runner.lastUpdate).toBeTruthy();
    const pipeline = await makePipeline(server.core, project.id, PIPELINE);
    const behaviours = {
      'build-job': { output: ['hello', 'secret is s3cr3t-value', 'built'], artifacts: ZIP },
      'test-job': { output: ['built'] },
    };
    const build = await runner.runOne(behaviours);
    expect(build).toMatchObject({ name: 'build-job', state: 'success', aborted: false, finalStatus: 200 });
    const testRun = await runner.runOne(behaviours);
    expect(testRun).toMatchObject({ name: 'test-job', state: 'success', aborted: false, finalStatus: 200 });
    expect(await runner.runOne(behaviours)).toBeNull();

    expect(server.core.pipelines.get(pipeline.id).status).toBe('success');
    const buildJob = server.core.jobs.get(build!.jobId);
    expect(buildJob).toMatchObject({ status: 'success', artifactsFile: 'my-artifacts.zip', artifactsSize: ZIP.length, artifactsExpireAt: clock.now() + 7 * 86400_000 });
    // The stored logs are what the runner produced (the masked value never left the runner).
    for (const run of [build!, testRun!]) {
      expect(new TextDecoder().decode(await server.core.jobs.readTrace(run.jobId) as any)).toBe(run.trace);
    }
    expect(build!.trace).toContain('secret is [MASKED]');
    expect(build!.trace).toContain('section_start:');
    expect(runner.downloads).toEqual([{ jobId: testRun!.jobId, dependencyId: build!.jobId, name: 'build-job', bytes: ZIP }]);

    // The wire, as 11.11.4 speaks it.
    const calls = runner.calls;
    const request = calls.filter((c) => c.path === 'jobs/request');
    expect((request[1].body as any).last_update).toBe(runner.calls[1].responseHeaders['x-gitlab-last-update']);
    for (const run of [build!, testRun!]) {
      const mine = calls.filter((c) => c.method !== 'GET' && new RegExp(`^jobs/${run.jobId}(/|$)`).test(c.path));
      // No PUT state=running at start; PATCHes first, one final PUT last.
      expect(mine[0].method).not.toBe('PUT');
      expect(mine.at(-1)).toMatchObject({ method: 'PUT', status: 200, body: { state: 'success' } });
      expect(mine.filter((c) => c.method === 'PUT')).toHaveLength(1);
      let offset = 0;
      for (const p of mine.filter((c) => c.method === 'PATCH')) {
        const len = enc.encode(p.body as string).length;
        expect(p.requestHeaders['Content-Range']).toBe(`${offset}-${offset + len - 1}`);
        expect(p.responseHeaders).toMatchObject({ range: `0-${offset + len}`, 'job-status': 'running' });
        offset += len;
      }
      expect(offset).toBe(enc.encode(run.trace).length);
    }
    const up = calls.find((c) => c.method === 'POST' && c.path.includes('/artifacts'))!;
    expect(up.path).toBe(`jobs/${build!.jobId}/artifacts?artifact_format=zip&artifact_type=archive&expire_in=1+week`);
    expect(up.status).toBe(201);
    const down = calls.find((c) => c.method === 'GET')!;
    const testToken = (runner.payloads[1] as { id: number; token: string });
    expect(testToken.id).toBe(testRun!.jobId);
    expect(down).toMatchObject({ path: `jobs/${build!.jobId}/artifacts`, status: 200 });
    expect(down.requestHeaders).toMatchObject({ 'Job-Token': testToken.token, 'User-Agent': 'Go-http-client/1.1' });
  });

  test('a job canceled while it runs: PATCH says Job-Status canceled, the runner aborts, its final PUT gets 403', async () => {
    await start();
    const project = makeProject(server.core);
    const runner = await FakeRunnerV4.register(server.url, REGISTRATION_TOKEN);
    const pipeline = await makePipeline(server.core, project.id, PIPELINE);
    const result = await runner.runOne(
      { 'build-job': { output: ['tick 1', 'tick 2', 'tick 3', 'tick 4', 'tick 5'], artifacts: ZIP } },
      { onTick: ({ jobId, tick }) => { if (tick === 1) server.core.jobs.cancel(jobId); } },
    );
    expect(result).toMatchObject({ name: 'build-job', state: 'failed', aborted: true, finalStatus: 403 });
    expect(result!.trace).toContain('ERROR: Job failed: canceled');
    expect(result!.trace).not.toContain('tick 3');
    const job = server.core.jobs.get(result!.jobId);
    expect(job).toMatchObject({ status: 'canceled', artifactsFile: null });
    expect(server.core.pipelines.get(pipeline.id).status).toBe('canceled');
    // Baton keeps the whole log, including what was sent after the cancel.
    expect(new TextDecoder().decode(await server.core.jobs.readTrace(job.id) as any)).toBe(result!.trace);
    const patches = runner.calls.filter((c) => c.method === 'PATCH');
    expect(patches[1].responseHeaders['job-status']).toBe('canceled');
    const put = runner.calls.at(-1)!;
    expect(put).toMatchObject({ method: 'PUT', status: 403, body: { state: 'failed', failure_reason: 'script_failure' } });
    expect(put.responseHeaders['job-status']).toBe('canceled');
    // And the runner is free again: nothing left.
    expect(await runner.runOne({})).toBeNull();
  });

  test('416 resync: the server lost the log it acknowledged, the runner resends from Range 0-N', async () => {
    await start();
    const project = makeProject(server.core);
    const runner = await FakeRunnerV4.register(server.url, REGISTRATION_TOKEN);
    await makePipeline(server.core, project.id, 'test-job:\n  script: [x]\n');
    const result = await runner.runOne(
      { 'test-job': { output: ['tick 4', 'tick 5', 'tick 6'] } },
      { onTick: ({ jobId, tick }) => { if (tick === 1) server.core.deps.store.replaceTrace(jobId, new Uint8Array(0)); } },
    );
    expect(result).toMatchObject({ state: 'success', finalStatus: 200 });
    const patches = runner.calls.filter((c) => c.method === 'PATCH');
    const mismatch = patches.find((p) => p.status === 416)!;
    expect(mismatch.responseHeaders.range).toBe('0-0');
    expect(patches[patches.indexOf(mismatch) + 1].requestHeaders['Content-Range']).toStartWith('0-');
    expect(new TextDecoder().decode(await server.core.jobs.readTrace(result!.jobId) as any)).toBe(result!.trace);
  });

  test('a failing job reports failed/script_failure; exit_code is stored when the runner sends it', async () => {
    await start();
    const project = makeProject(server.core);
    const runner = await FakeRunnerV4.register(server.url, REGISTRATION_TOKEN, { sendExitCode: true });
    await makePipeline(server.core, project.id, 'test-job:\n  script: [exit 1]\n');
    const result = await runner.runOne({ 'test-job': { output: ['boom'], exit: 'failed' } });
    expect(result).toMatchObject({ state: 'failed', aborted: false, finalStatus: 200 });
    expect(server.core.jobs.get(result!.jobId)).toMatchObject({ status: 'failed', failureReason: 'script_failure', exitCode: 1 });
  });

  test('poll cadence: runNext polls at the configured interval, echoing the epoch, until work arrives', async () => {
    await start();
    const project = makeProject(server.core);
    const runner = await FakeRunnerV4.register(server.url, REGISTRATION_TOKEN, { pollIntervalMs: 20 });
    const t0 = performance.now();
    expect(await runner.runNext({}, { maxPolls: 4 })).toBeNull();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(3 * 20 - 5);
    const polls = runner.calls.filter((c) => c.path === 'jobs/request');
    expect(polls.map((c) => c.status)).toEqual([204, 204, 204, 204]);
    expect((polls[0].body as any).last_update).toBeUndefined();
    for (const p of polls.slice(1)) expect((p.body as any).last_update).toBe(polls[0].responseHeaders['x-gitlab-last-update']);
    await makePipeline(server.core, project.id, 'test-job:\n  script: [x]\n');
    expect(await runner.runNext({}, { maxPolls: 2 })).toMatchObject({ name: 'test-job', state: 'success' });
  });
});
