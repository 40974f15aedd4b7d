/**
 * The compiler through the real server: pipeline creation and CI Lint read includes from real
 * git repositories (local files at the pipeline's sha, another project's repository), remote
 * includes from a loopback HTTP server (refused unless --allow-local-requests), workflow
 * rules (400 "Pipeline filtered out by workflow rules."), changes from a push, child
 * pipelines created by the core with local includes of the parent's commit.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { makeProject, startTestServer, type TestServer } from '../support/harness';
import { body, makeRepo, type LocalRepo } from './rest-fixtures';

let s: TestServer;
let open: TestServer;
let remote: ReturnType<typeof Bun.serve>;
const repos: LocalRepo[] = [];
const repo = (files: Record<string, string>) => { const r = makeRepo(files); repos.push(r); return r; };

beforeAll(async () => {
  s = await startTestServer();
  open = await startTestServer({ allowLocalRequests: true });
  remote = Bun.serve({
    port: 0, hostname: '127.0.0.1',
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === '/ci/remote.yml') return new Response('remote-job:\n  script: [echo remote]\n');
      if (path === '/ci/broken.yml') return new Response('x: [\n');
      if (path === '/redirect.yml') return Response.redirect('file:///etc/passwd.yml', 302);
      return new Response('no', { status: 404 });
    },
  });
});
afterAll(async () => {
  await s.stop();
  await open.stop();
  remote.stop(true);
  for (const r of repos) r.remove();
});

const lint = (srv: TestServer, projectId: number, json: Record<string, unknown>) => srv.api(`/api/v4/projects/${projectId}/ci/lint`, { method: 'POST', json });
const create = (srv: TestServer, projectId: number, json: Record<string, unknown>) => srv.api(`/api/v4/projects/${projectId}/pipeline`, { method: 'POST', json });
const jobNames = (srv: TestServer, pipelineId: number) => srv.core.pipelines.latestJobs(pipelineId).map((j) => j.name);

describe('includes from real repositories', () => {
  test('local includes (plain, wildcard) are read from the repository at the pipeline\'s sha', async () => {
    const r = repo({
      '.gitlab-ci.yml': 'include:\n  - ci/build.yml\n  - local: "ci/jobs/*.yml"\ntest:\n  script: [make test]\n',
      'ci/build.yml': 'build:\n  stage: build\n  script: [make]\n',
      'ci/jobs/a.yml': 'job-a:\n  script: [a]\n',
      'ci/jobs/b.yml': 'job-b:\n  script: [b]\n',
    });
    const first = r.git('rev-parse', 'HEAD');
    r.commit({ 'ci/jobs/c.yml': 'job-c:\n  script: [c]\n' });
    const p = makeProject(s.core, { repoUrl: r.dir });
    const now = await body<{ id: number }>(await create(s, p.id, { ref: 'main' }), 201);
    expect(jobNames(s, now.id)).toEqual(['build', 'job-a', 'job-b', 'job-c', 'test']);
    const then = await body<{ id: number }>(await create(s, p.id, { ref: 'main', sha: first }), 201);
    expect(jobNames(s, then.id)).toEqual(['build', 'job-a', 'job-b', 'test']);
  });

  test('inline content with a full sha still reads local includes from the repository; without one they fail as GitLab says', async () => {
    const r = repo({ 'ci/x.yml': 'x:\n  script: [x]\n' });
    const sha = r.git('rev-parse', 'HEAD');
    const p = makeProject(s.core, { repoUrl: r.dir });
    const ok = await body<{ id: number }>(await create(s, p.id, { ref: 'main', sha, content: 'include: ci/x.yml\n' }), 201);
    expect(jobNames(s, ok.id)).toEqual(['x']);
    const none = makeProject(s.core, { repoUrl: '/nonexistent/repo.git' });
    const res = await create(s, none.id, { ref: 'main', sha, content: 'include: ci/x.yml\n' });
    expect(await body(res, 400)).toEqual({ message: { base: ['Local file `ci/x.yml` does not have project!'] } });
  });

  test('include:project reads another Baton project\'s repository (<namespace>/<path>), at a ref', async () => {
    const shared = repo({ 'templates/ci.yml': 'shared-job:\n  script: [shared v1]\n' });
    shared.git('tag', 'v1');
    shared.commit({ 'templates/ci.yml': 'shared-job:\n  script: [shared v2]\n' });
    const lib = makeProject(s.core, { repoUrl: shared.dir, path: 'shared-lib' });
    const app = makeProject(s.core, { repoUrl: repo({}).dir });
    const yaml = (ref: string) => `include:\n  - project: root/${lib.path}\n    ref: ${ref}\n    file: templates/ci.yml\n`;
    const res = await body<{ valid: boolean; errors: string[]; includes: unknown[] }>(await lint(s, app.id, { content: yaml('v1'), include_jobs: true }), 200);
    expect(res).toMatchObject({ valid: true, errors: [], includes: [{ type: 'file', location: 'templates/ci.yml', extra: { project: 'root/shared-lib', ref: 'v1' } }] });
    const p = await body<{ id: number }>(await create(s, app.id, { ref: 'main', content: yaml('main') }), 201);
    expect(s.core.pipelines.latestJobs(p.id)[0].spec.script).toEqual(['shared v2']);
    expect(await body(await lint(s, app.id, { content: yaml('nope') }), 200)).toMatchObject({ valid: false, errors: ['Project `root/shared-lib` reference `nope` does not exist!'] });
    expect(await body(await lint(s, app.id, { content: 'include:\n  - project: root/missing\n    file: a.yml\n' }), 200)).toMatchObject({
      valid: false, errors: ['Project `root/missing` not found or access denied! Make sure any includes in the pipeline configuration are correctly defined.'],
    });
  });
});

describe('remote includes over HTTP', () => {
  test('loopback is refused by default and fetched with --allow-local-requests', async () => {
    const url = `http://127.0.0.1:${remote.port}/ci/remote.yml`;
    const refused = await body<{ valid: boolean; errors: string[] }>(await lint(s, makeProject(s.core).id, { content: `include: ${url}\n` }), 200);
    expect(refused.valid).toBe(false);
    expect(refused.errors[0]).toBe(`Remote file \`${url}\` could not be fetched because of a connection error: requests to the local network are not allowed (start Baton with --allow-local-requests to allow them)`);
    const p = makeProject(open.core);
    const ok = await body<{ valid: boolean; includes: unknown[]; merged_yaml: string }>(await lint(open, p.id, { content: `include:\n  - remote: ${url}\n` }), 200);
    expect(ok).toMatchObject({ valid: true, includes: [{ type: 'remote', location: url, blob: null, raw: url }] });
    expect(ok.merged_yaml).toContain('remote-job:');
    const missing = `http://127.0.0.1:${remote.port}/ci/missing.yml`;
    expect(await body(await lint(open, p.id, { content: `include: ${missing}\n` }), 200)).toMatchObject({ errors: [`Remote file \`${missing}\` could not be fetched because of HTTP code \`404\` error!`] });
    const broken = `http://127.0.0.1:${remote.port}/ci/broken.yml`;
    expect(((await body<{ errors: string[] }>(await lint(open, p.id, { content: `include: ${broken}\n` }), 200)).errors[0])).toMatch(/^`http:\/\/127\.0\.0\.1:\d+\/ci\/broken\.yml`: \(<unknown>\): /);
    const redirect = `http://127.0.0.1:${remote.port}/redirect.yml`;
    expect(await body(await lint(open, p.id, { content: `include: ${redirect}\n` }), 200)).toMatchObject({
      errors: [`Remote file \`${redirect}\` could not be fetched because of a connection error: only http and https URLs are allowed`],
    });
  });
});

describe('pipeline creation decisions', () => {
  test('workflow:rules filtering the pipeline out → 400 with GitLab\'s message, nothing created', async () => {
    const p = makeProject(s.core);
    const content = 'workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\nj:\n  script: x\n';
    expect(await body(await create(s, p.id, { ref: 'main', sha: 'a'.repeat(40), content }), 400)).toEqual({ message: { base: ['Pipeline filtered out by workflow rules.'] } });
    expect(s.core.pipelines.list(p.id, { offset: 0, limit: 5 }).total).toBe(0);
  });

  test('rules:changes compare a push with its before sha; API pipelines do not know the changes', async () => {
    const r = repo({ '.gitlab-ci.yml': 'docs:\n  script: x\n  rules: [{changes: ["docs/**/*"]}]\ncode:\n  script: x\n  rules: [{changes: ["src/**/*"]}]\n', 'src/a.ts': '1' });
    const before = r.git('rev-parse', 'HEAD');
    const sha = r.commit({ 'docs/guide.md': 'hello' });
    const p = makeProject(s.core, { repoUrl: r.dir });
    const push = await s.core.creator.create(p, { ref: 'main', sha, beforeSha: before, source: 'push' });
    expect(jobNames(s, push.id)).toEqual(['docs']);
    const api = await s.core.creator.create(p, { ref: 'main', sha, source: 'api' });
    expect(jobNames(s, api.id)).toEqual(['docs', 'code']);
  });

  test('predefined variables reach the rules: commit title from git, CI_PROJECT_PATH, CI_PIPELINE_SOURCE', async () => {
    const r = repo({ '.gitlab-ci.yml': 'skip:\n  script: x\n  rules: [{if: $CI_COMMIT_TITLE =~ /wip/}]\nnamed:\n  script: x\n  rules: [{if: $CI_PROJECT_PATH == "root/named-project" && $CI_PIPELINE_SOURCE == "web"}]\n' });
    r.commit({ 'a.txt': 'x' }, 'wip: not yet\n\nmore');
    const p = makeProject(s.core, { repoUrl: r.dir, path: 'named-project' });
    const pl = await s.core.creator.create(p, { ref: 'main', source: 'web' });
    expect(jobNames(s, pl.id)).toEqual(['skip', 'named']);
  });

  test('an environment GitLab could not store fails its job as it is created (retry too); a resource group key it could not store is dropped', async () => {
    const r = repo({
      '.gitlab-ci.yml': [
        'stages: [deploy, after]',
        'deploy:\n  stage: deploy\n  script: [deploy]\n  environment: review/$TARGET\n  resource_group: "lock:$TARGET"',
        'fine:\n  stage: deploy\n  script: [x]\n  environment: review/$CI_COMMIT_REF_SLUG\n  resource_group: deploy-$CI_ENVIRONMENT_NAME',
        'after:\n  stage: after\n  script: [x]',
      ].join('\n') + '\n',
    });
    const p = makeProject(s.core, { repoUrl: r.dir });
    const created = await body<{ id: number }>(await create(s, p.id, { ref: 'main', variables: [{ key: 'TARGET', value: 'a:b' }] }), 201);
    const listed = await body<any[]>(await s.api(`/api/v4/projects/${p.id}/pipelines/${created.id}/jobs`), 200);
    const of = (name: string) => listed.find((j) => j.name === name);
    expect([of('deploy').status, of('deploy').failure_reason, of('deploy').started_at]).toEqual(['failed', 'environment_creation_failure', null]);
    // 'after' waits for its stage's turn: 'fine' is still pending
    expect([of('fine').status, of('after').status]).toEqual(['pending', 'created']);
    const jobs = s.core.pipelines.latestJobs(created.id);
    expect(jobs.find((j) => j.name === 'deploy')!.resourceGroupId).toBeNull();
    expect(jobs.find((j) => j.name === 'fine')!.resourceGroupId).not.toBeNull();
    // no environment named review/a:b was made
    const envs = await body<{ name: string }[]>(await s.api(`/api/v4/projects/${p.id}/environments`), 200);
    expect(envs.map((e) => e.name)).toEqual(['review/main']);
    const again = await body<{ status: string; failure_reason: string }>(await s.api(`/api/v4/projects/${p.id}/jobs/${of('deploy').id}/retry`, { method: 'POST' }), 201);
    expect([again.status, again.failure_reason]).toEqual(['failed', 'environment_creation_failure']);
    // lint: the key is valid YAML (GitLab checks only that it is a string); a dry run says it is dropped
    const checked = await body<{ valid: boolean; warnings: string[] }>(await lint(s, p.id, { content: 'j:\n  script: x\n  resource_group: "a:b"\n', dry_run: true, ref: 'main' }), 200);
    expect(checked.valid).toBe(true);
    expect(checked.warnings).toContain("jobs:j resource_group 'a:b' is not a valid resource group key: the job runs without one");
  });

  test('rules:changes:compare_to takes what git resolves, as GitLab\'s project.commit does: a branch, refs/heads/…, a sha, main~1; anything else is GitLab\'s error', async () => {
    const r = repo({ '.gitlab-ci.yml': 'placeholder:\n  script: x\n', 'src/a.ts': '1' });
    const main = r.git('rev-parse', 'HEAD');
    r.git('checkout', '-q', '-b', 'feature');
    const sha = r.commit({ 'docs/guide.md': 'hello', '.gitlab-ci.yml': [
      'full-ref:\n  script: x\n  rules: [{changes: {paths: ["docs/**/*"], compare_to: refs/heads/main}}]',
      'branch:\n  script: x\n  rules: [{changes: {paths: ["docs/**/*"], compare_to: main}}]',
      'by-sha:\n  script: x\n  rules: [{changes: {paths: ["docs/**/*"], compare_to: "' + main + '"}}]',
      'parent:\n  script: x\n  rules: [{changes: {paths: ["docs/**/*"], compare_to: "feature~1"}}]',
      'src:\n  script: x\n  rules: [{changes: {paths: ["src/**/*"], compare_to: refs/heads/main}}]',
    ].join('\n') + '\n' });
    const p = makeProject(s.core, { repoUrl: r.dir });
    const pl = await s.core.creator.create(p, { ref: 'feature', sha, source: 'push' });
    expect(jobNames(s, pl.id)).toEqual(['full-ref', 'branch', 'by-sha', 'parent']);
    const bad = await create(s, p.id, { ref: 'feature', content: 'j:\n  script: x\n  rules: [{changes: {paths: [a], compare_to: "no such ref"}}]\n', sha });
    expect((await body<{ message: { base: string[] } }>(bad, 400)).message.base).toEqual(['Failed to parse rule for j: rules:changes:compare_to is not a valid ref']);
  });

  test('CI_COMMIT_TAG_MESSAGE on a tag\'s pipeline: an annotated tag\'s message ("" for a lightweight one), for the rules and the runner', async () => {
    const r = repo({ '.gitlab-ci.yml': 'release:\n  script: x\n  rules: [{if: $CI_COMMIT_TAG_MESSAGE =~ /^Release/}]\nlightweight:\n  script: x\n  rules: [{if: $CI_COMMIT_TAG && $CI_COMMIT_TAG_MESSAGE == ""}]\n' });
    r.git('tag', '-a', 'v1.0', '-m', 'Release 1.0\n\nWhat changed.');
    r.git('tag', 'v1.0-light');
    const p = makeProject(s.core, { repoUrl: r.dir });
    const annotated = await s.core.creator.create(p, { ref: 'v1.0', source: 'push' });
    expect(jobNames(s, annotated.id)).toEqual(['release']);
    const job = s.core.pipelines.latestJobs(annotated.id)[0];
    const sent = s.core.jobs.context(job, 'token').variables.find((v) => v.key === 'CI_COMMIT_TAG_MESSAGE');
    expect(sent?.value).toBe('Release 1.0\n\nWhat changed.');
    const light = await s.core.creator.create(p, { ref: 'v1.0-light', source: 'push' });
    expect(jobNames(s, light.id)).toEqual(['lightweight']);
    // a branch's pipeline has none
    const branch = await s.core.creator.create(p, { ref: 'main', source: 'push', content: 'j:\n  script: x\n  rules: [{if: $CI_COMMIT_TAG_MESSAGE == null}]\n', sha: r.git('rev-parse', 'HEAD') });
    expect(jobNames(s, branch.id)).toEqual(['j']);
  });

  test('GITLAB_USER_* of the pipeline\'s user: workflow and job rules see them (YAML cannot override them), includes do not', async () => {
    const r = repo({
      '.gitlab-ci.yml': [
        'include:\n  - local: bot.yml\n    rules:\n      - if: $GITLAB_USER_LOGIN',
        'workflow:\n  rules:\n    - if: $GITLAB_USER_LOGIN == "renovate-bot"\n      when: never\n    - when: always',
        'variables:\n  GITLAB_USER_LOGIN: from-yaml',
        'root-only:\n  script: x\n  rules:\n    - if: $GITLAB_USER_LOGIN == "root" && $GITLAB_USER_ID == "1"',
        'anyone:\n  script: x',
      ].join('\n') + '\n',
      'bot.yml': 'from-include:\n  script: x\n',
    });
    const p = makeProject(s.core, { repoUrl: r.dir });
    // the admin token is root's
    const mine = await body<{ id: number }>(await create(s, p.id, { ref: 'main' }), 201);
    expect(jobNames(s, mine.id)).toEqual(['root-only', 'anyone']);
    // no user (a push from a forge): nothing to see
    const push = await s.core.creator.create(p, { ref: 'main', source: 'push' });
    expect(jobNames(s, push.id)).toEqual(['anyone']);
    // workflow:rules see them too
    const bot = await s.core.users.create({ username: 'renovate-bot', name: 'Renovate', password: 'correct horse battery' });
    await expect(s.core.creator.create(p, { ref: 'main', source: 'api', userId: bot.id })).rejects.toThrow('Pipeline filtered out by workflow rules.');
  });

  test('rules: when: delayed schedules a job but starts a bridge at once (GitLab: a bridge is never schedulable)', async () => {
    const r = repo({
      '.gitlab-ci.yml': 'later:\n  script: x\n  rules: [{when: delayed, start_in: 1 hour}]\nchild:\n  trigger: {include: child.yml}\n  rules: [{when: delayed, start_in: 1 hour}]\n',
      'child.yml': 'child-job:\n  script: [child]\n',
    });
    const p = makeProject(s.core, { repoUrl: r.dir });
    const pl = await s.core.creator.create(p, { ref: 'main', source: 'push' });
    const status = (name: string) => s.core.pipelines.latestJobs(pl.id).find((j) => j.name === name)!.status;
    expect(status('later')).toBe('scheduled');
    expect(status('child')).toBe('pending');
  });

  test('a child pipeline of a push gets the parent\'s before sha and user (Ci::Bridge#child_params): its rules:changes see the push\'s changes', async () => {
    const r = repo({
      '.gitlab-ci.yml': 'trigger-child:\n  trigger:\n    include: child.yml\n',
      'child.yml': 'docs:\n  script: x\n  rules: [{changes: ["docs/**/*"]}]\ncode:\n  script: x\n  rules: [{changes: ["src/**/*"]}]\nwho:\n  script: x\n  rules: [{if: $GITLAB_USER_LOGIN == "root"}]\n',
      'src/a.ts': '1',
    });
    const before = r.git('rev-parse', 'HEAD');
    const sha = r.commit({ 'docs/guide.md': 'hello' });
    const p = makeProject(s.core, { repoUrl: r.dir });
    const parent = await s.core.creator.create(p, { ref: 'main', sha, beforeSha: before, source: 'push', userId: 1 });
    const bridge = s.core.pipelines.latestJobs(parent.id)[0];
    let child = s.core.pipelines.downstreamOfJob(bridge.id);
    for (let i = 0; i < 100 && !child; i++) { await Bun.sleep(20); child = s.core.pipelines.downstreamOfJob(bridge.id); }
    expect(child).toMatchObject({ source: 'parent_pipeline', beforeSha: before, userId: 1 });
    expect(jobNames(s, child!.id)).toEqual(['docs', 'who']);
  });

  test('a child pipeline (source parent_pipeline) includes files of the parent\'s commit', async () => {
    const r = repo({ '.gitlab-ci.yml': 'trigger-child:\n  trigger:\n    include: child/ci.yml\n', 'child/ci.yml': 'child-job:\n  script: [child]\n' });
    const sha = r.git('rev-parse', 'HEAD');
    const p = makeProject(s.core, { repoUrl: r.dir });
    const parent = await s.core.creator.create(p, { ref: 'main', source: 'push' });
    const bridge = s.core.pipelines.latestJobs(parent.id)[0];
    expect(bridge.spec.trigger).toEqual({ kind: 'child', include: [{ local: 'child/ci.yml' }], forward: { yaml_variables: true, pipeline_variables: false } });
    const child = await s.core.creator.create(p, { ref: 'main', sha, source: 'parent_pipeline', content: 'include:\n  - local: child/ci.yml\n' });
    expect(jobNames(s, child.id)).toEqual(['child-job']);
  });
});

describe('CI Lint', () => {
  test('static: every job (rules not evaluated), merged YAML, warnings; invalid is still 200', async () => {
    const p = makeProject(s.core);
    const content = 'build:\n  stage: build\n  script: make\ntag-only:\n  script: x\n  rules:\n    - if: $CI_COMMIT_TAG\n    - when: always\n';
    const res = await body<Record<string, unknown>>(await lint(s, p.id, { content, include_jobs: true }), 200);
    expect(res).toEqual({
      valid: true, errors: [],
      warnings: ['jobs:tag-only may allow multiple pipelines to run for a single action due to `rules:when` clause with no `workflow:rules` - read more: https://docs.gitlab.com/ee/ci/jobs/job_troubleshooting.html#job-may-allow-multiple-pipelines-to-run-for-a-single-action-warning'],
      merged_yaml: expect.stringContaining('---\nbuild:\n  stage: build\n  script: make\n'), includes: [],
      jobs: [
        { name: 'build', stage: 'build', before_script: [], script: ['make'], after_script: [], tag_list: [], only: { refs: ['branches', 'tags'] }, environment: null, when: 'on_success', allow_failure: false },
        { name: 'tag-only', stage: 'test', before_script: [], script: ['x'], after_script: [], tag_list: [], environment: null, when: 'on_success', allow_failure: false },
      ],
    });
    expect(await body(await lint(s, p.id, { content: 'j:\n  scriptt: x\n' }), 200)).toEqual({
      valid: false, errors: ['jobs j config should implement the script:, run:, or trigger: keyword', 'jobs config should contain at least one visible job'],
      warnings: [], merged_yaml: '---\nj:\n  scriptt: x\n', includes: [],
    });
    expect(await body(await lint(s, p.id, { content: 'a: [' }), 200)).toMatchObject({ valid: false, merged_yaml: null });
  });

  test('dry run: the jobs a push to ref would get, with creation errors', async () => {
    const r = repo({ 'README.md': 'x' });
    const p = makeProject(s.core, { repoUrl: r.dir });
    const content = 'workflow:\n  rules:\n    - if: $CI_COMMIT_BRANCH == "main"\nmain-only:\n  script: x\n';
    expect(await body(await lint(s, p.id, { content, dry_run: true, ref: 'main', include_jobs: true }), 200)).toMatchObject({
      valid: true, jobs: [{ name: 'main-only', stage: 'test', when: 'on_success' }],
    });
    r.git('branch', 'dev');
    expect(await body(await lint(s, p.id, { content, dry_run: true, ref: 'dev' }), 200)).toMatchObject({ valid: false, errors: ['Pipeline filtered out by workflow rules.'] });
  });

  test('GET lints the project\'s own .gitlab-ci.yml (at sha)', async () => {
    const r = repo({ '.gitlab-ci.yml': 'j:\n  script: x\n' });
    const good = r.git('rev-parse', 'HEAD');
    r.commit({ '.gitlab-ci.yml': 'j:\n  script: x\n  when: sometimes\n' });
    const p = makeProject(s.core, { repoUrl: r.dir });
    expect(await body(await s.api(`/api/v4/projects/${p.id}/ci/lint`), 200)).toMatchObject({ valid: false, errors: ['jobs:j when should be one of: on_success, on_failure, always, manual, delayed'] });
    expect(await body(await s.api(`/api/v4/projects/${p.id}/ci/lint?sha=${good}&include_jobs=true`), 200)).toMatchObject({ valid: true, jobs: [{ name: 'j' }] });
  });

  test('permission: no token 401, unknown project 404, missing content 400', async () => {
    const p = makeProject(s.core);
    expect((await s.api(`/api/v4/projects/${p.id}/ci/lint`, { method: 'POST', json: { content: 'x' }, auth: false })).status).toBe(401);
    expect((await s.api('/api/v4/projects/999999/ci/lint', { method: 'POST', json: { content: 'x' } })).status).toBe(404);
    expect((await s.api(`/api/v4/projects/${p.id}/ci/lint`, { method: 'POST', json: {} })).status).toBe(400);
  });
});

/**
 * Whole files in the image of the public projects the corpus run studied (scripts/corpus.ts),
 * each committed with its local includes to a real git repository and sent through CI Lint and
 * pipeline creation: the jobs, stages and needs GitLab would create, or GitLab's error.
 */
describe('real-world projects through lint and pipeline creation', () => {
  const jobs = (srv: TestServer, pipelineId: number) =>
    srv.core.pipelines.latestJobs(pipelineId).map((j) => [j.name, j.spec.stage, (j.spec.needs ?? null)?.map((n) => n.job) ?? null]);

  test('CMS with its CI split into local files: rules kept as hashes under hidden keys and spliced with !reference, matrix, needs, a bridge on tags', async () => {
    const r = repo({
      '.gitlab-ci.yml': 'stages: [install, test, trigger]\ninclude:\n  - local: .gitlab/ci/rules.gitlab-ci.yml\n  - local: /.gitlab/ci/jobs.gitlab-ci.yml\n',
      '.gitlab/ci/rules.gitlab-ci.yml': '.ci-changes:\n  rules:\n    changes: [".gitlab/ci/*.yml"]\n.php-changes:\n  rules:\n    changes: ["**/*.php", composer.lock]\n',
      '.gitlab/ci/jobs.gitlab-ci.yml': [
        'composer:', '  stage: install', '  cache:', '    key: {prefix: $CI_JOB_NAME, files: [composer.lock]}', '    paths: [vendor]',
        '  script: [composer install]', '  rules:', '    - !reference [.ci-changes, rules]', '    - !reference [.php-changes, rules]',
        'phpunit:', '  stage: test', '  image: php:${PHP}', '  needs: [composer]', '  script: [vendor/bin/phpunit]',
        '  parallel:', '    matrix:', '      - PHP: ["8.2", "8.3"]', '  rules:', '    - !reference [.php-changes, rules]',
        'notify:', '  stage: trigger', '  trigger: cms/update-check', '  rules:', '    - if: "$CI_COMMIT_TAG"', '',
      ].join('\n'),
      'composer.lock': '{}\n', 'src/App.php': '<?php\n',
    });
    const p = makeProject(s.core, { repoUrl: r.dir });
    const res = await body<{ valid: boolean; errors: string[]; includes: { location: string }[]; jobs: { name: string }[] }>(
      await s.api(`/api/v4/projects/${p.id}/ci/lint?include_jobs=true`), 200);
    expect(res).toMatchObject({ valid: true, errors: [] });
    expect(res.includes.map((i) => i.location)).toEqual(['.gitlab/ci/rules.gitlab-ci.yml', '.gitlab/ci/jobs.gitlab-ci.yml']); // GitLab strips the leading /
    expect(res.jobs.map((j) => j.name)).toEqual(['composer', 'phpunit: [8.2]', 'phpunit: [8.3]', 'notify']);
    const pipeline = await body<{ id: number }>(await create(s, p.id, { ref: 'main' }), 201);
    expect(jobs(s, pipeline.id)).toEqual([
      ['composer', 'install', null], ['phpunit: [8.2]', 'test', ['composer']], ['phpunit: [8.3]', 'test', ['composer']],
    ]);
  });

  test('desktop library, 2019 style: multi-line quoted shell closed at the item\'s indentation, jobs that are bare aliases, refs@project', async () => {
    const r = repo({
      '.gitlab-ci.yml': [
        'stages: [build, test, deploy]',
        '.header: &header  \'echo;',
        '       echo "== CI ==";',
        '    \'',
        '.build: &build',
        '  script:',
        '    - *header',
        '    - \'if [ -n "${LINT}" ]; then',
        '         ./ci.sh lint;',
        '       fi',
        '    \'',
        '  artifacts: {when: always, paths: [_build/meson-logs]}',
        'linux: *build',
        'windows:',
        '  <<: *build',
        '  tags: [win32]',
        'coverage:',
        '  <<: *build',
        '  stage: test',
        '  only: [main@libs/upstream]',
        'pages:',
        '  stage: deploy',
        '  script: [mv _build/doc public]',
        '  artifacts: {paths: [public]}',
        '  only: [main]',
        '',
      ].join('\n'),
    });
    const p = makeProject(s.core, { repoUrl: r.dir });
    const res = await body<{ valid: boolean; warnings: string[] }>(await s.api(`/api/v4/projects/${p.id}/ci/lint`), 200);
    expect(res).toMatchObject({ valid: true, warnings: ['jobs:pages runs as an ordinary job: Baton does not host GitLab Pages, so its `public` artifacts are kept but not published'] });
    const pipeline = await body<{ id: number }>(await create(s, p.id, { ref: 'main' }), 201);
    expect(jobs(s, pipeline.id)).toEqual([['linux', 'test', null], ['windows', 'test', null], ['pages', 'deploy', null]]);
    const job = s.core.pipelines.latestJobs(pipeline.id).find((j) => j.name === 'linux')!;
    expect(job.spec.script).toEqual(['echo; echo "== CI =="; ', 'if [ -n "${LINT}" ]; then ./ci.sh lint; fi ']);
  });

  test('a file that takes its jobs from GitLab\'s template library: lint answers invalid, creation answers 400, both naming the template', async () => {
    const content = 'include:\n  - template: Security/SAST.gitlab-ci.yml\nsast:\n  stage: test\nbuild:\n  script: [make]\n';
    const r = repo({ '.gitlab-ci.yml': content });
    const p = makeProject(s.core, { repoUrl: r.dir });
    const message = "Template file `Security/SAST.gitlab-ci.yml` cannot be included: Baton does not have GitLab's CI/CD template library";
    expect(await body(await lint(s, p.id, { content }), 200)).toMatchObject({ valid: false, errors: [message] });
    expect(await body(await create(s, p.id, { ref: 'main' }), 400)).toEqual({ message: { base: [message] } });
  });
});
