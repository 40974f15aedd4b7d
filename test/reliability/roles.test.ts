/**
 * R4 Security — every people-facing route with every role, against a real server.
 *
 * What each route needs comes from the code itself: the auth macros write it into the
 * route's OpenAPI detail (`x-baton-permission`: `signed_in`, `admin`, or a project
 * permission whose least access level is in PROJECT_PERMISSIONS). The test checks that
 * SECURITY.md's "least role" column says the same for every route, then calls every such
 * route as each role and checks the answer against it. A new route needs nothing here: its
 * macro and its SECURITY.md row are the whole contract.
 *
 * Requests are made harmless for the roles that may make them: sub-resources of writes are
 * ids that name nothing (so an allowed caller gets "404 Pipeline Not Found", a refused one
 * "404 Project Not Found" or 403), bodies are `{}` (400 after the access decision, or "no
 * change"), and the few calls that would destroy the fixture itself (deleting the project,
 * revoking the token in use) get a fresh project or token per allowed role.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createApp } from '../../src/app';
import { FakeClock } from '../../src/clock';
import { ACCESS_LEVEL, PROJECT_PERMISSIONS, ROLE_NAME, RUNNER_PERMISSIONS, type ProjectPermission, type RunnerPermission } from '../../src/core/people/access';
import { PERMISSION_KEY } from '../../src/http/auth';
import { createLogger } from '../../src/log';
import { makePipeline, startTestServer, type TestServer } from '../support/harness';
import { addMember, dayFrom, makeToken, makeUser, type TestUser } from '../support/people';

// ---------------------------------------------------------------- what the code and SECURITY.md say

interface Route { method: string; path: string; needs: string | undefined }

const isRunnerPermission = (needs: string | undefined): needs is RunnerPermission => (RUNNER_PERMISSIONS as readonly string[]).includes(needs ?? '');

/**
 * What SECURITY.md writes for what a route needs: `—`, `signed in`, `admin`, a role on the
 * project (`Reporter (`read_pipeline`)`), or a runner's (`runner's Maintainer (`update_runner`)`).
 */
function leastRole(needs: string | undefined): string {
  if (needs === undefined) return '—';
  if (needs === 'signed_in') return 'signed in';
  if (needs === 'admin') return 'admin';
  if (isRunnerPermission(needs)) return `runner's Maintainer (\`${needs}\`)`;
  return `${ROLE_NAME[PROJECT_PERMISSIONS[needs as ProjectPermission]]} (\`${needs}\`)`;
}

function securityRows(): Map<string, string> {
  const doc = readFileSync(resolve(import.meta.dir, '../../SECURITY.md'), 'utf8');
  const rows = new Map<string, string>();
  for (const line of doc.split('\n')) {
    const m = /^\| `([A-Z]+ [^`]+)` \| [^|]* \| ([^|]+) \|/.exec(line);
    if (m) rows.set(m[1], m[2].trim());
  }
  return rows;
}

let s: TestServer;
let routes: Route[];

// ---------------------------------------------------------------- the roles

type Role = 'anonymous' | 'wrong token' | 'read_api token' | 'non-member' | 'Guest' | 'Reporter' | 'Developer' | 'Developer (session)' | 'Maintainer' | 'Owner'
  | 'admin' | 'blocked user' | 'expired token';
const ROLES: Role[] = ['anonymous', 'wrong token', 'read_api token', 'non-member', 'Guest', 'Reporter', 'Developer', 'Developer (session)', 'Maintainer', 'Owner', 'admin', 'blocked user', 'expired token'];
const LEVEL: Partial<Record<Role, number>> = {
  Guest: ACCESS_LEVEL.guest, Reporter: ACCESS_LEVEL.reporter, Developer: ACCESS_LEVEL.developer, 'Developer (session)': ACCESS_LEVEL.developer,
  Maintainer: ACCESS_LEVEL.maintainer, Owner: ACCESS_LEVEL.owner, 'read_api token': ACCESS_LEVEL.owner, 'non-member': 0,
};

/** What a role must get: allowed, or exactly this refusal. */
type Expect = 'allowed' | '401' | '403' | 'scope' | 'not found';

function expected(route: Route, role: Role): Expect {
  if (role === 'anonymous' || role === 'wrong token' || role === 'expired token') return '401';
  if (role === 'blocked user') return '403';
  if (role === 'read_api token' && !['GET', 'HEAD'].includes(route.method)) return 'scope';
  if (role === 'admin') return 'allowed';
  if (route.needs === 'signed_in') return 'allowed';
  if (route.needs === 'admin') return '403';
  const level = LEVEL[role]!;
  // The walk's runner is a project runner of the walk's project; deletes name a runner that does not exist (404 for all).
  if (isRunnerPermission(route.needs)) return route.method === 'DELETE' || level >= ACCESS_LEVEL.maintainer ? 'allowed' : '403';
  if (level === 0) return 'not found';
  return level >= PROJECT_PERMISSIONS[route.needs as ProjectPermission] ? 'allowed' : '403';
}

const clock = new FakeClock(Date.UTC(2026, 6, 1, 10));
const users = {} as Record<Role, TestUser>;
const cred = {} as Record<Role, Record<string, string>>;
let session: { cookie: string; csrf: string };
let project: { id: number; path: string };
const real = { pipeline: 0, job: 0, runner: 0, key: 'WALK_VAR' };

async function freshProject(): Promise<{ id: number; path: string }> {
  const p = await (await s.api('/api/v4/projects', { method: 'POST', json: { name: `walk-${Math.random().toString(36).slice(2, 8)}`, repo_url: 'https://git.example.com/walk.git', namespace: 'walk' } })).json() as { id: number; path_with_namespace: string };
  for (const role of ROLES) {
    const level = LEVEL[role] ?? (role === 'blocked user' || role === 'expired token' ? ACCESS_LEVEL.owner : 0);
    if (level > 0 && users[role] && role !== 'Developer (session)') await addMember(s, p.id, users[role].id, level);
  }
  if (users['Developer (session)']) await addMember(s, p.id, users['Developer (session)'].id, ACCESS_LEVEL.developer);
  return { id: p.id, path: p.path_with_namespace };
}

beforeAll(async () => {
  s = await startTestServer({}, { clock });
  for (const role of ROLES) {
    if (role === 'anonymous' || role === 'wrong token') continue;
    if (role === 'admin') { users[role] = await makeUser(s, { admin: true }); continue; }
    if (role === 'read_api token') { users[role] = await makeUser(s, { scopes: ['read_api'] }); continue; }
    if (role === 'expired token') { users[role] = await makeUser(s, { expiresAt: dayFrom(clock.now(), 1) }); continue; }
    users[role] = await makeUser(s);
  }
  project = await freshProject();
  const pl = await makePipeline(s.core, project.id, 'walk:\n  script: [echo walk]\n');
  real.pipeline = pl.id;
  real.job = s.core.pipelines.latestJobs(pl.id)[0].id;
  // a project runner of the walk's project: its Maintainers may read and edit it
  real.runner = s.core.runners.register({ token: s.core.projects.get(project.id).runnersToken, protocol: 'v4', description: 'walk' }).runner.id;
  s.core.projects.createVariable(project.id, { key: real.key, value: 'v' });
  await s.api(`/api/v4/users/${users['blocked user'].id}/block`, { method: 'POST' });
  const signIn = await fetch(`${s.url}/users/sign_in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: users['Developer (session)'].username, password: users['Developer (session)'].password }) });
  session = { cookie: signIn.headers.get('set-cookie')!.split(';')[0], csrf: ((await signIn.json()) as { csrf_token: string }).csrf_token };
  clock.advance(2 * 86_400_000); // the expired token's date has passed

  for (const role of ROLES) {
    cred[role] = role === 'anonymous' ? {}
      : role === 'wrong token' ? { 'PRIVATE-TOKEN': 'glpat-' + 'w'.repeat(27) }
      : role === 'Developer (session)' ? { cookie: session.cookie, 'x-csrf-token': session.csrf }
      : { 'PRIVATE-TOKEN': users[role].token };
  }

  const app = createApp(s.core, createLogger('silent'), { pollTimeoutMs: 0 });
  routes = app.routes
    .map((r) => ({ method: r.method, path: r.path.replace(/\.json$/, ''), needs: (r.hooks as { detail?: Record<string, string> }).detail?.[PERMISSION_KEY] }))
    .filter((r, i, all) => all.findIndex((o) => o.method === r.method && o.path === r.path) === i);
}, 60_000);
afterAll(async () => s?.stop());

// ---------------------------------------------------------------- one request

/** The concrete path a role calls: real ids for reads, ids that name nothing for writes. */
async function fill(route: Route, role: Role, target: { id: number; path: string }): Promise<string> {
  const read = route.method === 'GET' || route.method === 'HEAD';
  const nothing = '999999999';
  const parts = route.path.split('/');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const seg = parts[i];
    if (!seg.startsWith(':')) { out.push(seg); continue; }
    const parent = parts[i - 1];
    const name = seg.slice(1);
    if (name === 'id' && parent === 'projects') {
      // half of the roles name the project by its path, as GitLab clients do
      out.push(ROLES.indexOf(role) % 2 ? encodeURIComponent(target.path) : String(target.id));
    } else if (name === 'id' && parent === 'users') {
      out.push(read ? String(users.Owner.id) : nothing);
    } else if (name === 'id' && parent === 'runners') {
      // an edit with `{}` changes nothing, so the real runner is safe to edit
      out.push(read || route.method === 'PUT' ? String(real.runner) : nothing);
    } else if (name === 'id' && parent === 'personal_access_tokens') {
      // one's own token: to read, the one in use; to revoke, a spare one
      const owner = users[role];
      if (!owner) out.push(nothing);
      else if (read) out.push(String((await (await s.api(`/api/v4/personal_access_tokens?user_id=${owner.id}&per_page=1`)).json() as { id: number }[])[0].id));
      else out.push(String(await spareTokenId(owner.id)));
    } else if (name === 'pipeline_id') out.push(read ? String(real.pipeline) : nothing);
    else if (name === 'job_id') out.push(read ? String(real.job) : nothing);
    else if (name === 'key') out.push(read ? real.key : 'NO_SUCH_KEY');
    else if (name === 'user_id') out.push(read ? String(users.Owner.id) : nothing);
    else out.push(nothing);
  }
  return out.join('/');
}

async function spareTokenId(userId: number): Promise<number> {
  const t = await (await s.api(`/api/v4/users/${userId}/personal_access_tokens`, { method: 'POST', json: { name: 'spare', scopes: ['api'] } })).json() as { id: number };
  return t.id;
}

/** Calls that would destroy what the other calls need get their own target. */
async function call(route: Route, role: Role): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const allowed = expected(route, role) === 'allowed';
  let target = project;
  let headers = { ...cred[role] };
  if (allowed && route.method === 'DELETE' && route.path === '/api/v4/projects/:id') target = await freshProject();
  if (allowed && route.method === 'DELETE' && route.path === '/api/v4/personal_access_tokens/self' && headers['PRIVATE-TOKEN']) {
    headers = { 'PRIVATE-TOKEN': await makeToken(s, users[role].id) };
  }
  const path = await fill(route, role, target);
  const hasBody = !['GET', 'HEAD', 'DELETE'].includes(route.method);
  const res = await fetch(s.url + path, {
    method: route.method, headers: { ...headers, ...(hasBody ? { 'content-type': 'application/json' } : {}) }, body: hasBody ? '{}' : undefined,
  });
  // A live stream (Server-Sent Events) lasts as long as its job: its status is the answer.
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, body: null };
  }
  const text = await res.text();
  let body: Record<string, unknown> | null = null;
  try { body = JSON.parse(text); } catch { /* not JSON: a log, an archive */ }
  return { status: res.status, body };
}

function judge(want: Expect, got: { status: number; body: Record<string, unknown> | null }): boolean {
  const message = got.body?.message;
  switch (want) {
    case '401': return got.status === 401;
    case '403': return got.status === 403 && got.body?.error !== 'insufficient_scope';
    case 'scope': return got.status === 403 && got.body?.error === 'insufficient_scope';
    case 'not found': return got.status === 404 && message === '404 Project Not Found';
    case 'allowed': return got.status !== 401 && got.status !== 403 && !(got.status === 404 && message === '404 Project Not Found') && got.status < 500;
  }
}

// ---------------------------------------------------------------- the tests

describe('R4 roles: every route with every role', () => {
  test('SECURITY.md names the least role of every route, as the code decides it', () => {
    const rows = securityRows();
    const people = routes.filter((r) => r.needs !== undefined);
    expect(people.length).toBeGreaterThan(50);
    const wrong = routes
      .map((r) => ({ route: `${r.method} ${r.path}`, code: leastRole(r.needs), doc: rows.get(`${r.method} ${r.path}`) ?? '(no row)' }))
      .filter((x) => x.doc !== x.code && !(x.code === '—' && x.doc === '(no row)'));
    expect(wrong).toEqual([]);
  });

  test('the OpenAPI document says what each people-facing route needs', async () => {
    const doc = await (await fetch(`${s.url}/swagger/json`)).json() as { paths: Record<string, Record<string, Record<string, unknown>>> };
    const missing = routes.filter((r) => r.needs !== undefined).filter((r) => {
      const op = doc.paths[r.path.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
      return !op || op[PERMISSION_KEY] !== r.needs || !op.summary || !(op.tags as string[] | undefined)?.length;
    }).map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
  });

  test('every route, every role', async () => {
    const mismatches: string[] = [];
    for (const route of routes.filter((r) => r.needs !== undefined)) {
      for (const role of ROLES) {
        const want = expected(route, role);
        const got = await call(route, role);
        if (!judge(want, got)) mismatches.push(`${route.method} ${route.path} as ${role}: wanted ${want}, got ${got.status} ${JSON.stringify(got.body).slice(0, 160)}`);
      }
    }
    expect(mismatches).toEqual([]);
  }, 120_000);

  test('nothing the refused calls touched changed: the project, its pipeline and the runner are intact', () => {
    expect(s.core.projects.get(project.id).id).toBe(project.id);
    expect(s.core.pipelines.get(real.pipeline).id).toBe(real.pipeline);
    expect(s.core.runners.get(real.runner).active).toBe(true);
    expect(s.core.projects.variable(project.id, real.key).value).toBe('v');
  });
});
