/**
 * R4 Security, against a server process whose stdout (pino, debug level) is captured:
 * - the credential table of SECURITY.md: every route of the app has a row (checked against
 *   the app's own route list), and every row is tried with a wrong, a missing and (where it
 *   destroys nothing) the right credential;
 * - tokens are stored hashed: the SQLite files hold no runner, job or admin token;
 * - no request data becomes a path; body, header and trace sizes are limited;
 * - secrets and masked variables never reach traces or logs, nor does the admin token;
 * - a form key like `__proto__[token]` cannot reach Object.prototype.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { openCore } from '../../src/server';
import { jobRows, withDb } from './support/data';
import { SECRET_VALUE, startFixture, type Fixture } from './support/fixture';
import { ADMIN_TOKEN, REGISTRATION_TOKEN } from './support/process';
import { V1Client } from './support/v1';

const MiB = 1024 * 1024;
let fx: Fixture;
let v1: V1Client;
/** `<namespace>/<path>` of the fixture's first project (dashboard pages) */
let projectPath: string;
beforeAll(async () => {
  fx = await startFixture({ 'log-level': 'debug', 'max-trace-size': '1', 'max-artifact-size': '1' }, { projects: 2 });
  v1 = new V1Client(() => fx.baton.url);
  const project = await fetch(`${fx.baton.url}/api/v4/projects/${fx.creds.projectId}`, { headers: { 'PRIVATE-TOKEN': ADMIN_TOKEN } });
  projectPath = ((await project.json()) as { path_with_namespace: string }).path_with_namespace;
}, 60_000);
afterAll(() => fx?.close());

// ---------------------------------------------------------------- the credential table

/** `page`: a dashboard page — a session cookie (or a token); without a valid one it redirects to the sign-in page. */
type Cred = 'registration' | 'runner' | 'job' | 'admin' | 'webhook' | 'trigger' | 'page' | 'none';
interface Row {
  method: string;
  path: string;
  cred: Cred;
  /** status for a wrong credential, and for none at all */
  wrong: number;
  missing: number;
  /** also try the right credential (only where that destroys nothing the table needs) */
  tryRight?: boolean;
}

const R = (method: string, path: string, cred: Cred, wrong: number, missing: number, tryRight = true): Row => ({ method, path, cred, wrong, missing, tryRight });
const rest = (method: string, path: string, tryRight = method === 'GET'): Row => R(method, path, 'admin', 401, 401, tryRight);
const page = (path: string): Row => R('GET', path, 'page', 302, 302);

export const TABLE: Row[] = [
  R('GET', '/-/health', 'none', 200, 200), R('GET', '/api/v4/version', 'none', 200, 200), R('GET', '/swagger', 'none', 200, 200),
  R('GET', '/-/liveness', 'none', 200, 200), R('GET', '/-/readiness', 'none', 200, 200),
  // open unless --metrics-token is set (test/http/metrics.test.ts tries the token)
  R('GET', '/metrics', 'none', 200, 200),
  R('GET', '/swagger/json', 'none', 200, 200), R('GET', '/swagger/assets/swagger-ui.css', 'none', 200, 200), R('GET', '/swagger/assets/swagger-ui-bundle.js', 'none', 200, 200),
  // GitLab CI API v1
  R('POST', '/ci/api/v1/runners/register', 'registration', 403, 400),
  R('DELETE', '/ci/api/v1/runners/delete', 'runner', 403, 400, false),
  R('POST', '/ci/api/v1/builds/register', 'runner', 403, 403),
  R('PUT', '/ci/api/v1/builds/:id', 'runner', 403, 403),
  R('PATCH', '/ci/api/v1/builds/:id/trace.txt', 'job', 403, 403),
  R('POST', '/ci/api/v1/builds/:id/artifacts', 'job', 403, 403),
  R('GET', '/ci/api/v1/builds/:id/artifacts', 'job', 403, 403),
  R('DELETE', '/ci/api/v1/builds/:id/artifacts', 'job', 403, 403, false),
  // runner API v4
  R('POST', '/api/v4/runners', 'registration', 403, 400),
  R('POST', '/api/v4/runners/verify', 'runner', 403, 400),
  R('DELETE', '/api/v4/runners', 'runner', 403, 400, false),
  R('POST', '/api/v4/user/runners', 'admin', 401, 401),
  R('POST', '/api/v4/jobs/request', 'runner', 403, 403),
  R('PUT', '/api/v4/jobs/:id', 'job', 403, 403),
  R('PATCH', '/api/v4/jobs/:id/trace', 'job', 403, 403),
  R('POST', '/api/v4/jobs/:id/artifacts', 'job', 403, 403),
  R('GET', '/api/v4/jobs/:id/artifacts', 'job', 403, 403),
  // REST API: the admin token, in PRIVATE-TOKEN or Authorization: Bearer
  rest('GET', '/api/v4/projects'), rest('POST', '/api/v4/projects'), rest('GET', '/api/v4/projects/:id'), rest('PUT', '/api/v4/projects/:id'),
  rest('DELETE', '/api/v4/projects/:id'),
  rest('GET', '/api/v4/projects/:id/variables'), rest('POST', '/api/v4/projects/:id/variables'), rest('GET', '/api/v4/projects/:id/variables/:key'),
  rest('PUT', '/api/v4/projects/:id/variables/:key'), rest('DELETE', '/api/v4/projects/:id/variables/:key'),
  rest('POST', '/api/v4/projects/:id/pipeline'), rest('GET', '/api/v4/projects/:id/pipelines'), rest('GET', '/api/v4/projects/:id/pipelines/:pipeline_id'),
  rest('GET', '/api/v4/projects/:id/pipelines/:pipeline_id/jobs'), rest('GET', '/api/v4/projects/:id/pipelines/:pipeline_id/variables'),
  rest('POST', '/api/v4/projects/:id/pipelines/:pipeline_id/cancel'),
  rest('POST', '/api/v4/projects/:id/pipelines/:pipeline_id/retry'), rest('DELETE', '/api/v4/projects/:id/pipelines/:pipeline_id'),
  rest('POST', '/api/v4/projects/:id/ci/lint'), rest('GET', '/api/v4/projects/:id/ci/lint'),
  rest('GET', '/api/v4/projects/:id/jobs'), rest('GET', '/api/v4/projects/:id/jobs/:job_id'), rest('GET', '/api/v4/projects/:id/jobs/:job_id/trace'),
  rest('POST', '/api/v4/projects/:id/jobs/:job_id/cancel'), rest('POST', '/api/v4/projects/:id/jobs/:job_id/retry'), rest('POST', '/api/v4/projects/:id/jobs/:job_id/play'),
  rest('GET', '/api/v4/projects/:id/jobs/:job_id/artifacts'), rest('DELETE', '/api/v4/projects/:id/jobs/:job_id/artifacts'), rest('POST', '/api/v4/projects/:id/jobs/:job_id/artifacts/keep'),
  rest('GET', '/api/v4/runners'), rest('GET', '/api/v4/runners/all'), rest('GET', '/api/v4/runners/:id'), rest('PUT', '/api/v4/runners/:id'), rest('DELETE', '/api/v4/runners/:id'),
  rest('GET', '/api/v4/projects/:id/runners'), rest('POST', '/api/v4/projects/:id/runners'), rest('DELETE', '/api/v4/projects/:id/runners/:runner_id'),
  // pipeline execution (rest-api/execution.ts)
  rest('GET', '/api/v4/projects/:id/pipelines/:pipeline_id/test_report'), rest('GET', '/api/v4/projects/:id/pipelines/:pipeline_id/test_report_summary'),
  rest('GET', '/api/v4/projects/:id/pipelines/:pipeline_id/bridges'),
  rest('GET', '/api/v4/projects/:id/resource_groups'), rest('GET', '/api/v4/projects/:id/resource_groups/:key'),
  rest('GET', '/api/v4/projects/:id/resource_groups/:key/upcoming_jobs'), rest('PUT', '/api/v4/projects/:id/resource_groups/:key'),
  rest('GET', '/api/v4/projects/:id/environments'), rest('GET', '/api/v4/projects/:id/environments/:environment_id'),
  rest('GET', '/api/v4/projects/:id/deployments'),
  // people: members, users, personal access tokens (every role is walked by roles.test.ts)
  rest('GET', '/api/v4/projects/:id/members'), rest('GET', '/api/v4/projects/:id/members/all'), rest('POST', '/api/v4/projects/:id/members'),
  rest('GET', '/api/v4/projects/:id/members/:user_id'), rest('GET', '/api/v4/projects/:id/members/all/:user_id'),
  rest('PUT', '/api/v4/projects/:id/members/:user_id'), rest('DELETE', '/api/v4/projects/:id/members/:user_id'),
  rest('GET', '/api/v4/users'), rest('POST', '/api/v4/users'), rest('GET', '/api/v4/users/:id'), rest('PUT', '/api/v4/users/:id'), rest('DELETE', '/api/v4/users/:id'),
  rest('POST', '/api/v4/users/:id/block'), rest('POST', '/api/v4/users/:id/unblock'), rest('GET', '/api/v4/user'),
  rest('POST', '/api/v4/users/:id/personal_access_tokens'), rest('POST', '/api/v4/user/personal_access_tokens'),
  rest('GET', '/api/v4/personal_access_tokens'), rest('GET', '/api/v4/personal_access_tokens/self'), rest('DELETE', '/api/v4/personal_access_tokens/self'),
  rest('GET', '/api/v4/personal_access_tokens/:id'), rest('DELETE', '/api/v4/personal_access_tokens/:id'),
  // dashboard sign-in: a password, not a token (sessions.test.ts has the cases)
  R('POST', '/users/sign_in', 'none', 400, 400), R('POST', '/users/sign_out', 'none', 204, 204),
  // push webhooks: the signature over the body (or X-Gitlab-Token) made with the project's webhook_secret
  R('POST', '/api/v4/projects/:id/webhook', 'webhook', 401, 401),
  rest('GET', '/api/v4/projects/:id/webhook_secret'), rest('POST', '/api/v4/projects/:id/webhook_secret/rotate'), rest('GET', '/api/v4/projects/:id/forge/deliveries'),
  // trigger tokens (or a running job's CI_JOB_TOKEN) in `token`: GitLab's 404 for a wrong one, 400 for none
  R('POST', '/api/v4/projects/:id/trigger/pipeline', 'trigger', 404, 400),
  R('POST', '/api/v4/projects/:id/ref/:ref/trigger/pipeline', 'trigger', 404, 400),
  rest('GET', '/api/v4/projects/:id/triggers'), rest('POST', '/api/v4/projects/:id/triggers'), rest('GET', '/api/v4/projects/:id/triggers/:trigger_id'),
  rest('PUT', '/api/v4/projects/:id/triggers/:trigger_id'), rest('DELETE', '/api/v4/projects/:id/triggers/:trigger_id'),
  rest('GET', '/api/v4/projects/:id/pipeline_schedules'), rest('POST', '/api/v4/projects/:id/pipeline_schedules'),
  rest('GET', '/api/v4/projects/:id/pipeline_schedules/:schedule_id'), rest('GET', '/api/v4/projects/:id/pipeline_schedules/:schedule_id/pipelines'),
  rest('PUT', '/api/v4/projects/:id/pipeline_schedules/:schedule_id'),
  rest('DELETE', '/api/v4/projects/:id/pipeline_schedules/:schedule_id'), rest('POST', '/api/v4/projects/:id/pipeline_schedules/:schedule_id/play'),
  rest('POST', '/api/v4/projects/:id/pipeline_schedules/:schedule_id/variables'), rest('PUT', '/api/v4/projects/:id/pipeline_schedules/:schedule_id/variables/:key'),
  rest('DELETE', '/api/v4/projects/:id/pipeline_schedules/:schedule_id/variables/:key'),
  rest('GET', '/api/v4/projects/:id/hooks'), rest('POST', '/api/v4/projects/:id/hooks'), rest('GET', '/api/v4/projects/:id/hooks/:hook_id'),
  rest('PUT', '/api/v4/projects/:id/hooks/:hook_id'), rest('DELETE', '/api/v4/projects/:id/hooks/:hook_id'),
  // releases (a running job's JOB-TOKEN too: test/http/releases.test.ts)
  rest('GET', '/api/v4/projects/:id/releases'), rest('POST', '/api/v4/projects/:id/releases'), rest('GET', '/api/v4/projects/:id/releases/:tag_name'),
  rest('PUT', '/api/v4/projects/:id/releases/:tag_name'), rest('DELETE', '/api/v4/projects/:id/releases/:tag_name'),
  // it would change the token the registration rows use
  rest('POST', '/api/v4/runners/reset_registration_token', false),
  // live streams (Server-Sent Events)
  rest('GET', '/api/v4/projects/:id/jobs/:job_id/trace/stream'), rest('GET', '/api/v4/projects/:id/pipelines/:pipeline_id/stream'),
  // the dashboard
  R('GET', '/users/sign_in', 'none', 200, 200), R('GET', '/assets/:file', 'none', 200, 200),
  page('/'), page('/admin/runners'), page('/admin/users'), page('/:namespace/:project'), page('/:namespace/:project/-/pipelines'),
  page('/:namespace/:project/-/pipelines/new'), page('/:namespace/:project/-/runners'), page('/:namespace/:project/-/pipelines/:pipeline_id'), page('/:namespace/:project/-/jobs/:job_id'),
  page('/:namespace/:project/-/jobs/:job_id/raw'), page('/:namespace/:project/-/jobs/:job_id/artifacts/download'),
  page('/:namespace/:project/-/jobs/:job_id/artifacts/browse'),
];

/** The seeded project's webhook secret (kept as-is, like runners_token). */
const webhookSecret = () => withDb(fx.dataDir, (db) => (db.query('SELECT webhook_secret AS s FROM projects WHERE id = ?').get(fx.creds.projectId) as { s: string }).s);

/** A GitHub-style push delivery signed with `secret` (no signature when undefined). */
function webhookDelivery(secret: string | undefined): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify({ ref: 'refs/heads/main', before: '0'.repeat(40), after: 'a9738e26eea81eb998fab5ed3f808875eaec5196', head_commit: { id: 'a9738e26eea81eb998fab5ed3f808875eaec5196', message: 'table row' } });
  const headers: Record<string, string> = { 'content-type': 'application/json', 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': crypto.randomUUID() };
  if (secret !== undefined) headers['X-Hub-Signature-256'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  return { headers, body };
}

function request(row: Row, cred: string | undefined): { url: string; init: RequestInit } {
  const c = fx.creds;
  const v4 = row.path.startsWith('/api/v4/jobs');
  const path = row.path
    .replace(':id/', `${row.path.startsWith('/api/v4/projects') ? c.projectId : row.path.startsWith('/api/v4/runners') ? 1 : v4 ? c.jobV4 : c.jobV1}/`)
    .replace(/:id$/, String(row.path.startsWith('/api/v4/projects') ? c.projectId : row.path.startsWith('/api/v4/runners') ? 1 : v4 ? c.jobV4 : c.jobV1))
    .replace(':pipeline_id', String(c.pipelineId)).replace(':job_id', String(c.jobV1)).replace(':key', 'SECRET').replace(':runner_id', '1')
    .replace(':trigger_id', '1').replace(':schedule_id', '1').replace(':hook_id', '1').replace(':ref', 'main').replace(':environment_id', '1')
    .replace(':namespace/:project', projectPath).replace(':file', 'favicon.svg');
  const headers: Record<string, string> = {};
  let body: NonNullable<RequestInit['body']> | undefined;
  if ((row.cred === 'admin' || row.cred === 'page') && cred !== undefined) headers['PRIVATE-TOKEN'] = cred;
  if (row.cred === 'webhook') {
    const d = webhookDelivery(cred);
    Object.assign(headers, d.headers);
    body = d.body;
  }
  if (row.cred === 'trigger') {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(cred === undefined ? { ref: 'main' } : { token: cred, ref: 'main' });
  }
  if (row.cred === 'job' && cred !== undefined) headers[row.path.startsWith('/ci/') ? 'BUILD-TOKEN' : 'JOB-TOKEN'] = cred;
  if (row.cred === 'registration' || row.cred === 'runner') {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(cred === undefined ? {} : { token: cred });
  }
  if (row.path.endsWith('/trace') || row.path.endsWith('/trace.txt')) {
    if (row.method === 'PATCH') { headers['content-range'] = '999999-1000000'; body = 'x'; }
  }
  if (row.method === 'POST' && row.path.endsWith('/artifacts')) {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(10)]), 'table.zip');
    body = form;
  }
  // An invalid body on purpose: the credential must be judged first (401, not 400).
  if (row.cred === 'admin' && (row.method === 'POST' || row.method === 'PUT') && !body) { headers['content-type'] = 'application/json'; body = '{"name":{}}'; }
  return { url: fx.baton.url + path, init: { method: row.method, headers, body, redirect: 'manual' } };
}

function rightCred(row: Row): string | undefined {
  const c = fx.creds;
  return {
    registration: REGISTRATION_TOKEN, runner: row.path.startsWith('/ci/') ? c.runnerV1 : c.runnerV4, job: row.path.startsWith('/ci/') ? c.jobV1Token : c.jobV4Token,
    // a running job's CI_JOB_TOKEN triggers pipelines of its own project
    admin: ADMIN_TOKEN, page: ADMIN_TOKEN, webhook: row.cred === 'webhook' ? webhookSecret() : undefined, trigger: jobOfProject(c.projectId), none: undefined,
  }[row.cred];
}

/** The token of a running job of that project (either runner's). */
function jobOfProject(projectId: number): string {
  const c = fx.creds;
  const rows = jobRows(fx.dataDir);
  const v1 = rows.find((r) => r.id === c.jobV1)!;
  return withDb(fx.dataDir, (db) => (db.query('SELECT project_id AS p FROM pipelines WHERE id = ?').get(v1.pipeline_id) as { p: number }).p) === projectId ? c.jobV1Token : c.jobV4Token;
}

/** A credential of the wrong kind or of someone else, for each kind. */
function wrongCreds(row: Row): string[] {
  const c = fx.creds;
  switch (row.cred) {
    case 'registration': return [c.runnerV1, ADMIN_TOKEN, REGISTRATION_TOKEN + 'x'];
    case 'runner': return [REGISTRATION_TOKEN, row.path.startsWith('/ci/') ? c.jobV1Token : c.jobV4Token, 'glrt-' + 'x'.repeat(27)];
    // the other job's token: a valid token, of a job of the other project
    case 'job': return [row.path.startsWith('/ci/') ? c.jobV4Token : c.jobV1Token, ADMIN_TOKEN, 'glcbt-' + 'x'.repeat(27)];
    case 'admin': case 'page': return [REGISTRATION_TOKEN, c.runnerV1, c.jobV1Token, ADMIN_TOKEN + 'x', ADMIN_TOKEN.slice(0, -1)];
    // the project's runners_token, the admin token, a near miss of the secret
    case 'webhook': return [c.projectToken, ADMIN_TOKEN, webhookSecret() + 'x', webhookSecret().slice(1)];
    case 'trigger': return [ADMIN_TOKEN, REGISTRATION_TOKEN, c.runnerV4, c.projectToken, 'glptt-' + '0'.repeat(40)];
    default: return ['anything'];
  }
}

describe('R4 credential table', () => {
  test('every route of the app has a row, and SECURITY.md lists every row with its answer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-routes-'));
    try {
      const core = openCore({ ...loadConfig({}, {}), dataDir: dir, logLevel: 'silent' });
      const routes = createApp(core, createLogger('silent'), { pollTimeoutMs: 0 }).routes
        .map((r) => `${r.method} ${r.path.replace(/\.json$/, '')}`);
      core.deps.db.$client.close();
      const rows = new Set(TABLE.map((r) => `${r.method} ${r.path}`));
      expect([...new Set(routes)].filter((r) => !rows.has(r)).sort()).toEqual([]);
      expect([...rows].filter((r) => !routes.includes(r)).sort()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const doc = readFileSync(resolve(import.meta.dir, '../../SECURITY.md'), 'utf8');
    const missing = TABLE.filter((r) => {
      const line = doc.split('\n').find((l) => l.includes(`\`${r.method} ${r.path}\``));
      return !line || (r.cred !== 'none' && !line.includes(String(r.wrong)));
    }).map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
  });

  for (const row of TABLE) {
    test(`${row.method} ${row.path}: wrong → ${row.wrong}, none → ${row.missing}`, async () => {
      const seen: Record<string, number> = {};
      for (const w of wrongCreds(row)) {
        const { url, init } = request(row, w);
        seen[w.slice(0, 12)] = (await fetch(url, init)).status;
      }
      const none = request(row, undefined);
      seen.none = (await fetch(none.url, none.init)).status;
      const expected = Object.fromEntries(Object.keys(seen).map((k) => [k, k === 'none' ? row.missing : row.wrong]));
      expect(seen).toEqual(expected);
      if (row.tryRight && row.cred !== 'none') {
        const { url, init } = request(row, rightCred(row));
        const status = (await fetch(url, init)).status;
        expect(status === 401 || status === 403 || (row.cred === 'page' && status === 302)).toBe(false);
      }
    });
  }

  test('a job token works only for its own job; a project token only for its own project', async () => {
    const c = fx.creds;
    const rows = jobRows(fx.dataDir);
    const pipelineOf = (id: number) => rows.find((r) => r.id === id)!.pipeline_id;
    // seeded: pipeline 1 belongs to project 1, pipeline 2 to project 2
    const projectTwoJob = rows.find((r) => r.pipeline_id === fx.seeded.pipelines[1] && r.status === 'running')!;
    expect(pipelineOf(projectTwoJob.id)).not.toBe(fx.seeded.pipelines[0]);
    // project 1's runners token (v1 accepts it on build endpoints) on a job of project 2
    expect((await v1.patchTrace(projectTwoJob.id, c.projectToken, 0, new Uint8Array(1))).status).toBe(403);
    expect((await v1.patchTrace(projectTwoJob.id, fx.seeded.runnersTokens[1], 0, new Uint8Array(1))).status).not.toBe(403);
    // a runner cannot update a job that another runner holds
    expect(await v1.update(c.jobV4, c.runnerV1, 'success')).toBe(404);
  });
});

// ---------------------------------------------------------------- secrets at rest and in logs

/** Every byte Baton keeps: the database with its WAL, traces, archives. */
function storedBytes(): Buffer {
  const parts: Buffer[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else parts.push(readFileSync(join(d, e.name)));
    }
  };
  walk(fx.dataDir);
  return Buffer.concat(parts);
}

describe('R4 secrets', () => {
  test('traces are masked: the secret variable, the job token and the project token never reach disk', async () => {
    const c = fx.creds;
    const line = `token ${c.jobV1Token} secret ${SECRET_VALUE} project ${c.projectToken}\n`;
    const len = (await v1.patchTrace(c.jobV1, c.jobV1Token, c.jobV1Length, new TextEncoder().encode(line))).range!;
    expect(len).toBe(c.jobV1Length + line.length);
    c.jobV1Length = len;
    const res = await fetch(`${fx.baton.url}/api/v4/projects/${c.projectId}/jobs/${c.jobV1}/trace`, { headers: { 'PRIVATE-TOKEN': ADMIN_TOKEN } });
    const shown = await res.text();
    expect(shown).toContain(`token ${'x'.repeat(c.jobV1Token.length)} secret ${'x'.repeat(SECRET_VALUE.length)}`);
    for (const s of [c.jobV1Token, SECRET_VALUE, c.projectToken]) expect(shown).not.toContain(s);
  });

  test('the data dir holds no runner, job or admin token in clear', async () => {
    // a few more calls that carry tokens, so the WAL has seen them
    await fetch(`${fx.baton.url}/api/v4/runners/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: fx.creds.runnerV4 }) });
    await v1.requestJob(fx.creds.runnerV1);
    const bytes = storedBytes();
    const c = fx.creds;
    for (const [what, token] of Object.entries({ admin: ADMIN_TOKEN, runnerV1: c.runnerV1, runnerV4: c.runnerV4, jobV1: c.jobV1Token, jobV4: c.jobV4Token })) {
      expect(`${what}: ${bytes.includes(Buffer.from(token))}`).toBe(`${what}: false`);
    }
    // (the registration token and project runners tokens are kept as they are, by design: admins are shown them again)
  });

  test('passwords, personal access tokens and session cookies reach neither the data dir nor the log', async () => {
    const admin = { 'PRIVATE-TOKEN': ADMIN_TOKEN, 'content-type': 'application/json' };
    const password = 'a-password-nobody-may-see-42';
    const user = await (await fetch(`${fx.baton.url}/api/v4/users`, { method: 'POST', headers: admin, body: JSON.stringify({ username: 'secret-keeper', name: 'S', password }) })).json() as { id: number };
    const pat = await (await fetch(`${fx.baton.url}/api/v4/users/${user.id}/personal_access_tokens`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'x', scopes: ['api'] }) })).json() as { token: string };
    expect((await fetch(`${fx.baton.url}/api/v4/user`, { headers: { authorization: `Bearer ${pat.token}` } })).status).toBe(200);
    const signIn = await fetch(`${fx.baton.url}/users/sign_in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'secret-keeper', password }) });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0];
    expect((await fetch(`${fx.baton.url}/api/v4/user`, { headers: { cookie } })).status).toBe(200);
    // a wrong password and a wrong cookie, too
    await fetch(`${fx.baton.url}/users/sign_in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `login=secret-keeper&password=${password}x` });
    await fetch(`${fx.baton.url}/api/v4/user`, { headers: { cookie: `${cookie}x` } });
    await Bun.sleep(300); // pino writes asynchronously
    const session = cookie.split('=')[1];
    const bytes = storedBytes();
    const out = fx.baton.output();
    for (const [what, secret] of Object.entries({ password, pat: pat.token, session })) {
      expect(`${what}: ${bytes.includes(Buffer.from(secret))} ${out.includes(secret)}`).toBe(`${what}: false false`);
    }
  });

  test('logs carry no token, secret or query string', async () => {
    const c = fx.creds;
    // tokens in query strings, headers and bodies, answered with success and with failure
    await fetch(`${fx.baton.url}/ci/api/v1/builds/${c.jobV1}/artifacts?token=${c.jobV1Token}`);
    await fetch(`${fx.baton.url}/ci/api/v1/builds/${c.jobV1}/artifacts?token=${c.jobV4Token}`);
    await fetch(`${fx.baton.url}/api/v4/projects?private_token=${ADMIN_TOKEN}`);
    await fetch(`${fx.baton.url}/api/v4/projects/${c.projectId}/variables`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    await fetch(`${fx.baton.url}/api/v4/jobs/${c.jobV4}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: c.jobV4Token, state: 'running', trace: `echo ${SECRET_VALUE}` }) });
    await fetch(`${fx.baton.url}/api/v4/runners`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: REGISTRATION_TOKEN, info: { name: 12 } }) });
    await Bun.sleep(300); // pino writes asynchronously
    const out = fx.baton.output();
    expect(out).toContain('"msg":"request"'); // the log is there, at debug level
    const leaks = Object.entries({ ADMIN_TOKEN, REGISTRATION_TOKEN, SECRET_VALUE, runnerV1: c.runnerV1, runnerV4: c.runnerV4, jobV1: c.jobV1Token, jobV4: c.jobV4Token, project: c.projectToken })
      .filter(([, v]) => out.includes(v)).map(([k]) => k);
    expect(leaks).toEqual([]);
    expect(out).not.toContain('?token=');
    expect(out).not.toContain('private_token');
  });
});

// ---------------------------------------------------------------- paths and limits

describe('R4 paths and limits', () => {
  test('no request data becomes a path: hostile artifact names are refused and nothing lands outside the data dir', async () => {
    const c = fx.creds;
    const victim = join(tmpdir(), `baton-evil-${process.pid}.zip`);
    for (const name of [`../../../../../../..${victim}`, '..', 'a/b.zip', 'a\u0000b.zip', victim]) {
      const status = await v1.uploadArtifact(c.jobV1, c.jobV1Token, new Uint8Array(8), name);
      expect(`${name}: ${status}`).toBe(`${name}: 400`);
    }
    expect(existsSync(victim)).toBe(false);
    // a name with quotes and separators is stored sanitised: it cannot break the download header
    expect(await v1.uploadArtifact(c.jobV1, c.jobV1Token, new Uint8Array(8), 'a"; filename=evil.sh;.zip')).toBe(201);
    const res = await fetch(`${fx.baton.url}/ci/api/v1/builds/${c.jobV1}/artifacts`, { headers: { 'BUILD-TOKEN': c.jobV1Token } });
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename=[A-Za-z0-9_.+-]+$/);
    // job ids in paths are numbers or nothing
    for (const id of ['..%2F..%2Fbaton.db', '1%2F..%2F2', '%2e%2e']) {
      expect((await fetch(`${fx.baton.url}/ci/api/v1/builds/${id}/artifacts`, { headers: { 'BUILD-TOKEN': c.jobV1Token } })).status).toBe(404);
    }
    const files = readdirSync(join(fx.dataDir, 'artifacts'));
    expect(files.every((f) => /^\d+\.zip$/.test(f))).toBe(true);
  });

  test('parameter bodies are capped at 16 MiB while reading (declared or chunked), headers at 16 KiB', async () => {
    const big = '{"token":"' + 'a'.repeat(17 * MiB) + '"}';
    const declared = await fetch(`${fx.baton.url}/ci/api/v1/runners/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(declared.status).toBe(413);
    const rss = fx.baton.rss()!;
    const chunked = await fetch(`${fx.baton.url}/api/v4/runners`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: new ReadableStream({ start(ctl) { for (let i = 0; i < 40; i++) ctl.enqueue(new TextEncoder().encode(i ? 'a'.repeat(MiB) : '{"token":"')); ctl.close(); } }),
    });
    expect(chunked.status).toBe(413);
    expect(fx.baton.rss()!).toBeLessThan(rss + 200 * MiB);
    const header = await fetch(`${fx.baton.url}/-/health`, { headers: { 'x-big': 'a'.repeat(20 * 1024) } });
    expect(header.status).toBe(431);
  });

  test('artifacts at --max-artifact-size and traces over --max-trace-size are refused', async () => {
    const c = fx.creds;
    expect(await v1.uploadArtifact(c.jobV1, c.jobV1Token, new Uint8Array(MiB))).toBe(413);
    // a fresh job, so the trace limit can end it
    const created = await fetch(`${fx.baton.url}/api/v4/projects/${c.projectId}/pipeline`, {
      method: 'POST', headers: { 'PRIVATE-TOKEN': ADMIN_TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify({ ref: 'main', sha: 'b'.repeat(40), content: 'limit:\n  script: [echo]\n' }),
    });
    expect(created.status).toBe(201);
    const job = (await v1.requestJob(c.runnerV1)).job!;
    expect(job).toBeDefined();
    const slice = new Uint8Array(600 * 1024).fill(0x61);
    expect((await v1.patchTrace(job.id, job.token, 0, slice)).status).toBe(202);
    // the job is failed; 403 makes a 1.x runner abort (a 413 would be retried)
    expect((await v1.patchTrace(job.id, job.token, slice.length, slice)).status).toBe(403);
    const row = jobRows(fx.dataDir).find((r) => r.id === job.id)!;
    expect([row.status, row.failure_reason]).toEqual(['failed', 'trace_size_exceeded']);
    // one body over the limit is refused before it is read
    expect((await v1.patchTrace(c.jobV1, c.jobV1Token, c.jobV1Length, new Uint8Array(MiB + 1))).status).toBe(413);
  });

  test('a form key cannot reach Object.prototype (`__proto__[token]=…`)', async () => {
    const form = `__proto__[token]=${REGISTRATION_TOKEN}&constructor[prototype][token]=${REGISTRATION_TOKEN}&description=x`;
    const first = await fetch(`${fx.baton.url}/ci/api/v1/runners/register`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    expect(first.status).toBe(400);
    // had the prototype been polluted, a body without a token would now register a runner
    const empty = await fetch(`${fx.baton.url}/ci/api/v1/runners/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(empty.status).toBe(400);
  });
});
