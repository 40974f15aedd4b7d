/**
 * REST API: runners for admins — list, show (liveness from an injected clock), edit, delete,
 * and enabling/disabling project runners for projects.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { FakeClock } from '../../src/clock';
import { makePipeline, makeProject, startTestServer, type TestServer } from '../support/harness';
import { body, projectRunner, sharedRunner } from './rest-fixtures';

let s: TestServer;
const clock = new FakeClock(Date.UTC(2026, 0, 1));
beforeAll(async () => { s = await startTestServer({}, { clock }); });
afterAll(async () => s.stop());

const RUNNER_FIELDS = ['id', 'description', 'name', 'active', 'paused', 'is_shared', 'runner_type', 'tag_list', 'run_untagged', 'locked',
  'maximum_timeout', 'access_level', 'online', 'status', 'contacted_at', 'created_at', 'version', 'revision', 'platform', 'architecture',
  'executor', 'ip_address', 'protocol', 'projects'];
const get = async (id: number) => body(await s.api(`/api/v4/runners/${id}`), 200);
const put = (id: number, json: Record<string, unknown>) => s.api(`/api/v4/runners/${id}`, { method: 'PUT', json });

describe('GET /api/v4/runners/:id', () => {
  test('the GitLab fields, liveness and protocol', async () => {
    const p = makeProject(s.core);
    const { runner } = s.core.runners.register({
      token: p.runnersToken, protocol: 'v1', description: 'builder', tagList: ['docker', 'linux'], runUntagged: false, locked: true,
      info: { name: 'gitlab-ci-multi-runner', version: '1.11.5', revision: '0a75cdd', platform: 'linux', architecture: 'amd64', executor: 'shell' },
    });
    const r = await get(runner.id);
    expect(Object.keys(r).sort()).toEqual([...RUNNER_FIELDS].sort());
    expect(r).toEqual({
      id: runner.id, description: 'builder', name: 'gitlab-ci-multi-runner', active: true, paused: false, is_shared: false,
      runner_type: 'project_type', tag_list: ['docker', 'linux'], run_untagged: false, locked: true, maximum_timeout: null,
      access_level: 'not_protected', online: false, status: 'never_contacted', contacted_at: null, created_at: new Date(clock.now()).toISOString(),
      version: '1.11.5', revision: '0a75cdd', platform: 'linux', architecture: 'amd64', executor: 'shell', ip_address: null, protocol: 'v1',
      projects: [{ id: p.id, name: p.name, path: p.path, path_with_namespace: `root/${p.path}` }],
    });

    s.core.runners.touch(s.core.runners.get(runner.id), undefined, 'v4');
    expect(await get(runner.id)).toMatchObject({ online: true, status: 'online', contacted_at: new Date(clock.now()).toISOString(), protocol: 'v4' });
    clock.advance(2 * 3600_000);
    expect(await get(runner.id)).toMatchObject({ online: false, status: 'offline' });
    clock.advance(91 * 24 * 3600_000);
    expect(await get(runner.id)).toMatchObject({ online: false, status: 'stale' });
  });

  test('an instance runner is instance_type and shared', async () => {
    const r = await get(sharedRunner(s.core, { description: 'shared' }).id);
    expect([r.is_shared, r.runner_type, r.projects, r.protocol]).toEqual([true, 'instance_type', [], 'v4']);
  });

  test('unknown or non-numeric id → 404', async () => {
    for (const id of ['999999', 'abc', '-1']) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        expect(await body(await s.api(`/api/v4/runners/${id}`, { method, ...(method === 'PUT' ? { json: { description: 'x' } } : {}) }), 404))
          .toEqual({ message: '404 Runner Not Found' });
      }
    }
  });
});

describe('GET /api/v4/runners/all and /api/v4/runners', () => {
  test('every runner, newest first, paginated', async () => {
    for (let i = 0; i < 3; i++) sharedRunner(s.core, { description: `r${i}` });
    const total = s.core.runners.list({ offset: 0, limit: 1 }).total;
    for (const path of ['/api/v4/runners/all', '/api/v4/runners']) {
      const res = await s.api(`${path}?per_page=2`);
      const page = await body<{ id: number }[]>(res, 200);
      expect(page.map((r) => r.id)).toEqual(s.core.runners.list({ offset: 0, limit: 2 }).rows.map((r) => r.id));
      expect(page[0].id).toBeGreaterThan(page[1].id);
      expect([res.headers.get('x-total'), res.headers.get('x-total-pages'), res.headers.get('x-next-page')]).toEqual([String(total), String(Math.ceil(total / 2)), '2']);
    }
  });
});

describe('PUT /api/v4/runners/:id', () => {
  test('edits description, paused/active, tags, run_untagged, locked, maximum_timeout', async () => {
    const r = sharedRunner(s.core);
    expect(await body(await put(r.id, { description: 'renamed', paused: true, tag_list: 'a, b,a', run_untagged: false, locked: true, maximum_timeout: 1800 }), 200))
      .toMatchObject({ description: 'renamed', paused: true, active: false, tag_list: ['a', 'b'], run_untagged: false, locked: true, maximum_timeout: 1800 });
    expect(await body(await put(r.id, { active: true, tag_list: ['c', 'd,e'], maximum_timeout: 0 }), 200))
      .toMatchObject({ paused: false, active: true, tag_list: ['c', 'd', 'e'], maximum_timeout: null, description: 'renamed' });
    const form = new URLSearchParams({ paused: 'true', 'tag_list[]': 'f', run_untagged: 'true' });
    expect(await body(await s.api(`/api/v4/runners/${r.id}`, { method: 'PUT', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 200))
      .toMatchObject({ paused: true, tag_list: ['f'], run_untagged: true });
  });

  test('a paused runner takes no job; resumed, it does', async () => {
    const p = makeProject(s.core);
    const runner = projectRunner(s.core, p);
    makePipeline(s.core, p.id, 'x:\n  script: [x]\n');
    await body(await put(runner.id, { paused: true }), 200);
    expect(s.core.jobs.claim(s.core.runners.get(runner.id)).outcome).toBe('none');
    await body(await put(runner.id, { paused: false }), 200);
    expect(s.core.jobs.claim(s.core.runners.get(runner.id)).outcome).toBe('job');
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ['no tags and no untagged jobs', { tag_list: [], run_untagged: false }, 'tag_list'],
    ['maximum_timeout under 10 minutes', { maximum_timeout: 60 }, 'maximum_timeout'],
    ['maximum_timeout not a number', { maximum_timeout: 'long' }, 'maximum_timeout'],
    ['paused not a boolean', { paused: 'sometimes' }, 'paused'],
    ['locked not a boolean', { locked: 'no way' }, 'locked'],
  ];
  test.each(invalid)('%s → 400 naming the field, nothing changed', async (_n, json, field) => {
    const r = sharedRunner(s.core);
    const before = await get(r.id);
    expect((await body(await put(r.id, json), 400)).message).toContain(field);
    expect(await get(r.id)).toEqual(before);
  });
});

describe('DELETE /api/v4/runners/:id', () => {
  test('204, then 404, and its token stops working', async () => {
    const reg = await body<{ id: number; token: string }>(await s.api('/api/v4/runners', { method: 'POST', auth: false, json: { token: s.config.registrationToken } }), 201);
    const res = await s.api(`/api/v4/runners/${reg.id}`, { method: 'DELETE' });
    expect([res.status, await res.text()]).toEqual([204, '']);
    await body(await s.api(`/api/v4/runners/${reg.id}`), 404);
    expect(s.core.runners.authenticate(reg.token)).toBeNull();
    expect((await s.api('/api/v4/runners/verify', { method: 'POST', auth: false, json: { token: reg.token } })).status).toBe(403);
  });
});

describe('project runners', () => {
  test('list, enable for another project (201), disable (204)', async () => {
    const a = makeProject(s.core);
    const b = makeProject(s.core);
    const runner = projectRunner(s.core, a, { description: 'a-runner' });
    sharedRunner(s.core);
    const listOf = async (id: number) => (await body<{ id: number }[]>(await s.api(`/api/v4/projects/${id}/runners`), 200)).map((r) => r.id);
    expect(await listOf(a.id)).toEqual([runner.id]);
    expect(await listOf(b.id)).toEqual([]);

    const enabled = await body(await s.api(`/api/v4/projects/${b.id}/runners`, { method: 'POST', json: { runner_id: runner.id } }), 201);
    expect(enabled.projects.map((p: { id: number }) => p.id).sort()).toEqual([a.id, b.id].sort());
    expect(await listOf(b.id)).toEqual([runner.id]);
    expect((await s.api(`/api/v4/projects/${b.id}/runners`, { method: 'POST', json: { runner_id: runner.id } })).status).toBe(409);

    // the runner now takes b's jobs too
    makePipeline(s.core, b.id, 'x:\n  script: [x]\n');
    const claimed = s.core.jobs.claim(s.core.runners.get(runner.id));
    expect(claimed.outcome === 'job' && claimed.context.project.id).toBe(b.id);
    s.core.jobs.cancel(claimed.outcome === 'job' ? claimed.context.job.id : 0);

    const del = await s.api(`/api/v4/projects/${b.id}/runners/${runner.id}`, { method: 'DELETE' });
    expect([del.status, await del.text()]).toEqual([204, '']);
    expect(await listOf(b.id)).toEqual([]);
    expect((await get(runner.id)).projects.map((p: { id: number }) => p.id)).toEqual([a.id]);
  });

  test('the refusals: instance runner 400, locked 403, last project 403, unknown 404, runner_id missing 400', async () => {
    const a = makeProject(s.core);
    const b = makeProject(s.core);
    const shared = sharedRunner(s.core);
    const enable = (projectId: number, json: Record<string, unknown>) => s.api(`/api/v4/projects/${projectId}/runners`, { method: 'POST', json });
    expect((await body(await enable(b.id, { runner_id: shared.id }), 400)).message).toContain('runner_id');
    const locked = s.core.runners.register({ token: a.runnersToken, protocol: 'v4', locked: true }).runner;
    await body(await enable(b.id, { runner_id: locked.id }), 403);
    await body(await enable(b.id, { runner_id: 999999 }), 404);
    await body(await enable(999999, { runner_id: locked.id }), 404);
    expect((await body(await enable(b.id, {}), 400)).message).toContain('runner_id');
    expect((await body(await enable(b.id, { runner_id: 'one' }), 400)).message).toContain('runner_id');

    const only = projectRunner(s.core, a);
    await body(await s.api(`/api/v4/projects/${a.id}/runners/${only.id}`, { method: 'DELETE' }), 403);
    expect(await body(await s.api(`/api/v4/projects/${b.id}/runners/${only.id}`, { method: 'DELETE' }), 404)).toEqual({ message: '404 Runner Not Found' });
    expect(await body(await s.api(`/api/v4/projects/999999/runners/${only.id}`, { method: 'DELETE' }), 404)).toEqual({ message: '404 Project Not Found' });
    await body(await s.api('/api/v4/projects/999999/runners'), 404);
    expect((await get(only.id)).projects.map((p: { id: number }) => p.id)).toEqual([a.id]);
  });
});
