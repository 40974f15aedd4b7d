/**
 * Who may see and change which runner (GitLab's rules), over HTTP: admins every runner;
 * a project's Maintainers its project runners (read, pause/resume, delete while it serves
 * only their project, enable for another project they maintain); instance runners are
 * visible to everyone signed in and changed by admins only.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';
import { addMember, as, makeUser, type TestUser } from '../support/people';
import { body } from './rest-fixtures';

let s: TestServer;
let maint: TestUser;
let dev: TestUser;
let other: TestUser;
const ids = { a: 0, b: 0, c: 0, runnerA: 0, runnerB: 0, shared: 0 };
beforeAll(async () => {
  s = await startTestServer();
  [maint, dev, other] = await Promise.all([makeUser(s), makeUser(s), makeUser(s)]);
  const mk = async (who: TestUser, name: string) => (await body(await as(s, who.token, '/api/v4/projects', { method: 'POST', json: { name, repo_url: `https://h/${name}.git` } }), 201)) as { id: number; runners_token: string };
  const a = await mk(maint, 'alpha');
  const c = await mk(maint, 'gamma');
  const b = await mk(other, 'beta');
  Object.assign(ids, { a: a.id, b: b.id, c: c.id });
  await addMember(s, a.id, dev.id, 30);
  ids.runnerA = s.core.runners.register({ token: a.runners_token, protocol: 'v4', description: 'runner-a' }).runner.id;
  ids.runnerB = s.core.runners.register({ token: b.runners_token, protocol: 'v4', description: 'runner-b' }).runner.id;
  ids.shared = s.core.runners.register({ token: REGISTRATION_TOKEN, protocol: 'v4', description: 'shared' }).runner.id;
});
afterAll(async () => s.stop());

describe('reading runners', () => {
  test('GET /runners: a Maintainer sees the runners of their projects; an admin every runner', async () => {
    const seen = async (token: string) => (await body<{ id: number }[]>(await as(s, token, '/api/v4/runners?per_page=100'), 200)).map((r) => r.id).sort();
    expect(await seen(maint.token)).toEqual([ids.runnerA]);
    expect(await seen(dev.token)).toEqual([]);
    expect(await seen(other.token)).toEqual([ids.runnerB]);
    expect(await seen(s.config.adminToken!)).toEqual([ids.runnerA, ids.runnerB, ids.shared].sort());
    expect(await body(await as(s, maint.token, '/api/v4/runners/all'), 403)).toEqual({ message: '403 Forbidden' });
  });

  test('GET /runners/:id: own project runners and instance runners; others → 403 No access granted; none → 404', async () => {
    expect(await body(await as(s, maint.token, `/api/v4/runners/${ids.runnerA}`), 200)).toMatchObject({ id: ids.runnerA, projects: [expect.objectContaining({ id: ids.a })] });
    expect((await body(await as(s, dev.token, `/api/v4/runners/${ids.shared}`), 200)).id).toBe(ids.shared);
    expect(await body(await as(s, maint.token, `/api/v4/runners/${ids.runnerB}`), 403)).toEqual({ message: '403 Forbidden - No access granted' });
    expect(await body(await as(s, dev.token, `/api/v4/runners/${ids.runnerA}`), 403)).toEqual({ message: '403 Forbidden - No access granted' });
    expect(await body(await as(s, maint.token, '/api/v4/runners/999999'), 404)).toEqual({ message: '404 Runner Not Found' });
  });
});

describe('changing runners', () => {
  test('a Maintainer pauses and resumes their project runner; not an instance runner, not another team\'s', async () => {
    expect(await body(await as(s, maint.token, `/api/v4/runners/${ids.runnerA}`, { method: 'PUT', json: { paused: true } }), 200)).toMatchObject({ paused: true });
    expect(await body(await as(s, maint.token, `/api/v4/runners/${ids.runnerA}`, { method: 'PUT', json: { paused: false } }), 200)).toMatchObject({ paused: false });
    expect(await body(await as(s, maint.token, `/api/v4/runners/${ids.shared}`, { method: 'PUT', json: { paused: true } }), 403)).toEqual({ message: '403 Forbidden - Runner is instance type' });
    expect(await body(await as(s, maint.token, `/api/v4/runners/${ids.runnerB}`, { method: 'PUT', json: { paused: true } }), 403)).toEqual({ message: '403 Forbidden - No access granted' });
    expect(await body(await as(s, dev.token, `/api/v4/runners/${ids.runnerA}`, { method: 'PUT', json: { paused: true } }), 403)).toEqual({ message: '403 Forbidden - No access granted' });
    expect(s.core.runners.get(ids.shared).active).toBe(true);
    expect(s.core.runners.get(ids.runnerB).active).toBe(true);
  });

  test('enabling a runner for a project needs both: its project and the runner\'s', async () => {
    expect(await body(await as(s, maint.token, `/api/v4/projects/${ids.c}/runners`, { method: 'POST', json: { runner_id: ids.runnerB } }), 403)).toEqual({ message: '403 Forbidden - No access granted' });
    expect(await body(await as(s, other.token, `/api/v4/projects/${ids.b}/runners`, { method: 'POST', json: { runner_id: ids.runnerA } }), 403)).toEqual({ message: '403 Forbidden - No access granted' });
    expect((await body(await as(s, maint.token, `/api/v4/projects/${ids.c}/runners`, { method: 'POST', json: { runner_id: ids.runnerA } }), 201)).projects.map((p: { id: number }) => p.id).sort())
      .toEqual([ids.a, ids.c].sort());
    // another team's member sees only the projects they may see in the runner's list
    await addMember(s, ids.a, other.id, 40);
    const shown = await body(await as(s, other.token, `/api/v4/runners/${ids.runnerA}`), 200);
    expect(shown.projects.map((p: { id: number }) => p.id)).toEqual([ids.a]);
    // a locked runner is not enabled elsewhere by non-admins
    await body(await s.api(`/api/v4/runners/${ids.runnerA}`, { method: 'PUT', json: { locked: true } }), 200);
    expect(await body(await as(s, other.token, `/api/v4/projects/${ids.b}/runners`, { method: 'POST', json: { runner_id: ids.runnerA } }), 403)).toEqual({ message: '403 Forbidden - Runner is locked' });
  });

  test('deleting: a Maintainer deletes a runner that serves only their project; an admin any', async () => {
    expect(await body(await as(s, maint.token, `/api/v4/runners/${ids.runnerA}`, { method: 'DELETE' }), 403)).toEqual({ message: '403 Forbidden - Runner associated with more than one project' });
    expect(await body(await as(s, maint.token, `/api/v4/runners/${ids.shared}`, { method: 'DELETE' }), 403)).toEqual({ message: '403 Forbidden - Runner is instance type' });
    expect((await as(s, other.token, `/api/v4/runners/${ids.runnerB}`, { method: 'DELETE' })).status).toBe(204);
    expect((await s.api(`/api/v4/runners/${ids.runnerA}`, { method: 'DELETE' })).status).toBe(204);
  });
});
