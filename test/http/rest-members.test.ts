/**
 * REST API: project members (forges-and-rest.md §C.4), namespaces and projects by path
 * (§C.5), and what each role sees of a project — over HTTP against a real server.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { FakeClock } from '../../src/clock';
import { REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';
import { addMember, as, dayFrom, makeUser, uniqueName, type TestUser } from '../support/people';
import { body } from './rest-fixtures';

const clock = new FakeClock(Date.UTC(2026, 4, 4, 9));
let s: TestServer;
let owner: TestUser;
let dev: TestUser;
let reporter: TestUser;
let stranger: TestUser;
let project: { id: number; path_with_namespace: string; runners_token?: string };
beforeAll(async () => {
  s = await startTestServer({}, { clock });
  [owner, dev, reporter, stranger] = await Promise.all([makeUser(s), makeUser(s), makeUser(s), makeUser(s)]);
  project = await body(await as(s, owner.token, '/api/v4/projects', { method: 'POST', json: { name: 'App', repo_url: 'https://git.example.com/app.git' } }), 201);
  await addMember(s, project.id, dev.id, 30);
  await addMember(s, project.id, reporter.id, 20);
});
afterAll(async () => s.stop());

const members = (token: string, path = '') => as(s, token, `/api/v4/projects/${project.id}/members${path}`);
const memberCall = (token: string, method: string, path: string, json?: unknown) => as(s, token, `/api/v4/projects/${project.id}/members${path}`, { method, json });

describe('the creator', () => {
  test("owns the project, in their namespace; GET shows permissions.project_access", async () => {
    expect(project.path_with_namespace).toBe(`${owner.username}/app`);
    const shown = await body(await as(s, owner.token, `/api/v4/projects/${project.id}`), 200);
    expect(shown.permissions).toEqual({ project_access: { access_level: 50, notification_level: 3 }, group_access: null });
    expect(shown.namespace).toEqual({ id: owner.id, name: `Name of ${owner.username}`, path: owner.username, kind: 'user', full_path: owner.username, web_url: `${s.url}/${owner.username}` });
    // an admin who is not a member: null, as GitLab
    expect((await body(await s.api(`/api/v4/projects/${project.id}`), 200)).permissions.project_access).toBeNull();
  });
});

describe('GET members', () => {
  test('every member sees the list (highest level first), as GitLab renders it', async () => {
    const list = await body<Record<string, unknown>[]>(await members(reporter.token), 200);
    expect(list.map((m) => [m.username, m.access_level])).toEqual([[owner.username, 50], [dev.username, 30], [reporter.username, 20]]);
    expect(list[1]).toEqual({
      id: dev.id, username: dev.username, name: `Name of ${dev.username}`, state: 'active', locked: false, avatar_url: null, web_url: `${s.url}/${dev.username}`,
      access_level: 30, created_at: new Date(clock.now()).toISOString(), created_by: expect.objectContaining({ id: 1, username: 'root' }),
      expires_at: null, membership_state: 'active',
    });
    expect(await body(await members(reporter.token, '/all'), 200)).toEqual(list);
    expect((await body<{ id: number }[]>(await members(owner.token, `?query=${dev.username.slice(0, -1)}`), 200)).map((m) => m.id)).toEqual([dev.id]);
    expect((await body<{ id: number }[]>(await members(owner.token, `?user_ids[]=${reporter.id}`), 200)).map((m) => m.id)).toEqual([reporter.id]);
    expect(await body(await members(owner.token, `/${dev.id}`), 200)).toEqual(list[1]);
    expect(await body(await members(owner.token, `/all/${dev.id}`), 200)).toEqual(list[1]);
    expect(await body(await members(owner.token, `/${stranger.id}`), 404)).toEqual({ message: '404 Member Not Found' });
  });

  test('a non-member sees nothing of the project: 404 Project Not Found, by id and by path', async () => {
    expect(await body(await members(stranger.token), 404)).toEqual({ message: '404 Project Not Found' });
    expect(await body(await as(s, stranger.token, `/api/v4/projects/${encodeURIComponent(project.path_with_namespace)}`), 404)).toEqual({ message: '404 Project Not Found' });
    expect(await body(await as(s, stranger.token, '/api/v4/projects/999999'), 404)).toEqual({ message: '404 Project Not Found' });
  });
});

describe('changing members', () => {
  test('a Maintainer adds (by id or username), changes and removes members', async () => {
    const m = await makeUser(s);
    const x = await makeUser(s);
    await addMember(s, project.id, m.id, 40);
    const added = await body(await memberCall(m.token, 'POST', '', { username: x.username, access_level: 10, expires_at: dayFrom(clock.now(), 30) }), 201);
    expect(added).toMatchObject({ id: x.id, access_level: 10, expires_at: '2026-06-03', created_by: expect.objectContaining({ id: m.id }) });
    expect(await body(await memberCall(m.token, 'PUT', `/${x.id}`, { access_level: 30 }), 200)).toMatchObject({ id: x.id, access_level: 30, expires_at: '2026-06-03' });
    expect(await body(await memberCall(m.token, 'PUT', `/${x.id}`, { access_level: 30, expires_at: null }), 200)).toMatchObject({ expires_at: null });
    expect((await memberCall(m.token, 'DELETE', `/${x.id}`)).status).toBe(204);
    expect(await body(await as(s, x.token, `/api/v4/projects/${project.id}`), 404)).toEqual({ message: '404 Project Not Found' });
    expect((await memberCall(owner.token, 'DELETE', `/${m.id}`)).status).toBe(204);
  });

  const invalid: [string, Record<string, unknown>, number, unknown][] = [
    ['access_level missing', { user_id: 1 }, 400, expect.objectContaining({ error: 'access_level is missing' })],
    ['access_level not a level', { user_id: 1, access_level: 35 }, 400,
      { message: '400 Bad request - access_level does not have a valid value (10 Guest, 20 Reporter, 30 Developer, 40 Maintainer, 50 Owner)' }],
    ['neither user_id nor username', { access_level: 30 }, 400, { message: '400 Bad request - user_id is missing' }],
    ['unknown user', { user_id: 999999, access_level: 30 }, 404, { message: '404 User Not Found' }],
    ['already a member', { user_id: 'DEV', access_level: 20 }, 409, { message: 'Member already exists' }],
    ['expires_at in the past', { username: 'root', access_level: 20, expires_at: '2020-01-01' }, 400, { message: { expires_at: ['must be a date after today'] } }],
  ];
  test.each(invalid)('%s → %i', async (_name, json, status, expected) => {
    const sent = { ...json, ...(json.user_id === 'DEV' ? { user_id: dev.id } : {}) };
    expect(await body(await memberCall(owner.token, 'POST', '', sent), status)).toEqual(expected as object);
  });

  test('Developers and Reporters may not change members → 403', async () => {
    expect(await body(await memberCall(dev.token, 'POST', '', { user_id: stranger.id, access_level: 10 }), 403)).toEqual({ message: '403 Forbidden' });
    expect(await body(await memberCall(reporter.token, 'DELETE', `/${dev.id}`), 403)).toEqual({ message: '403 Forbidden' });
  });

  test('only an Owner makes, changes or removes an Owner; the last Owner stays', async () => {
    const m = await makeUser(s);
    await addMember(s, project.id, m.id, 40);
    expect((await body(await memberCall(m.token, 'POST', '', { user_id: stranger.id, access_level: 50 }), 403)).message).toContain('only an Owner');
    expect((await body(await memberCall(m.token, 'PUT', `/${dev.id}`, { access_level: 50 }), 403)).message).toContain('only an Owner');
    expect((await body(await memberCall(m.token, 'DELETE', `/${owner.id}`), 403)).message).toContain('only an Owner');
    expect((await body(await memberCall(owner.token, 'PUT', `/${owner.id}`, { access_level: 40 }), 403)).message).toContain('at least one Owner');
    expect((await body(await memberCall(owner.token, 'DELETE', `/${owner.id}`), 403)).message).toContain('at least one Owner');
    // with a second Owner, the first may step down
    await body(await memberCall(owner.token, 'PUT', `/${m.id}`, { access_level: 50 }), 200);
    expect(await body(await memberCall(owner.token, 'PUT', `/${owner.id}`, { access_level: 40 }), 200)).toMatchObject({ access_level: 40 });
    await body(await memberCall(m.token, 'PUT', `/${owner.id}`, { access_level: 50 }), 200);
    expect((await memberCall(owner.token, 'DELETE', `/${m.id}`)).status).toBe(204);
  });

  test('a membership ends at its expires_at (midnight UTC)', async () => {
    const temp = await makeUser(s);
    await body(await memberCall(owner.token, 'POST', '', { user_id: temp.id, access_level: 20, expires_at: dayFrom(clock.now(), 1) }), 201);
    expect((await as(s, temp.token, `/api/v4/projects/${project.id}/pipelines`)).status).toBe(200);
    const saved = clock.now();
    clock.set(Date.UTC(2026, 4, 5));
    expect(await body(await as(s, temp.token, `/api/v4/projects/${project.id}/pipelines`), 404)).toEqual({ message: '404 Project Not Found' });
    expect((await body<{ id: number }[]>(await members(owner.token), 200)).map((m) => m.id)).not.toContain(temp.id);
    // re-adding an expired member is allowed
    expect((await memberCall(owner.token, 'POST', '', { user_id: temp.id, access_level: 20 })).status).toBe(201);
    clock.set(saved);
  });
});

describe('what each role may do on the project', () => {
  test('Reporter reads pipelines and jobs but may not start one; Developer may; neither edits the project', async () => {
    expect((await as(s, reporter.token, `/api/v4/projects/${project.id}/pipelines`)).status).toBe(200);
    const yaml = 'build:\n  script: [make]\n';
    expect(await body(await as(s, reporter.token, `/api/v4/projects/${project.id}/pipeline`, { method: 'POST', json: { ref: 'main', sha: 'a'.repeat(40), content: yaml } }), 403)).toEqual({ message: '403 Forbidden' });
    const pl = await body(await as(s, dev.token, `/api/v4/projects/${project.id}/pipeline`, { method: 'POST', json: { ref: 'main', sha: 'a'.repeat(40), content: yaml } }), 201);
    expect((await as(s, reporter.token, `/api/v4/projects/${project.id}/pipelines/${pl.id}/jobs`)).status).toBe(200);
    expect((await as(s, dev.token, `/api/v4/projects/${project.id}/pipelines/${pl.id}/cancel`, { method: 'POST' })).status).toBe(200);
    expect((await as(s, dev.token, `/api/v4/projects/${project.id}`, { method: 'PUT', json: { name: 'x' } })).status).toBe(403);
    expect((await as(s, dev.token, `/api/v4/projects/${project.id}/variables`)).status).toBe(403);
    expect((await as(s, dev.token, `/api/v4/projects/${project.id}/pipelines/${pl.id}`, { method: 'DELETE' })).status).toBe(403);
  });

  test('the runners_token is shown to Maintainers and admins only', async () => {
    expect((await body(await as(s, dev.token, `/api/v4/projects/${project.id}`), 200))).not.toHaveProperty('runners_token');
    expect((await body<Record<string, unknown>[]>(await as(s, reporter.token, '/api/v4/projects'), 200))[0]).not.toHaveProperty('runners_token');
    expect((await body(await as(s, owner.token, `/api/v4/projects/${project.id}`), 200)).runners_token).toBe(project.runners_token);
    expect((await body(await s.api(`/api/v4/projects/${project.id}`), 200)).runners_token).toBe(project.runners_token);
  });

  test('an invalid body from a non-member is still 404 (access is decided before parameters)', async () => {
    expect(await body(await as(s, stranger.token, `/api/v4/projects/${project.id}/pipeline`, { method: 'POST', json: { ref: 7 } }), 404)).toEqual({ message: '404 Project Not Found' });
    expect(await body(await as(s, reporter.token, `/api/v4/projects/${project.id}/variables`, { method: 'POST', json: { key: {} } }), 403)).toEqual({ message: '403 Forbidden' });
  });
});

describe('GET /api/v4/projects lists what the caller may see', () => {
  test('members see their projects; admins see all (membership=true: only their own)', async () => {
    const other = await body(await as(s, stranger.token, '/api/v4/projects', { method: 'POST', json: { name: 'Solo', repo_url: 'https://h/solo.git' } }), 201);
    const ids = async (token: string, q = '') => (await body<{ id: number }[]>(await as(s, token, `/api/v4/projects?per_page=100${q}`), 200)).map((p) => p.id);
    expect(await ids(stranger.token)).toEqual([other.id]);
    expect(await ids(reporter.token)).toEqual([project.id]);
    expect(await ids(owner.token, '&owned=true')).toEqual([project.id]);
    expect(await ids(reporter.token, '&owned=true')).toEqual([]);
    expect(await ids(reporter.token, '&min_access_level=30')).toEqual([]);
    expect(await ids(dev.token, '&min_access_level=30')).toEqual([project.id]);
    const all = await ids(s.config.adminToken!);
    expect(all).toContain(other.id);
    expect(all).toContain(project.id);
    expect(await ids(s.config.adminToken!, '&membership=true')).toEqual([]);
    expect(await ids(owner.token, '&search=APP')).toEqual([project.id]);
    expect(await ids(owner.token, '&search=nothing-like-it')).toEqual([]);
    const simple = await body<Record<string, unknown>[]>(await as(s, owner.token, '/api/v4/projects?simple=true'), 200);
    expect(Object.keys(simple[0]).sort()).toEqual(['created_at', 'default_branch', 'http_url_to_repo', 'id', 'name', 'name_with_namespace', 'namespace', 'path', 'path_with_namespace', 'web_url']);
  });
});

describe('namespaces and projects by path', () => {
  test('`namespace/path` URL-encoded works wherever a project id does, case-insensitively', async () => {
    const enc = encodeURIComponent(project.path_with_namespace);
    expect((await body(await as(s, owner.token, `/api/v4/projects/${enc}`), 200)).id).toBe(project.id);
    expect((await body(await as(s, owner.token, `/api/v4/projects/${enc.toUpperCase()}`), 200)).id).toBe(project.id);
    expect((await as(s, reporter.token, `/api/v4/projects/${enc}/pipelines`)).status).toBe(200);
    expect((await as(s, owner.token, `/api/v4/projects/${enc}/members`)).status).toBe(200);
    // an unencoded slash is another route (404), as in GitLab
    expect((await as(s, owner.token, `/api/v4/projects/${project.path_with_namespace}`)).status).toBe(404);
    for (const bad of ['a%2Fb%2Fc', '%2Fapp', 'nobody%2Fapp', `${owner.username}%2F`]) {
      expect(await body(await as(s, owner.token, `/api/v4/projects/${bad}`), 404)).toEqual({ message: '404 Project Not Found' });
    }
  });

  test('paths are unique per namespace, not globally', async () => {
    const mine = await body(await as(s, dev.token, '/api/v4/projects', { method: 'POST', json: { name: 'App', repo_url: 'https://h/a.git' } }), 201);
    expect(mine.path_with_namespace).toBe(`${dev.username}/app`);
    expect((await body(await as(s, dev.token, '/api/v4/projects', { method: 'POST', json: { name: 'APP', repo_url: 'https://h/a.git' } }), 400)).message).toBe('path: has already been taken');
  });

  test('a group-like namespace: anyone may start one; then its Maintainers and admins add projects', async () => {
    const team = uniqueName('team');
    const first = await body(await as(s, dev.token, '/api/v4/projects', { method: 'POST', json: { name: 'api', repo_url: 'https://h/api.git', namespace: team } }), 201);
    expect(first).toMatchObject({ path_with_namespace: `${team}/api`, namespace: { name: team, path: team, kind: 'group', full_path: team }, name_with_namespace: `${team} / api` });
    expect(first).not.toHaveProperty('namespace.id');
    expect((await body(await as(s, stranger.token, '/api/v4/projects', { method: 'POST', json: { name: 'web', repo_url: 'https://h/w.git', namespace: team } }), 403)).message).toContain('is in use');
    // GitLab's namespace_id works too (here also as a path), and the existing spelling wins
    const second = await body(await as(s, dev.token, '/api/v4/projects', { method: 'POST', json: { name: 'web', repo_url: 'https://h/w.git', namespace_id: team.toUpperCase() } }), 201);
    expect(second.path_with_namespace).toBe(`${team}/web`);
    expect((await s.api('/api/v4/projects', { method: 'POST', json: { name: 'ops', repo_url: 'https://h/o.git', namespace: team } })).status).toBe(201);
  });

  test("another user's namespace: only admins; reserved and invalid names → 400", async () => {
    expect((await body(await as(s, stranger.token, '/api/v4/projects', { method: 'POST', json: { name: 'x', repo_url: 'https://h/x.git', namespace: owner.username } }), 403)).message).toContain("another user's namespace");
    expect((await body(await as(s, stranger.token, '/api/v4/projects', { method: 'POST', json: { name: 'x', repo_url: 'https://h/x.git', namespace_id: owner.id } }), 403)).message).toContain("another user's namespace");
    const byAdmin = await body(await s.api('/api/v4/projects', { method: 'POST', json: { name: 'gift', repo_url: 'https://h/g.git', namespace_id: owner.id } }), 201);
    expect(byAdmin.path_with_namespace).toBe(`${owner.username}/gift`);
    // made by an admin in a user's namespace, it is that user's
    expect((await body(await as(s, owner.token, `/api/v4/projects/${byAdmin.id}`), 200)).permissions.project_access.access_level).toBe(50);
    expect(await body(await s.api('/api/v4/projects', { method: 'POST', json: { name: 'x', repo_url: 'https://h/x.git', namespace_id: 999999 } }), 404)).toEqual({ message: '404 Namespace Not Found' });
    expect((await body(await s.api('/api/v4/projects', { method: 'POST', json: { name: 'x', repo_url: 'https://h/x.git', namespace: 'admin' } }), 400)).message).toContain('reserved');
    expect((await body(await s.api('/api/v4/projects', { method: 'POST', json: { name: 'x', repo_url: 'https://h/x.git', namespace: 'a/b' } }), 400)).message).toContain('namespace');
  });

  test('only admins may give a project a local path or file:// repo_url', async () => {
    for (const url of ['/srv/git/app.git', './relative', 'file:///etc', 'FILE://host/x', 'ext::sh -c id', 'C:\\repo']) {
      const res = await as(s, dev.token, '/api/v4/projects', { method: 'POST', json: { name: uniqueName('p'), repo_url: url } });
      expect(`${url}: ${res.status} ${((await res.json()) as { message: string }).message}`).toBe(`${url}: 403 403 Forbidden - repo_url: only administrators may use a local path or a file:// URL (git would read the server's own disk)`);
      expect((await as(s, owner.token, `/api/v4/projects/${project.id}`, { method: 'PUT', json: { repo_url: url } })).status).toBe(403);
    }
    for (const url of ['https://h/x.git', 'ssh://git@h/x.git', 'git@github.com:o/r.git', 'git://h/x']) {
      expect(`${url}: ${(await as(s, dev.token, '/api/v4/projects', { method: 'POST', json: { name: uniqueName('p'), repo_url: url } })).status}`).toBe(`${url}: 201`);
    }
    expect((await s.api('/api/v4/projects', { method: 'POST', json: { name: uniqueName('p'), repo_url: '/srv/git/app.git' } })).status).toBe(201);
    // a Maintainer may keep an admin's local repo_url while editing other settings
    const local = await body(await s.api('/api/v4/projects', { method: 'POST', json: { name: uniqueName('p'), repo_url: '/srv/local.git', namespace_id: owner.id } }), 201);
    expect((await as(s, owner.token, `/api/v4/projects/${local.id}`, { method: 'PUT', json: { repo_url: '/srv/local.git', build_timeout: 900 } })).status).toBe(200);
  });

  test('jobs see the namespace: CI_PROJECT_PATH, CI_PROJECT_NAMESPACE, CI_PROJECT_URL; web_url follows', async () => {
    const team = uniqueName('ci');
    const p = await body(await as(s, dev.token, '/api/v4/projects', { method: 'POST', json: { name: 'Svc', repo_url: 'https://h/svc.git', namespace: team } }), 201);
    const pl = await body(await as(s, dev.token, `/api/v4/projects/${p.id}/pipeline`, { method: 'POST', json: { ref: 'main', sha: 'b'.repeat(40), content: 'j:\n  script: [x]\n' } }), 201);
    expect(pl.web_url).toBe(`${s.url}/${team}/svc/-/pipelines/${pl.id}`);
    // who started it
    expect(pl.user).toEqual({ id: dev.id, username: dev.username, name: `Name of ${dev.username}`, state: 'active', locked: false, avatar_url: null, web_url: `${s.url}/${dev.username}` });
    const reg = await body<{ token: string }>(await fetch(`${s.url}/api/v4/runners`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: p.runners_token }) }), 201);
    const job = await body<{ id: number; variables: { key: string; value: string }[] }>(await fetch(`${s.url}/api/v4/jobs/request`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: reg.token }) }), 201);
    const vars = Object.fromEntries(job.variables.map((v) => [v.key, v.value]));
    expect(vars).toMatchObject({
      CI_PROJECT_PATH: `${team}/svc`, CI_PROJECT_NAMESPACE: team, CI_PROJECT_ROOT_NAMESPACE: team, CI_PROJECT_NAME: 'svc',
      CI_PROJECT_URL: `${s.url}/${team}/svc`, CI_PROJECT_PATH_SLUG: `${team}-svc`, CI_JOB_URL: `${s.url}/${team}/svc/-/jobs/${job.id}`,
      GITLAB_USER_ID: String(dev.id), GITLAB_USER_LOGIN: dev.username, GITLAB_USER_NAME: `Name of ${dev.username}`, GITLAB_USER_EMAIL: `${dev.username}@example.com`,
    });
    expect(REGISTRATION_TOKEN).toBeString();
  });

  test('a pipeline whose user is deleted keeps running, with user null', async () => {
    const gone = await makeUser(s);
    const p = await body(await as(s, gone.token, '/api/v4/projects', { method: 'POST', json: { name: 'Gone', repo_url: 'https://h/gone.git' } }), 201);
    const pl = await body(await as(s, gone.token, `/api/v4/projects/${p.id}/pipeline`, { method: 'POST', json: { ref: 'main', sha: 'c'.repeat(40), content: 'j:\n  script: [x]\n' } }), 201);
    expect(pl.user.id).toBe(gone.id);
    expect((await s.api(`/api/v4/users/${gone.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await body(await s.api(`/api/v4/projects/${p.id}/pipelines/${pl.id}`), 200)).toMatchObject({ id: pl.id, status: 'pending', user: null });
  });
});
