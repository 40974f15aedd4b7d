/**
 * `release:` end to end and GitLab's Releases API, against a real server:
 * - a simulated v4 runner that declares `multi_build_steps` gets the job with GitLab's
 *   release step (script, release, after_script) and, while the job runs, creates the
 *   release with the job's CI_JOB_TOKEN as release-cli would;
 * - a v4 runner without the feature, and a v1 runner, are not given the job: it fails with
 *   `runner_unsupported` (GitLab's RegisterJobService), and they get "no job";
 * - REST cases: shapes, 400/401/404/409/422, roles, job tokens of other projects or ended jobs.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Gitlab } from '@gitbeaker/rest';
import { FakeRunnerV1 } from '../support/fake-runner-v1';
import { FakeRunnerV4, type V4Job } from '../support/fake-runner-v4';
import { ADMIN_TOKEN, makePipeline, makeProject, startTestServer, type TestServer } from '../support/harness';
import { addMember, as, makeUser } from '../support/people';
import { ACCESS_LEVEL } from '../../src/core/people/access';
import { releaseCommand, shellDoubleQuoted } from '../../src/runner-api/v4/release';

let s: TestServer;
beforeAll(async () => { s = await startTestServer(); });
afterAll(async () => s?.stop());

const RELEASE_YAML = [
  'stages: [build, release]',
  'build:',
  '  stage: build',
  '  script: make',
  'release_job:',
  '  stage: release',
  '  image: registry.gitlab.com/gitlab-org/release-cli:latest',
  '  rules:',
  '    - if: $CI_COMMIT_TAG',
  '  script: echo "running release_job"',
  '  after_script: echo done',
  '  release:',
  "    name: 'Release $CI_COMMIT_TAG'",
  '    description: "Notes for \\"$CI_COMMIT_TAG\\""',
  '    tag_name: $CI_COMMIT_TAG',
  '    ref: $CI_COMMIT_SHA',
  '    milestones: [m1, m2]',
  '    assets:',
  '      links:',
  '        - name: linux',
  '          url: https://example.com/bin/$CI_COMMIT_TAG/linux',
  '          link_type: package',
  '          filepath: /bin/linux',
  '',
].join('\n');

function projectWithRunnerToken() {
  const p = makeProject(s.core);
  return { project: p, runnersToken: s.core.projects.get(p.id).runnersToken };
}

const jobsOf = (pipelineId: number) => s.core.pipelines.latestJobs(pipelineId).map((j) => [j.name, j.status, j.failureReason]);

describe('the release step', () => {
  test('release-cli command line: GitLab\'s flags and order, values double-quoted for the shell', () => {
    expect(releaseCommand({ tag_name: '$CI_COMMIT_TAG', description: 'd' })).toBe('release-cli create --description "d" --tag-name "$CI_COMMIT_TAG"');
    expect(releaseCommand({
      name: 'Release $CI_COMMIT_TAG', description: './CHANGELOG.md', tag_name: 'v1', tag_message: 'msg', ref: '$CI_COMMIT_SHA',
      released_at: '2020-07-15T08:00:00Z', milestones: ['m1', 'm2'],
      assets: { links: [{ name: 'a', url: 'https://x/$CI_COMMIT_TAG' }, { name: 'b', url: 'https://y', link_type: 'other', filepath: '/p' }] },
    })).toBe('release-cli create --name "Release $CI_COMMIT_TAG" --description "./CHANGELOG.md" --tag-name "v1" --tag-message "msg"'
      + ' --ref "$CI_COMMIT_SHA" --released-at "2020-07-15T08:00:00Z" --milestone "m1" --milestone "m2"'
      + ' --assets-link "{\\"name\\":\\"a\\",\\"url\\":\\"https://x/$CI_COMMIT_TAG\\"}"'
      + ' --assets-link "{\\"name\\":\\"b\\",\\"url\\":\\"https://y\\",\\"link_type\\":\\"other\\",\\"filepath\\":\\"/p\\"}"');
    const cases: [string, string][] = [
      ['plain', '"plain"'], ['say "hi"', '"say \\"hi\\""'], ['`id`', '"\\`id\\`"'], ['a\\b', '"a\\\\b"'], ['\\$HOME', '"\\$HOME"'], ['$X', '"$X"'],
    ];
    for (const [value, quoted] of cases) expect({ value, quoted: shellDoubleQuoted(value) }).toEqual({ value, quoted });
  });

  test('a runner with multi_build_steps gets script, release and after_script steps, and creates the release with its job token', async () => {
    const { project, runnersToken } = projectWithRunnerToken();
    const runner = await FakeRunnerV4.register(s.url, runnersToken, { features: { multi_build_steps: true } });
    const pipeline = await makePipeline(s.core, project.id, RELEASE_YAML, { ref: 'v1.2.0', tag: true });
    expect(jobsOf(pipeline.id)).toEqual([['build', 'pending', null], ['release_job', 'created', null]]);
    expect((await runner.runNext({ build: {} }))?.state).toBe('success');

    let created: { status: number; body: Record<string, unknown> } | undefined;
    let whileRunning: string | undefined;
    const result = await runner.runNext({
      release_job: {
        output: ['building notes'],
        release: async (job) => {
          whileRunning = s.core.jobs.get(job.id).status;
          // what release-cli sends (its flags, expanded by the shell)
          const res = await fetch(`${s.url}/api/v4/projects/${project.id}/releases`, {
            method: 'POST', headers: { 'JOB-TOKEN': job.token, 'content-type': 'application/json' },
            body: JSON.stringify({
              name: 'Release v1.2.0', description: 'Notes for "v1.2.0"', tag_name: 'v1.2.0', ref: pipeline.sha, milestones: ['m1', 'm2'],
              assets: { links: [{ name: 'linux', url: 'https://example.com/bin/v1.2.0/linux', link_type: 'package', filepath: '/bin/linux' }] },
            }),
          });
          created = { status: res.status, body: await res.json() as Record<string, unknown> };
          return res.status === 201;
        },
      },
    });
    expect(result?.state).toBe('success');
    expect(whileRunning).toBe('running');

    const payload = runner.payloads.at(-1) as V4Job;
    expect(payload.steps).toEqual([
      { name: 'script', script: ['echo "running release_job"'], timeout: 3600, when: 'on_success', allow_failure: false },
      {
        name: 'release',
        script: ['release-cli create --name "Release $CI_COMMIT_TAG" --description "Notes for \\"$CI_COMMIT_TAG\\"" --tag-name "$CI_COMMIT_TAG" --ref "$CI_COMMIT_SHA"'
          + ' --milestone "m1" --milestone "m2"'
          + ' --assets-link "{\\"name\\":\\"linux\\",\\"url\\":\\"https://example.com/bin/$CI_COMMIT_TAG/linux\\",\\"link_type\\":\\"package\\",\\"filepath\\":\\"/bin/linux\\"}"'],
        timeout: 3600, when: 'on_success', allow_failure: false,
      },
      { name: 'after_script', script: ['echo done'], timeout: 3600, when: 'always', allow_failure: true },
    ]);
    expect(result?.trace).toContain('$ release-cli create --name "Release $CI_COMMIT_TAG"');

    expect(created?.status).toBe(201);
    const web = `${s.url}/${project.namespace}/${project.path}`;
    expect(created?.body).toMatchObject({
      tag_name: 'v1.2.0', name: 'Release v1.2.0', description: 'Notes for "v1.2.0"', upcoming_release: false, author: null,
      commit: { id: pipeline.sha, short_id: pipeline.sha.slice(0, 8) },
      milestones: [{ title: 'm1' }, { title: 'm2' }],
      assets: { count: 1, sources: [], links: [{ id: 1, name: 'linux', url: 'https://example.com/bin/v1.2.0/linux', link_type: 'package', direct_asset_url: `${web}/-/releases/v1.2.0/downloads/bin/linux` }] },
      _links: { self: `${web}/-/releases/v1.2.0` },
    });
    // The job token ends with its job: after the job, it is refused.
    const after = await fetch(`${s.url}/api/v4/projects/${project.id}/releases`, { headers: { 'JOB-TOKEN': payload.token } });
    expect(after.status).toBe(401);
    const listed = await (await s.api(`/api/v4/projects/${project.id}/releases`)).json() as { tag_name: string }[];
    expect(listed.map((r) => r.tag_name)).toEqual(['v1.2.0']);
  });

  test('a failed release step fails the job (allow_failure: false)', async () => {
    const { project, runnersToken } = projectWithRunnerToken();
    const runner = await FakeRunnerV4.register(s.url, runnersToken, { features: { multi_build_steps: true } });
    await makePipeline(s.core, project.id, 'r:\n  script: x\n  release: {tag_name: v9, description: d}\n', { ref: 'v9', tag: true });
    const result = await runner.runNext({ r: { release: async () => false } });
    expect(result?.state).toBe('failed');
  });

  const unsupported: [string, (token: string) => Promise<{ poll(): Promise<unknown> }>][] = [
    ['a v4 runner (11.11.4) without multi_build_steps', (t) => FakeRunnerV4.register(s.url, t)],
    ['a v4 runner declaring multi_build_steps: false', (t) => FakeRunnerV4.register(s.url, t, { features: { multi_build_steps: false } })],
    ['a v1 runner', (t) => FakeRunnerV1.register(s.url, t)],
  ];
  for (const [who, make] of unsupported) {
    test(`${who} is not given a release job: it fails with runner_unsupported, the next job is handed out`, async () => {
      const { project, runnersToken } = projectWithRunnerToken();
      const runner = await make(runnersToken);
      const pipeline = await makePipeline(s.core, project.id, 'rel:\n  script: x\n  release: {tag_name: v1, description: d}\nplain:\n  script: y\n', { ref: 'v1', tag: true });
      const got = await runner.poll() as { job_info?: { name: string }; name?: string } | null;
      expect(got?.job_info?.name ?? got?.name).toBe('plain');
      expect(jobsOf(pipeline.id)).toEqual([['rel', 'failed', 'runner_unsupported'], ['plain', 'running', null]]);
      expect(await runner.poll()).toBeNull();
    });
  }

  test('a job without release: is handed to runners without the feature as before, with no release step', async () => {
    const { project, runnersToken } = projectWithRunnerToken();
    const runner = await FakeRunnerV4.register(s.url, runnersToken);
    await makePipeline(s.core, project.id, 'j:\n  script: x\n');
    const job = await runner.poll();
    expect(job?.steps.map((st) => st.name)).toEqual(['script']);
  });
});

describe('Releases API', () => {
  const post = (projectId: number, body: unknown, headers: Record<string, string> = {}) =>
    s.api(`/api/v4/projects/${projectId}/releases`, { method: 'POST', json: body, headers });

  test('create, read, list, edit, delete with GitLab\'s shapes and answers', async () => {
    const project = makeProject(s.core);
    const tagged = await makePipeline(s.core, project.id, 'j:\n  script: x\n', { ref: 'v2.0.0', tag: true, sha: 'b'.repeat(40) });
    const r1 = await post(project.id, { tag_name: 'v2.0.0', description: 'two', released_at: '2024-05-01T10:00:00Z' });
    expect(r1.status).toBe(201);
    expect(await r1.json()).toMatchObject({
      tag_name: 'v2.0.0', name: 'v2.0.0', description: 'two', released_at: '2024-05-01T10:00:00.000Z', commit: { id: tagged.sha },
      author: { username: 'root' }, assets: { count: 0, links: [] }, milestones: [], evidences: [],
    });
    // a tag Baton has not seen needs a ref; the commit is what Baton knows of that ref
    const main = await makePipeline(s.core, project.id, 'j:\n  script: x\n', { ref: 'main', sha: 'c'.repeat(40) });
    const r2 = await post(project.id, { tag_name: 'v3.0.0', ref: 'main', name: 'Three', released_at: '2024-06-01' });
    expect(r2.status).toBe(201);
    expect(await r2.json()).toMatchObject({ tag_name: 'v3.0.0', name: 'Three', commit: { id: main.sha }, released_at: '2024-06-01T00:00:00.000Z' });
    const r3 = await post(project.id, { tag_name: 'feature/x', ref: 'no-such-branch', description: 'future', released_at: '2999-01-01T00:00:00Z' });
    expect(await r3.json()).toMatchObject({ tag_name: 'feature/x', commit: null, upcoming_release: true });

    const list = await s.api(`/api/v4/projects/${project.id}/releases?per_page=2`);
    expect(list.headers.get('x-total')).toBe('3');
    expect(((await list.json()) as { tag_name: string }[]).map((r) => r.tag_name)).toEqual(['feature/x', 'v3.0.0']);
    const one = await s.api(`/api/v4/projects/${project.id}/releases/${encodeURIComponent('feature/x')}`);
    expect(((await one.json()) as { tag_name: string }).tag_name).toBe('feature/x');

    const edit = await s.api(`/api/v4/projects/${project.id}/releases/v3.0.0`, { method: 'PUT', json: { description: 'edited', milestones: ['m3'] } });
    expect(await edit.json()).toMatchObject({ tag_name: 'v3.0.0', name: 'Three', description: 'edited', milestones: [{ title: 'm3' }] });

    const del = await s.api(`/api/v4/projects/${project.id}/releases/v3.0.0`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(((await del.json()) as { tag_name: string }).tag_name).toBe('v3.0.0');
    expect((await s.api(`/api/v4/projects/${project.id}/releases/v3.0.0`)).status).toBe(404);
    // a deleted release's tag may be released again
    expect((await post(project.id, { tag_name: 'v3.0.0', ref: 'main' })).status).toBe(201);
  });

  test('bad input: 400 naming the field, 409 for a second release of a tag, 422 without a ref for an unknown tag', async () => {
    const project = makeProject(s.core);
    await makePipeline(s.core, project.id, 'j:\n  script: x\n', { ref: 'v1', tag: true });
    expect((await post(project.id, { tag_name: 'v1' })).status).toBe(201);
    const cases: [unknown, number, string][] = [
      [{ tag_name: 'v1' }, 409, 'Release already exists'],
      [{}, 400, 'tag_name is missing'],
      [{ tag_name: '' }, 400, 'tag_name is missing'],
      [{ tag_name: 'v2' }, 422, 'Ref is not specified'],
      [{ tag_name: 'v2', ref: 'main', released_at: 'yesterday' }, 400, 'released_at is invalid: should be an ISO 8601 date and time'],
      [{ tag_name: 'v2', ref: 'main', milestones: [''] }, 400, 'milestones is invalid: should be an array of milestone titles'],
      [{ tag_name: 'v2', ref: 'main', assets: { links: [{ url: 'https://x' }] } }, 400, 'assets[links][0][name] is missing'],
      [{ tag_name: 'v2', ref: 'main', assets: { links: [{ name: 'a' }] } }, 400, 'assets[links][0][url] is missing'],
      [{ tag_name: 'v2', ref: 'main', assets: { links: [{ name: 'a', url: 'javascript:alert(1)' }] } }, 400, 'assets[links][0][url] is invalid: should be an http, https or ftp URL'],
      [{ tag_name: 'v2', ref: 'main', assets: { links: [{ name: 'a', url: 'https://x', link_type: 'binary' }] } }, 400, 'assets[links][0][link_type] does not have a valid value (other, runbook, image, package)'],
      [{ tag_name: 'v2', ref: 'main', assets: { links: [{ name: 'a', url: 'https://x' }, { name: 'a', url: 'https://y' }] } }, 400, 'assets[links][1][name] has already been taken'],
      [{ tag_name: 'v2', ref: 'main', assets: { links: [{ name: 'a', url: 'https://x', filepath: 'no-slash' }] } }, 400, 'assets[links][0][direct_asset_path] is invalid: should start with / and contain no spaces'],
      [{ tag_name: 'v2', ref: 'main', assets: { links: [{ name: 'a', url: 'https://x', filepath: '/a', direct_asset_path: '/b' }] } }, 400, 'assets[links][0][filepath], assets[links][0][direct_asset_path] are mutually exclusive'],
    ];
    for (const [body, status, message] of cases) {
      const res = await post(project.id, body);
      expect({ body, status: res.status, message: ((await res.json()) as { message: unknown }).message }).toEqual({ body, status, message });
    }
    const typed = await post(project.id, { tag_name: ['v1'], ref: 'main' });
    expect(typed.status).toBe(400);
    expect(JSON.stringify(await typed.json())).toContain('tag_name');
    expect((await s.api(`/api/v4/projects/${project.id}/releases/v1`, { method: 'PUT', json: { released_at: 'soon' } })).status).toBe(400);
    expect((await s.api(`/api/v4/projects/${project.id}/releases/nope`, { method: 'PUT', json: { name: 'x' } })).status).toBe(404);
  });

  test('who may: Reporter reads, Developer writes; job tokens only for their own project, only while the job runs', async () => {
    const project = makeProject(s.core);
    const other = makeProject(s.core);
    const reporter = await makeUser(s);
    const developer = await makeUser(s);
    await addMember(s, project.id, reporter.id, ACCESS_LEVEL.reporter);
    await addMember(s, project.id, developer.id, ACCESS_LEVEL.developer);
    const base = `/api/v4/projects/${project.id}/releases`;
    const body = { method: 'POST', json: { tag_name: 'v1', ref: 'main' } };
    expect((await as(s, reporter.token, base)).status).toBe(200);
    expect((await as(s, reporter.token, base, body)).status).toBe(403);
    expect((await as(s, developer.token, base, body)).status).toBe(201);
    expect((await as(s, developer.token, `${base}/v1`, { method: 'PUT', json: { name: 'n' } })).status).toBe(200);
    expect((await as(s, reporter.token, `${base}/v1`, { method: 'DELETE' })).status).toBe(403);
    const created = await (await s.api(`${base}/v1`)).json() as { author: { username: string } };
    expect(created.author.username).toBe(developer.username);

    // a running job's token: its own project yes, another project 404, garbage 401, none 401
    const runner = s.core.runners.register({ token: s.core.projects.get(project.id).runnersToken, protocol: 'v4' }).runner;
    await makePipeline(s.core, project.id, 'j:\n  script: x\n');
    const claimed = s.core.jobs.claim(runner, {});
    if (claimed.outcome !== 'job') throw new Error('no job');
    const jobToken = claimed.context.token;
    const job = (path: string, init: RequestInit = {}) => fetch(s.url + path, { ...init, headers: { 'JOB-TOKEN': jobToken, 'content-type': 'application/json', ...(init.headers ?? {}) } });
    expect((await job(base)).status).toBe(200);
    expect((await job(`${base}/v1`)).status).toBe(200);
    expect((await fetch(`${s.url}${base}?job_token=${jobToken}`)).status).toBe(200);
    const made = await job(base, { method: 'POST', body: JSON.stringify({ tag_name: 'v2', ref: 'main' }) });
    expect(made.status).toBe(201);
    expect(((await made.json()) as { author: unknown }).author).toBeNull();
    expect((await job(`/api/v4/projects/${other.id}/releases`)).status).toBe(404);
    expect((await fetch(s.url + base, { headers: { 'JOB-TOKEN': 'glcbt-' + 'x'.repeat(20) } })).status).toBe(401);
    expect((await fetch(s.url + base)).status).toBe(401);
    expect(s.core.releases.get(project.id, 'v2').jobId).toBe(claimed.context.job.id);
    s.core.jobs.finish(claimed.context.job.id, 'success', { failureReason: null, exitCode: 0 });
    expect((await job(base)).status).toBe(401);
  });

  test('gitbeaker drives it (ProjectReleases: create, all, show, edit, remove)', async () => {
    const project = makeProject(s.core);
    const api = new Gitlab({ host: s.url, token: ADMIN_TOKEN });
    const made = await api.ProjectReleases.create(project.id, {
      tagName: 'v1.0.0', ref: 'main', name: 'One', description: 'first', milestones: ['m1'],
      assets: { links: [{ name: 'tarball', url: 'https://example.com/one.tgz', link_type: 'package' }] },
    });
    expect(made).toMatchObject({ tag_name: 'v1.0.0', name: 'One', description: 'first', milestones: [{ title: 'm1' }], assets: { count: 1, links: [{ name: 'tarball', link_type: 'package' }] } });
    expect((await api.ProjectReleases.all(project.id)).map((r) => r.tag_name)).toEqual(['v1.0.0']);
    expect((await api.ProjectReleases.show(project.id, 'v1.0.0')).name).toBe('One');
    expect((await api.ProjectReleases.edit(project.id, 'v1.0.0', { name: 'Uno' })).name).toBe('Uno');
    await api.ProjectReleases.remove(project.id, 'v1.0.0');
    expect(await api.ProjectReleases.all(project.id)).toEqual([]);
  });
});
