/** REST API: projects and their variables (consumer-api.md §2), over HTTP against a real server. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makePipeline, startTestServer, type TestServer } from '../support/harness';
import { body, sharedRunner } from './rest-fixtures';

let s: TestServer;
beforeAll(async () => { s = await startTestServer(); });
afterAll(async () => s.stop());

const create = (json: Record<string, unknown>) => s.api('/api/v4/projects', { method: 'POST', json });
let seq = 0;
const unique = () => `proj-${++seq}-${Math.random().toString(36).slice(2, 6)}`;

describe('POST /api/v4/projects', () => {
  test('creates a project with GitLab fields and defaults → 201', async () => {
    const res = await create({ name: 'My Demo', repo_url: 'https://git.example.com/g/demo.git' });
    const p = await body(res, 201);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(p).toMatchObject({
      name: 'My Demo', path: 'my-demo', path_with_namespace: 'root/my-demo', namespace: { id: 1, name: 'Administrator', path: 'root', kind: 'user', full_path: 'root', web_url: `${s.url}/root` }, repo_url: 'https://git.example.com/g/demo.git',
      http_url_to_repo: 'https://git.example.com/g/demo.git', default_branch: 'main', shared_runners_enabled: true,
      build_timeout: 3600, allow_git_fetch: true, clone_with_job_token: false,
    });
    expect(p.id).toBeInteger();
    expect(p.runners_token).toBeString();
    expect(p.runners_token.length).toBeGreaterThan(10);
    expect(p.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test('takes every setting, as JSON, as a form and as a query string', async () => {
    const settings = {
      path: unique(), default_branch: 'develop', build_timeout: 7200, shared_runners_enabled: false, allow_git_fetch: false, clone_with_job_token: true,
    };
    const expected = { ...settings, build_git_strategy: 'clone' };
    const viaJson = await body(await create({ name: 'J', repo_url: '/srv/repo.git', ...settings }), 201);
    expect(viaJson).toMatchObject(expected);

    const form = new URLSearchParams({ name: 'F', repo_url: '/srv/repo.git', ...Object.fromEntries(Object.entries({ ...settings, path: unique() }).map(([k, v]) => [k, String(v)])) });
    const viaForm = await body(await s.api('/api/v4/projects', { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 201);
    expect(viaForm).toMatchObject({ ...expected, path: form.get('path') });

    const query = new URLSearchParams({ name: 'Q', repo_url: '/srv/repo.git', build_timeout: '900', shared_runners_enabled: 'false', path: unique() });
    const viaQuery = await body(await s.api(`/api/v4/projects?${query}`, { method: 'POST' }), 201);
    expect(viaQuery).toMatchObject({ name: 'Q', build_timeout: 900, shared_runners_enabled: false });
  });

  test('build_git_strategy is the GitLab spelling of allow_git_fetch', async () => {
    const p = await body(await create({ name: unique(), repo_url: '/r', build_git_strategy: 'clone' }), 201);
    expect([p.allow_git_fetch, p.build_git_strategy]).toEqual([false, 'clone']);
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['name missing', { repo_url: '/r' }, 'name'],
    ['name empty', { name: '', repo_url: '/r' }, 'name'],
    ['repo_url missing', { name: 'x' }, 'repo_url'],
    ['repo_url an option', { name: 'x', repo_url: '--upload-pack=touch /tmp/x' }, 'repo_url'],
    ['build_timeout not a number', { name: 'x', repo_url: '/r', build_timeout: 'soon' }, 'build_timeout'],
    ['build_timeout too small', { name: 'x', repo_url: '/r', build_timeout: 10 }, 'build_timeout'],
    ['shared_runners_enabled not a boolean', { name: 'x', repo_url: '/r', shared_runners_enabled: 'perhaps' }, 'shared_runners_enabled'],
    ['path with a slash', { name: 'x', repo_url: '/r', path: 'a/b' }, 'path'],
    ['build_git_strategy unknown', { name: 'x', repo_url: '/r', build_git_strategy: 'copy' }, 'build_git_strategy'],
  ];
  test.each(invalid)('%s → 400 naming the field', async (_name, json, field) => {
    const before = s.core.projects.list(0, 1).total;
    const res = await create(json);
    const b = await body<{ message: string }>(res, 400);
    expect(b.message).toContain(field);
    expect(s.core.projects.list(0, 1).total).toBe(before);
  });

  test('a path that is taken → 400 naming path', async () => {
    const path = unique();
    await body(await create({ name: 'a', repo_url: '/r', path }), 201);
    expect((await body(await create({ name: 'b', repo_url: '/r', path }), 400)).message).toContain('path');
  });
});

describe('GET /api/v4/projects', () => {
  test('lists newest first with GitLab pagination headers', async () => {
    for (let i = 0; i < 5; i++) await body(await create({ name: unique(), repo_url: '/r' }), 201);
    const total = s.core.projects.list(0, 1).total;
    const all = await body<{ id: number }[]>(await s.api('/api/v4/projects?per_page=100'), 200);
    expect(all.length).toBe(total);
    expect(all.map((p) => p.id)).toEqual([...all.map((p) => p.id)].sort((a, b) => b - a));

    const res = await s.api('/api/v4/projects?per_page=2&page=2');
    const page = await body<{ id: number }[]>(res, 200);
    expect(page.map((p) => p.id)).toEqual(all.slice(2, 4).map((p) => p.id));
    const pages = Math.ceil(total / 2);
    expect({
      page: res.headers.get('x-page'), perPage: res.headers.get('x-per-page'), total: res.headers.get('x-total'),
      totalPages: res.headers.get('x-total-pages'), next: res.headers.get('x-next-page'), prev: res.headers.get('x-prev-page'),
    }).toEqual({ page: '2', perPage: '2', total: String(total), totalPages: String(pages), next: '3', prev: '1' });
    const link = res.headers.get('link')!;
    expect(link).toContain(`<${s.url}/api/v4/projects?per_page=2&page=3>; rel="next"`);
    expect(link).toContain(`<${s.url}/api/v4/projects?per_page=2&page=1>; rel="prev"`);
    expect(link).toContain(`<${s.url}/api/v4/projects?per_page=2&page=1>; rel="first"`);
    expect(link).toContain(`<${s.url}/api/v4/projects?per_page=2&page=${pages}>; rel="last"`);
  });

  test('the last page has no next; defaults are page 1 and 20 per page; per_page over 100 is cut to 100', async () => {
    const total = s.core.projects.list(0, 1).total;
    const last = await s.api(`/api/v4/projects?per_page=1&page=${total}`);
    await body(last, 200);
    expect([last.headers.get('x-next-page'), last.headers.get('link')]).toEqual(['', expect.not.stringContaining('rel="next"')]);
    const dflt = await s.api('/api/v4/projects');
    await body(dflt, 200);
    expect([dflt.headers.get('x-page'), dflt.headers.get('x-per-page'), dflt.headers.get('x-prev-page')]).toEqual(['1', '20', '']);
    const big = await s.api('/api/v4/projects?per_page=1000');
    await body(big, 200);
    expect(big.headers.get('x-per-page')).toBe('100');
  });

  test.each([['page=0', 'page'], ['page=abc', 'page'], ['per_page=0', 'per_page'], ['per_page=x', 'per_page']])('%s → 400 naming the field', async (q, field) => {
    expect((await body(await s.api(`/api/v4/projects?${q}`), 400)).message).toContain(field);
  });
});

describe('GET/PUT/DELETE /api/v4/projects/:id', () => {
  test('get, edit, then delete (202) — the project answers 404 afterwards', async () => {
    const p = await body(await create({ name: 'Edit me', repo_url: '/r', path: unique() }), 201);
    // GET /projects/:id adds the caller's permissions (the creator is the Owner)
    expect(await body(await s.api(`/api/v4/projects/${p.id}`), 200)).toEqual({ ...p, permissions: { project_access: { access_level: 50, notification_level: 3 }, group_access: null } });
    const edited = await body(await s.api(`/api/v4/projects/${p.id}`, { method: 'PUT', json: { name: 'Edited', repo_url: 'https://h/x.git', build_timeout: 1200, clone_with_job_token: true } }), 200);
    expect(edited).toMatchObject({ id: p.id, name: 'Edited', path: p.path, repo_url: 'https://h/x.git', build_timeout: 1200, clone_with_job_token: true, runners_token: p.runners_token });
    const del = await s.api(`/api/v4/projects/${p.id}`, { method: 'DELETE' });
    expect(await body(del, 202)).toEqual({ message: '202 Accepted' });
    expect(await body(await s.api(`/api/v4/projects/${p.id}`), 404)).toEqual({ message: '404 Project Not Found' });
  });

  test('deleting a project removes its pipelines, jobs, traces and artifacts', async () => {
    const p = await body(await create({ name: unique(), repo_url: '/r' }), 201);
    const pipeline = makePipeline(s.core, p.id, 'build:\n  script: [make]\n');
    const runner = sharedRunner(s.core);
    const claimed = s.core.jobs.claim(runner);
    if (claimed.outcome !== 'job') throw new Error('no job');
    const job = claimed.context.job;
    s.core.jobs.appendTrace(job, 0, new TextEncoder().encode('log'));
    await s.core.artifacts.store(job, 'a.zip', (async function* () { yield new Uint8Array([1, 2, 3]); })(), undefined);
    s.core.jobs.update(job, { state: 'success' });
    expect(existsSync(join(s.dataDir, 'traces', `${job.id}.log`))).toBe(true);
    expect(existsSync(join(s.dataDir, 'artifacts', `${job.id}.zip`))).toBe(true);
    await body(await s.api(`/api/v4/projects/${p.id}`, { method: 'DELETE' }), 202);
    expect(existsSync(join(s.dataDir, 'traces', `${job.id}.log`))).toBe(false);
    expect(existsSync(join(s.dataDir, 'artifacts', `${job.id}.zip`))).toBe(false);
    expect(s.core.jobs.find(job.id)).toBeNull();
    expect(() => s.core.pipelines.get(pipeline.id)).toThrow('404 Pipeline Not Found');
    s.core.runners.remove(runner.id);
  });

  test.each([['GET', ''], ['PUT', ''], ['DELETE', '']])('%s of an unknown or non-numeric project → 404', async (method) => {
    for (const id of ['999999', 'abc', '-1', '1e3']) {
      const res = await s.api(`/api/v4/projects/${id}`, { method, ...(method === 'PUT' ? { json: { name: 'x' } } : {}) });
      expect(await body(res, 404)).toEqual({ message: '404 Project Not Found' });
    }
  });

  test('PUT with invalid input → 400 naming the field, nothing changed', async () => {
    const p = await body(await create({ name: 'Keep', repo_url: '/r', path: unique() }), 201);
    const other = await body(await create({ name: 'Other', repo_url: '/r', path: unique() }), 201);
    for (const [json, field] of [[{ build_timeout: 5 }, 'build_timeout'], [{ path: other.path }, 'path'], [{ name: '' }, 'name'], [{ repo_url: '-x' }, 'repo_url']] as const) {
      expect((await body(await s.api(`/api/v4/projects/${p.id}`, { method: 'PUT', json }), 400)).message).toContain(field);
    }
    expect(await body(await s.api(`/api/v4/projects/${p.id}`), 200)).toMatchObject(p);
  });
});

describe('project variables', () => {
  test('create (201), list, get, edit, delete (204)', async () => {
    const p = await body(await create({ name: unique(), repo_url: '/r' }), 201);
    const base = `/api/v4/projects/${p.id}/variables`;
    const v = await body(await s.api(base, { method: 'POST', json: { key: 'DEPLOY_KEY', value: 'super-secret-1', masked: true } }), 201);
    expect(v).toEqual({ variable_type: 'env_var', key: 'DEPLOY_KEY', value: 'super-secret-1', masked: true, protected: false, raw: false, environment_scope: '*' });
    await body(await s.api(base, { method: 'POST', body: new URLSearchParams({ key: 'A_PLAIN', value: 'x' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 201);
    const list = await s.api(base);
    expect((await body<{ key: string }[]>(list, 200)).map((x) => x.key)).toEqual(['A_PLAIN', 'DEPLOY_KEY']);
    expect(list.headers.get('x-total')).toBe('2');
    expect(await body(await s.api(`${base}/DEPLOY_KEY`), 200)).toEqual(v);
    const edited = await body(await s.api(`${base}/DEPLOY_KEY`, { method: 'PUT', json: { value: 'another-secret', masked: false } }), 200);
    expect([edited.value, edited.masked]).toEqual(['another-secret', false]);
    const del = await s.api(`${base}/A_PLAIN`, { method: 'DELETE' });
    expect([del.status, await del.text()]).toEqual([204, '']);
    expect(await body(await s.api(`${base}/A_PLAIN`), 404)).toEqual({ message: '404 Variable Not Found' });
    expect((await body<unknown[]>(await s.api(base), 200)).length).toBe(1);
  });

  test('the value reaches jobs as a secret and a masked one is replaced in the trace', async () => {
    const p = await body(await create({ name: unique(), repo_url: '/r' }), 201);
    await body(await s.api(`/api/v4/projects/${p.id}/variables`, { method: 'POST', json: { key: 'TOKEN', value: 'hunter2hunter2', masked: true } }), 201);
    makePipeline(s.core, p.id, 'build:\n  script: [make]\n');
    const runner = sharedRunner(s.core);
    const claimed = s.core.jobs.claim(runner);
    if (claimed.outcome !== 'job') throw new Error('no job');
    expect(claimed.context.variables).toContainEqual({ key: 'TOKEN', value: 'hunter2hunter2', public: false, masked: true });
    s.core.jobs.appendTrace(claimed.context.job, 0, new TextEncoder().encode('echo hunter2hunter2\n'));
    const trace = await s.api(`/api/v4/projects/${p.id}/jobs/${claimed.context.job.id}/trace`);
    expect(await trace.text()).toBe('echo xxxxxxxxxxxxxx\n');
    s.core.jobs.cancel(claimed.context.job.id);
    s.core.runners.remove(runner.id);
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['key missing', { value: 'v' }, 'key'],
    ['value missing', { key: 'K' }, 'value'],
    ['key with a dash', { key: 'A-B', value: 'v' }, 'key'],
    ['masked value too short', { key: 'SHORT', value: 'abc', masked: true }, 'value'],
    ['masked not a boolean', { key: 'M', value: 'abcdefghij', masked: 'yes' }, 'masked'],
  ];
  test.each(invalid)('%s → 400 naming the field', async (_n, json, field) => {
    const p = await body(await create({ name: unique(), repo_url: '/r' }), 201);
    expect((await body(await s.api(`/api/v4/projects/${p.id}/variables`, { method: 'POST', json }), 400)).message).toContain(field);
    expect(await body(await s.api(`/api/v4/projects/${p.id}/variables`), 200)).toEqual([]);
  });

  test('a key that exists → 400; unknown project → 404; a variable is only reachable under its project', async () => {
    const a = await body(await create({ name: unique(), repo_url: '/r' }), 201);
    const b = await body(await create({ name: unique(), repo_url: '/r' }), 201);
    await body(await s.api(`/api/v4/projects/${a.id}/variables`, { method: 'POST', json: { key: 'ONLY_A', value: '1' } }), 201);
    expect((await body(await s.api(`/api/v4/projects/${a.id}/variables`, { method: 'POST', json: { key: 'ONLY_A', value: '2' } }), 400)).message).toContain('key');
    expect(await body(await s.api('/api/v4/projects/999999/variables'), 404)).toEqual({ message: '404 Project Not Found' });
    expect(await body(await s.api(`/api/v4/projects/${b.id}/variables/ONLY_A`), 404)).toEqual({ message: '404 Variable Not Found' });
    for (const method of ['PUT', 'DELETE']) {
      await body(await s.api(`/api/v4/projects/${b.id}/variables/ONLY_A`, { method, ...(method === 'PUT' ? { json: { value: 'x' } } : {}) }), 404);
    }
    expect((await body(await s.api(`/api/v4/projects/${a.id}/variables/ONLY_A`), 200)).value).toBe('1');
  });
});
