/**
 * REST API: pipelines — creation from `content` and from real local git repositories,
 * configuration errors, lists, stage progression seen through the API, cancel, retry, delete.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, startTestServer, type TestServer } from '../support/harness';
import { body, makeRepo, projectRunner, runNext, SHA, type LocalRepo } from './rest-fixtures';

let s: TestServer;
const repos: LocalRepo[] = [];
beforeAll(async () => { s = await startTestServer(); });
afterAll(async () => {
  await s.stop();
  for (const r of repos) r.remove();
});

const project = (repoUrl = 'https://git.example.com/g/p.git') => makeProject(s.core, { repoUrl });
const createPipeline = (projectId: number, json: Record<string, unknown>) => s.api(`/api/v4/projects/${projectId}/pipeline`, { method: 'POST', json });
const pipelineCount = (projectId: number) => s.core.pipelines.list(projectId, { offset: 0, limit: 1 }).total;
const repo = (files: Record<string, string>) => {
  const r = makeRepo(files);
  repos.push(r);
  return r;
};
/** The job names of a pipeline, in stage then file order, with their statuses. */
const jobStatuses = async (projectId: number, pipelineId: number) => {
  const jobs = await body<{ id: number; name: string; status: string }[]>(await s.api(`/api/v4/projects/${projectId}/pipelines/${pipelineId}/jobs?per_page=100`), 200);
  return Object.fromEntries([...jobs].sort((a, b) => a.id - b.id).map((j) => [j.name, j.status]));
};

const TWO_STAGES = 'stages: [build, test, deploy]\nbuild:\n  stage: build\n  script: [make]\ntest:\n  stage: test\n  script: [make test]\ndeploy:\n  stage: deploy\n  script: [make deploy]\n';

describe('POST /api/v4/projects/:id/pipeline with content', () => {
  test('creates the pipeline and its jobs → 201 with GitLab fields', async () => {
    const p = project();
    const res = await createPipeline(p.id, { ref: 'main', sha: SHA, content: TWO_STAGES, variables: [{ key: 'DEPLOY_ENV', value: 'staging' }] });
    const pl = await body(res, 201);
    expect(pl).toMatchObject({
      project_id: p.id, status: 'pending', ref: 'main', tag: false, sha: SHA, before_sha: '0'.repeat(40), source: 'api',
      started_at: null, finished_at: null, duration: null, web_url: `${s.url}/root/${p.path}/-/pipelines/${pl.id}`,
    });
    expect(pl.created_at).toMatch(/Z$/);
    expect(await jobStatuses(p.id, pl.id)).toEqual({ build: 'pending', test: 'created', deploy: 'created' });
    expect(s.core.pipelines.get(pl.id).triggerVariables).toEqual([{ key: 'DEPLOY_ENV', value: 'staging' }]);
  });

  test('takes a form body (variables[0][key]…) and a query string', async () => {
    const p = project();
    const form = new URLSearchParams({ ref: 'feature/x', sha: SHA.toUpperCase(), before_sha: 'b'.repeat(40), content: TWO_STAGES, 'variables[0][key]': 'A', 'variables[0][value]': '1', 'variables[1][key]': 'B', 'variables[1][value]': '2' });
    const pl = await body(await s.api(`/api/v4/projects/${p.id}/pipeline`, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 201);
    expect([pl.ref, pl.sha, pl.before_sha]).toEqual(['feature/x', SHA, 'b'.repeat(40)]);
    expect(s.core.pipelines.get(pl.id).triggerVariables).toEqual([{ key: 'A', value: '1' }, { key: 'B', value: '2' }]);
    const q = new URLSearchParams({ ref: 'main', sha: SHA, content: 'only:\n  script: [x]\n' });
    const viaQuery = await body(await s.api(`/api/v4/projects/${p.id}/pipeline?${q}`, { method: 'POST' }), 201);
    expect(await jobStatuses(p.id, viaQuery.id)).toEqual({ only: 'pending' });
  });

  test('tag: true makes the ref a tag for only/except and the pipeline', async () => {
    const p = project();
    const content = 'release:\n  script: [x]\n  only: [tags]\nalways:\n  script: [y]\n';
    const tagged = await body(await createPipeline(p.id, { ref: 'v1.0', sha: SHA, content, tag: true }), 201);
    expect(tagged.tag).toBe(true);
    expect(Object.keys(await jobStatuses(p.id, tagged.id)).sort()).toEqual(['always', 'release']);
    const branch = await body(await createPipeline(p.id, { ref: 'v1.0', sha: SHA, content }), 201);
    expect(branch.tag).toBe(false);
    expect(Object.keys(await jobStatuses(p.id, branch.id))).toEqual(['always']);
  });

  test('a configuration error → 400 {"message": {"base": [lines naming job and key]}} and no pipeline', async () => {
    const p = project();
    const cases: [string, RegExp][] = [
      ['build:\n  script: [make]\n  scrpt: [make]\n', /^jobs:build config contains unknown keys: scrpt$/],
      ['build:\n  script: [make]\n  when: sometimes\n', /jobs:build.*when/],
      ['build:\n  script: [make]\n  stage: nowhere\n', /^build job: chosen stage nowhere does not exist; available stages are .pre, build, test, deploy, .post$/],
      ['build: [\n', /./],
      ['', /^Please provide content of .gitlab-ci.yml$/],
      ['stages: [a]\n', /^jobs config should contain at least one visible job$/],
    ];
    for (const [content, line] of cases) {
      const res = await createPipeline(p.id, { ref: 'main', sha: SHA, content });
      const b = await body<{ message: { base: string[] } }>(res, 400);
      expect(b.message.base.length).toBeGreaterThan(0);
      expect(b.message.base.join('\n')).toMatch(line);
    }
    expect(pipelineCount(p.id)).toBe(0);
    expect(s.core.jobs.list(p.id, { offset: 0, limit: 1 }).total).toBe(0);
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['ref missing', { sha: SHA, content: TWO_STAGES }, 'ref'],
    ['ref an option', { ref: '--upload-pack=x', sha: SHA, content: TWO_STAGES }, 'ref'],
    ['ref with ..', { ref: 'a..b', sha: SHA, content: TWO_STAGES }, 'ref'],
    ['before_sha not a sha', { ref: 'main', sha: SHA, before_sha: 'HEAD~1', content: TWO_STAGES }, 'before_sha'],
    ['variables with a bad key', { ref: 'main', sha: SHA, content: TWO_STAGES, variables: [{ key: 'A B', value: '1' }] }, 'variables'],
    ['variables without value', { ref: 'main', sha: SHA, content: TWO_STAGES, variables: [{ key: 'A' }] }, 'variables'],
    ['content not a string', { ref: 'main', sha: SHA, content: { build: 1 } }, 'content'],
  ];
  test.each(invalid)('%s → 400 naming the field, no pipeline', async (_n, json, field) => {
    const p = project();
    const b = await body<{ message: unknown }>(await createPipeline(p.id, json), 400);
    expect(JSON.stringify(b.message)).toContain(field);
    expect(pipelineCount(p.id)).toBe(0);
  });

  test('unknown project → 404', async () => {
    expect(await body(await createPipeline(999999, { ref: 'main', sha: SHA, content: TWO_STAGES }), 404)).toEqual({ message: '404 Project Not Found' });
  });
});

describe('POST /api/v4/projects/:id/pipeline from the repository (git)', () => {
  const CI_V1 = 'build:\n  script: [make v1]\n';
  const CI_V2 = 'build:\n  script: [make v2]\nlint:\n  script: [lint]\n';
  const CI_TAGS = 'build:\n  script: [make]\nrelease:\n  script: [release]\n  only: [tags]\n';

  test('the tip of a branch: full sha, branch, the file of that commit; a later push is seen by the next pipeline', async () => {
    const r = repo({ '.gitlab-ci.yml': CI_V1 });
    const p = project(r.dir);
    const first = await body(await createPipeline(p.id, { ref: 'main' }), 201);
    expect([first.sha, first.tag, first.ref]).toEqual([r.git('rev-parse', 'main'), false, 'main']);
    expect(first.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await jobStatuses(p.id, first.id)).toEqual({ build: 'pending' });
    expect(existsSync(join(s.dataDir, 'git-cache', `${p.id}.git`, 'HEAD'))).toBe(true);

    const second = r.commit({ '.gitlab-ci.yml': CI_V2 });
    const next = await body(await createPipeline(p.id, { ref: 'main' }), 201);
    expect(next.sha).toBe(second);
    expect(await jobStatuses(p.id, next.id)).toEqual({ build: 'pending', lint: 'pending' });

    // concurrent creations share the cache without stepping on each other's fetch
    const many = await Promise.all([1, 2, 3, 4].map(() => createPipeline(p.id, { ref: 'main' })));
    expect(await Promise.all(many.map(async (res) => (await body(res, 201)).sha))).toEqual([second, second, second, second]);

    // the cache goes with the project
    await body(await s.api(`/api/v4/projects/${p.id}`, { method: 'DELETE' }), 202);
    expect(existsSync(join(s.dataDir, 'git-cache', `${p.id}.git`))).toBe(false);
  });

  test('an older sha (also abbreviated) builds the file of that commit', async () => {
    const r = repo({ '.gitlab-ci.yml': CI_V1 });
    const old = r.git('rev-parse', 'HEAD');
    r.commit({ '.gitlab-ci.yml': CI_V2 });
    const p = project(r.dir);
    const pl = await body(await createPipeline(p.id, { ref: 'main', sha: old.slice(0, 10) }), 201);
    expect(pl.sha).toBe(old);
    expect(await jobStatuses(p.id, pl.id)).toEqual({ build: 'pending' });
  });

  test('a tag (lightweight or annotated) is a tag: tag true, the commit sha, only: [tags] jobs included', async () => {
    const r = repo({ '.gitlab-ci.yml': CI_TAGS });
    const commit = r.git('rev-parse', 'HEAD');
    r.git('tag', 'v1.0');
    r.git('tag', '-a', 'v2.0', '-m', 'annotated');
    r.commit({ 'README': 'later' });
    const p = project(r.dir);
    for (const ref of ['v1.0', 'v2.0']) {
      const pl = await body(await createPipeline(p.id, { ref }), 201);
      expect([pl.ref, pl.tag, pl.sha]).toEqual([ref, true, commit]);
      expect(Object.keys(await jobStatuses(p.id, pl.id)).sort()).toEqual(['build', 'release']);
    }
    const branch = await body(await createPipeline(p.id, { ref: 'main' }), 201);
    expect(branch.tag).toBe(false);
    expect(Object.keys(await jobStatuses(p.id, branch.id))).toEqual(['build']);
  });

  test('content without a full sha: git gives the sha of the ref and whether it is a tag', async () => {
    const r = repo({ '.gitlab-ci.yml': 'not: [used\n' });
    r.git('tag', 'v3');
    const p = project(r.dir);
    const pl = await body(await createPipeline(p.id, { ref: 'v3', content: CI_TAGS }), 201);
    expect([pl.sha, pl.tag]).toEqual([r.git('rev-parse', 'HEAD'), true]);
    expect(Object.keys(await jobStatuses(p.id, pl.id)).sort()).toEqual(['build', 'release']);
  });

  test('each failure → 400 whose base message says which, and no pipeline', async () => {
    const withFile = repo({ '.gitlab-ci.yml': CI_V1 });
    withFile.git('checkout', '-q', '-b', 'no-ci');
    withFile.git('rm', '-q', '.gitlab-ci.yml');
    withFile.commit({ 'README': 'no ci here' });
    withFile.git('checkout', '-q', 'main');
    const broken = repo({ '.gitlab-ci.yml': 'build:\n  scrpt: [x]\n' });
    const cases: [string, string, Record<string, unknown>, RegExp][] = [
      ['missing file', withFile.dir, { ref: 'no-ci' }, /Missing CI config file/],
      ['unknown ref', withFile.dir, { ref: 'does-not-exist' }, /Reference not found.*does-not-exist/],
      ['unknown sha', withFile.dir, { ref: 'main', sha: 'deadbeef'.repeat(5) }, /sha: commit deadbeef/],
      ['sha not hex', withFile.dir, { ref: 'main', sha: 'HEAD~1' }, /sha: .*not a commit sha/],
      ['unreachable repository', join(withFile.dir, 'nope'), { ref: 'main' }, /Repository not reachable/],
      ['configuration error in the repository', broken.dir, { ref: 'main' }, /^jobs build config should implement the script:, run:, or trigger: keyword\njobs config should contain at least one visible job$/],
    ];
    for (const [name, url, json, message] of cases) {
      const p = project(url);
      const b = await body<{ message: { base: string[] } }>(await createPipeline(p.id, json), 400);
      expect({ name, base: b.message.base.join('\n') }).toEqual({ name, base: expect.stringMatching(message) });
      expect(pipelineCount(p.id)).toBe(0);
    }
  });

  test('credentials in repo_url never appear in messages', async () => {
    const p = project('https://user:s3cr3t-pass@127.0.0.1:1/g/p.git');
    const b = await body<{ message: { base: string[] } }>(await createPipeline(p.id, { ref: 'main' }), 400);
    expect(b.message.base[0]).toContain('Repository not reachable');
    expect(JSON.stringify(b)).not.toContain('s3cr3t-pass');
  });

  test('a branch deleted upstream is pruned from the cache', async () => {
    const r = repo({ '.gitlab-ci.yml': CI_V1 });
    r.git('branch', 'short-lived');
    const p = project(r.dir);
    await body(await createPipeline(p.id, { ref: 'short-lived' }), 201);
    r.git('branch', '-D', 'short-lived');
    const b = await body<{ message: { base: string[] } }>(await createPipeline(p.id, { ref: 'short-lived' }), 400);
    expect(b.message.base[0]).toContain('Reference not found');
  });

  test('no git binary → 400 saying so', async () => {
    const r = repo({ '.gitlab-ci.yml': CI_V1 });
    const p = project(r.dir);
    const path = process.env.PATH;
    process.env.PATH = join(s.dataDir, 'no-binaries-here');
    let res: Response;
    try {
      res = await createPipeline(p.id, { ref: 'main' });
    } finally {
      process.env.PATH = path;
    }
    const b = await body<{ message: { base: string[] } }>(res, 400);
    expect(b.message.base[0]).toContain('git is not installed');
    expect(pipelineCount(p.id)).toBe(0);
  });
});

describe('listing and reading pipelines', () => {
  test('newest first, filtered by status and ref, paginated', async () => {
    const p = project();
    const made = [];
    for (const ref of ['main', 'dev', 'main']) made.push(await body(await createPipeline(p.id, { ref, sha: SHA, content: 'a:\n  script: [x]\n' }), 201));
    await body(await s.api(`/api/v4/projects/${p.id}/pipelines/${made[1].id}/cancel`, { method: 'POST' }), 200);
    const list = async (q: string) => (await body<{ id: number }[]>(await s.api(`/api/v4/projects/${p.id}/pipelines?${q}`), 200)).map((x) => x.id);
    expect(await list('')).toEqual([made[2].id, made[1].id, made[0].id]);
    expect(await list('ref=main')).toEqual([made[2].id, made[0].id]);
    expect(await list('status=canceled')).toEqual([made[1].id]);
    expect(await list('status=pending&ref=dev')).toEqual([]);
    const res = await s.api(`/api/v4/projects/${p.id}/pipelines?per_page=1&page=3`);
    expect((await body<{ id: number }[]>(res, 200)).map((x) => x.id)).toEqual([made[0].id]);
    expect([res.headers.get('x-total'), res.headers.get('x-total-pages'), res.headers.get('x-next-page'), res.headers.get('x-prev-page')]).toEqual(['3', '3', '', '2']);
    expect((await body(await s.api(`/api/v4/projects/${p.id}/pipelines?status=exploded`), 400)).message).toContain('status');
  });

  test('one project\'s pipeline is not reachable under another project', async () => {
    const a = project();
    const b = project();
    const pl = await body(await createPipeline(a.id, { ref: 'main', sha: SHA, content: TWO_STAGES }), 201);
    for (const [method, suffix] of [['GET', ''], ['GET', '/jobs'], ['POST', '/cancel'], ['POST', '/retry'], ['DELETE', '']]) {
      expect(await body(await s.api(`/api/v4/projects/${b.id}/pipelines/${pl.id}${suffix}`, { method }), 404)).toEqual({ message: '404 Pipeline Not Found' });
    }
    expect((await body(await s.api(`/api/v4/projects/${a.id}/pipelines/${pl.id}`), 200)).status).toBe('pending');
    for (const id of ['999999', 'x']) await body(await s.api(`/api/v4/projects/${a.id}/pipelines/${id}`), 404);
    await body(await s.api(`/api/v4/projects/999999/pipelines`), 404);
  });
});

describe('stage progression, cancel, retry and delete, seen through the API', () => {
  test('each stage starts when the previous succeeded; a failure skips the rest and fails the pipeline', async () => {
    const p = project();
    const runner = projectRunner(s.core, p);
    try {
      const pl = await body(await createPipeline(p.id, { ref: 'main', sha: SHA, content: TWO_STAGES }), 201);
      const get = async () => body(await s.api(`/api/v4/projects/${p.id}/pipelines/${pl.id}`), 200);

      runNext(s.core, runner, 'running');
      expect((await get()).status).toBe('running');
      expect(await jobStatuses(p.id, pl.id)).toEqual({ build: 'running', test: 'created', deploy: 'created' });

      s.core.jobs.update(s.core.pipelines.latestJobs(pl.id)[0], { state: 'success' });
      expect(await jobStatuses(p.id, pl.id)).toEqual({ build: 'success', test: 'pending', deploy: 'created' });
      expect((await get()).status).toBe('running');

      runNext(s.core, runner, 'failed');
      expect(await jobStatuses(p.id, pl.id)).toEqual({ build: 'success', test: 'failed', deploy: 'skipped' });
      const done = await get();
      expect(done.status).toBe('failed');
      expect(done.started_at).not.toBeNull();
      expect(done.finished_at).not.toBeNull();
      expect(done.duration).toBeInteger();
    } finally {
      s.core.runners.remove(runner.id);
    }
  });

  test('allow_failure and when: on_failure / always follow GitLab', async () => {
    const p = project();
    const runner = projectRunner(s.core, p);
    try {
      const content = 'stages: [a, b]\nflaky:\n  stage: a\n  script: [x]\n  allow_failure: true\nnext:\n  stage: b\n  script: [x]\ncleanup:\n  stage: b\n  script: [x]\n  when: on_failure\n';
      const pl = await body(await createPipeline(p.id, { ref: 'main', sha: SHA, content }), 201);
      runNext(s.core, runner, 'failed');
      expect(await jobStatuses(p.id, pl.id)).toEqual({ flaky: 'failed', next: 'pending', cleanup: 'skipped' });
      runNext(s.core, runner, 'success');
      expect((await body(await s.api(`/api/v4/projects/${p.id}/pipelines/${pl.id}`), 200)).status).toBe('success');
    } finally {
      s.core.runners.remove(runner.id);
    }
  });

  test('cancel (200) cancels the unfinished jobs; retry (201) re-runs failed and canceled jobs', async () => {
    const p = project();
    const runner = projectRunner(s.core, p);
    try {
      const pl = await body(await createPipeline(p.id, { ref: 'main', sha: SHA, content: TWO_STAGES }), 201);
      runNext(s.core, runner, 'running');
      const canceled = await body(await s.api(`/api/v4/projects/${p.id}/pipelines/${pl.id}/cancel`, { method: 'POST' }), 200);
      expect(canceled.status).toBe('canceled');
      expect(await jobStatuses(p.id, pl.id)).toEqual({ build: 'canceled', test: 'canceled', deploy: 'canceled' });

      const retried = await body(await s.api(`/api/v4/projects/${p.id}/pipelines/${pl.id}/retry`, { method: 'POST' }), 201);
      expect(retried.status).toBe('pending');
      expect(await jobStatuses(p.id, pl.id)).toEqual({ build: 'pending', test: 'created', deploy: 'created' });
      const all = await body<{ name: string; status: string }[]>(await s.api(`/api/v4/projects/${p.id}/pipelines/${pl.id}/jobs?include_retried=true`), 200);
      expect(all.length).toBe(6);
      const scoped = await body<{ status: string }[]>(await s.api(`/api/v4/projects/${p.id}/pipelines/${pl.id}/jobs?scope[]=pending&scope[]=created`), 200);
      expect(scoped.map((j) => j.status).sort()).toEqual(['created', 'created', 'pending']);
      expect((await body(await s.api(`/api/v4/projects/${p.id}/pipelines/${pl.id}/jobs?scope=bogus`), 400)).message).toContain('scope');
    } finally {
      s.core.runners.remove(runner.id);
    }
  });

  test('delete (204) removes the pipeline, its jobs and traces', async () => {
    const p = project();
    const runner = projectRunner(s.core, p);
    try {
      const pl = await body(await createPipeline(p.id, { ref: 'main', sha: SHA, content: 'a:\n  script: [x]\n' }), 201);
      const job = runNext(s.core, runner, 'success', 'the log\n');
      expect(existsSync(join(s.dataDir, 'traces', `${job.id}.log`))).toBe(true);
      const res = await s.api(`/api/v4/projects/${p.id}/pipelines/${pl.id}`, { method: 'DELETE' });
      expect([res.status, await res.text()]).toEqual([204, '']);
      await body(await s.api(`/api/v4/projects/${p.id}/pipelines/${pl.id}`), 404);
      await body(await s.api(`/api/v4/projects/${p.id}/jobs/${job.id}`), 404);
      expect(existsSync(join(s.dataDir, 'traces', `${job.id}.log`))).toBe(false);
    } finally {
      s.core.runners.remove(runner.id);
    }
  });
});

describe('the unfiltered pipeline total is kept by triggers (pipeline_counts)', () => {
  const counted = (projectId: number) => (s.core.deps.db.$client.query('SELECT count(*) AS n FROM pipelines WHERE project_id = ?').get(projectId) as { n: number }).n;
  const kept = (projectId: number) => (s.core.deps.db.$client.query('SELECT n FROM pipeline_counts WHERE project_id = ?').get(projectId) as { n: number } | null)?.n ?? null;

  test('creates and deletes change it; the API total, X-Total and a real count agree', async () => {
    const p = project();
    expect(pipelineCount(p.id)).toBe(0);
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await createPipeline(p.id, { ref: `b${i}`, sha: SHA, content: 'j:\n  script: [x]\n' });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: number }).id);
    }
    expect([pipelineCount(p.id), kept(p.id), counted(p.id)]).toEqual([3, 3, 3]);
    expect((await s.api(`/api/v4/projects/${p.id}/pipelines/${ids[1]}`, { method: 'DELETE' })).status).toBe(204);
    const res = await s.api(`/api/v4/projects/${p.id}/pipelines?per_page=1`);
    expect(res.headers.get('x-total')).toBe('2');
    expect([pipelineCount(p.id), kept(p.id), counted(p.id)]).toEqual([2, 2, 2]);
    // a filtered list still counts what matches
    expect(s.core.pipelines.list(p.id, { ref: 'b0', offset: 0, limit: 1 }).total).toBe(1);
  });

  test("a project's deletion takes its row with it", async () => {
    const p = project();
    expect((await createPipeline(p.id, { ref: 'main', sha: SHA, content: 'j:\n  script: [x]\n' })).status).toBe(201);
    expect(kept(p.id)).toBe(1);
    expect((await s.api(`/api/v4/projects/${p.id}`, { method: 'DELETE' })).status).toBeLessThan(300);
    expect(kept(p.id)).toBeNull();
  });
});
