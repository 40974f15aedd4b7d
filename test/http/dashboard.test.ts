/**
 * The dashboard over HTTP (the browser test drives it in Chromium): who gets which page,
 * the security headers, escaping, the raw log with ranges, the artifacts browser and
 * download, the embedded assets, and the weight of a page (under 200 KB gzipped).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { addMember, createAccount, ROLE, type Account } from '../support/accounts';
import { FakeRunnerV4 } from '../support/fake-runner-v4';
import { makePipeline, REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';
import { makeZip } from '../support/zip';

let s: TestServer;
let admin: Account;
let dev: Account;
let reporter: Account;
let stranger: Account;
let maintainer: Account;
let runnerId: number;
let cookies: Record<string, string>;
let csrf: Record<string, string>;
let projectId: number;
let jobId: number;
let pipelineId: number;
let otherJob: number;
const LOG = 'line one\n\x1b[31mred two\x1b[0m\nthree\n';

async function signIn(who: Account): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${s.url}/users/sign_in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: who.username, password: who.password }) });
  expect(res.status).toBe(200);
  return { cookie: res.headers.get('set-cookie')!.split(';')[0], csrf: ((await res.json()) as { csrf_token: string }).csrf_token };
}

const get = (path: string, who?: string, headers: Record<string, string> = {}) =>
  fetch(s.url + path, { redirect: 'manual', headers: { ...(who ? { cookie: cookies[who] } : {}), ...headers } });

beforeAll(async () => {
  s = await startTestServer();
  admin = await createAccount(s, { username: 'root2', admin: true });
  dev = await createAccount(s, { username: 'devi' });
  reporter = await createAccount(s, { username: 'repo' });
  stranger = await createAccount(s, { username: 'stranger' });
  maintainer = await createAccount(s, { username: 'maint' });
  const p = await (await s.api('/api/v4/projects', { method: 'POST', json: { name: 'Web <App>', path: 'web', namespace: 'team', repo_url: 'https://example.com/web.git' } })).json() as { id: number };
  projectId = p.id;
  await addMember(s, projectId, dev.id, ROLE.developer);
  await addMember(s, projectId, reporter.id, ROLE.reporter);
  await addMember(s, projectId, maintainer.id, ROLE.maintainer);
  runnerId = s.core.runners.register({ token: s.core.projects.get(projectId).runnersToken, protocol: 'v4', description: 'team-runner' }).runner.id;
  const pipeline = await makePipeline(s.core, projectId, 'build:\n  script: make\n  artifacts:\n    paths: [out/]\n');
  pipelineId = pipeline.id;
  const runner = await FakeRunnerV4.register(s.url, REGISTRATION_TOKEN);
  const zip = makeZip([{ path: 'out/', data: '' }, { path: 'out/<b>report</b>.txt', data: 'x'.repeat(2048) }]);
  const result = await runner.runOne({ build: { output: ['line one', '\x1b[31mred two\x1b[0m', 'three'], artifacts: zip } });
  jobId = result!.jobId;
  const other = await (await s.api('/api/v4/projects', { method: 'POST', json: { name: 'other', namespace: 'team', repo_url: 'https://example.com/o.git' } })).json() as { id: number };
  otherJob = s.core.pipelines.latestJobs((await makePipeline(s.core, other.id, 'x:\n  script: y\n')).id)[0].id;
  cookies = {};
  csrf = {};
  for (const [k, a] of Object.entries({ admin, dev, reporter, stranger, maintainer })) ({ cookie: cookies[k], csrf: csrf[k] } = await signIn(a));
}, 30_000);
afterAll(async () => { await s.stop(); });

describe('who gets which page', () => {
  const P = () => ({ project: '/team/web', pipelines: '/team/web/-/pipelines', pipeline: `/team/web/-/pipelines/${pipelineId}`, job: `/team/web/-/jobs/${jobId}` });
  // (every row has all five fields: bun passes a `done` callback in place of a missing one)
  const cases: [string, () => string, string | undefined, number, string][] = [
    ['anonymous /', () => '/', undefined, 302, '/users/sign_in'],
    ['anonymous project page keeps where it was going', () => P().project, undefined, 302, '/users/sign_in?redirect_to=%2Fteam%2Fweb'],
    ['anonymous admin page', () => '/admin/runners', undefined, 302, '/users/sign_in?redirect_to=%2Fadmin%2Frunners'],
    ['a wrong cookie is no session', () => '/', 'garbage', 302, '/users/sign_in'],
    ['sign-in page', () => '/users/sign_in', undefined, 200, 'Sign in to Baton'],
    ['signed in, the sign-in page goes home', () => '/users/sign_in', 'dev', 302, '/'],
    ['… or where it was asked to', () => '/users/sign_in?redirect_to=%2Fteam%2Fweb', 'dev', 302, '/team/web'],
    ['never to another site', () => '/users/sign_in?redirect_to=%2F%2Fevil.example', 'dev', 302, '/'],
    ['projects', () => '/', 'dev', 200, 'team / Web &lt;App&gt;'],
    ['project', () => P().project, 'reporter', 200, 'Recent pipelines'],
    ['pipelines', () => P().pipelines, 'reporter', 200, 'class="list pipelines"'],
    ['pipelines with a filter nothing matches', () => `${P().pipelines}?status=failed&ref=nope`, 'reporter', 200, 'No pipelines match this filter'],
    ['pipeline', () => P().pipeline, 'reporter', 200, 'data-graph'],
    ['job', () => P().job, 'reporter', 200, 'data-log'],
    ['run form (Developer)', () => `${P().pipelines}/new`, 'dev', 200, 'Run pipeline'],
    ['run form (Reporter): 403', () => `${P().pipelines}/new`, 'reporter', 403, 'Not allowed'],
    ['a non-member: 404, nothing said about the project', () => P().project, 'stranger', 404, 'Not found'],
    ['a non-member, job page', () => P().job, 'stranger', 404, ''],
    ['unknown project', () => '/team/nothing', 'admin', 404, ''],
    ['unknown pipeline', () => '/team/web/-/pipelines/999999', 'admin', 404, ''],
    ['pipeline id that is no number', () => '/team/web/-/pipelines/abc', 'admin', 404, ''],
    ["another project's job", () => `/team/web/-/jobs/${otherJob}`, 'admin', 404, ''],
    ['project runners (Maintainer)', () => '/team/web/-/runners', 'maintainer', 200, 'team-runner'],
    ['project runners (Developer): 403', () => '/team/web/-/runners', 'dev', 403, ''],
    ['admin runners (admin)', () => '/admin/runners', 'admin', 200, 'registration token'],
    ['admin runners (not an admin): 403', () => '/admin/runners', 'dev', 403, ''],
    ['admin users (admin)', () => '/admin/users', 'admin', 200, 'stranger'],
    ['admin users (not an admin): 403', () => '/admin/users', 'reporter', 403, ''],
  ];
  test.each(cases)('%s', async (_, path, who, status, expected) => {
    const res = await get(path(), who === 'garbage' ? undefined : who, who === 'garbage' ? { cookie: 'baton_session=garbage' } : {});
    expect(res.status).toBe(status);
    if (status === 302) expect(res.headers.get('location')).toBe(expected as string);
    else {
      const body = await res.text();
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      if (expected) expect(body).toContain(expected as string);
    }
  });

  test('every page carries the security headers; a signed-in page carries its session CSRF token and no cache', async () => {
    for (const [path, who] of [['/users/sign_in', undefined], ['/', 'dev'], ['/team/nothing', 'dev'], [`/team/web/-/jobs/${jobId}`, 'dev']] as const) {
      const res = await get(path, who);
      const h = Object.fromEntries(res.headers);
      expect(h['content-security-policy']).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
      expect({ nosniff: h['x-content-type-options'], frame: h['x-frame-options'], referrer: h['referrer-policy'], cache: h['cache-control'] })
        .toEqual({ nosniff: 'nosniff', frame: 'DENY', referrer: 'same-origin', cache: 'no-store' });
      const body = await res.text();
      // no inline script, no other origin
      expect(body).not.toMatch(/<script(?![^>]*\bsrc="\/assets\/)/);
      expect(body).not.toMatch(/\b(src|href)="(https?:)?\/\//);
      expect(body).not.toMatch(/\sstyle=/);
      if (who) expect(body).toContain(`<meta name="csrf-token" content="${csrf[who]}">`);
    }
  });

  test('web_url of a project, a pipeline and a job in the REST API is its page', async () => {
    const auth = { 'PRIVATE-TOKEN': admin.token };
    const urls = [
      ((await (await s.api(`/api/v4/projects/${projectId}`, { headers: auth })).json()) as { web_url: string }).web_url,
      ((await (await s.api(`/api/v4/projects/${projectId}/pipelines/${pipelineId}`, { headers: auth })).json()) as { web_url: string }).web_url,
      ((await (await s.api(`/api/v4/projects/${projectId}/jobs/${jobId}`, { headers: auth })).json()) as { web_url: string }).web_url,
    ];
    expect(urls).toEqual([`${s.url}/team/web`, `${s.url}/team/web/-/pipelines/${pipelineId}`, `${s.url}/team/web/-/jobs/${jobId}`]);
    for (const u of urls) expect((await fetch(u, { headers: { cookie: cookies.reporter } })).status).toBe(200);
  });

  test('what users wrote is escaped (project name, artifact paths, commit titles)', async () => {
    const job = await (await get(`/team/web/-/jobs/${jobId}`, 'dev')).text();
    expect(job).toContain('out/&lt;b&gt;report&lt;/b&gt;.txt');
    expect(job).not.toContain('<b>report</b>');
    const home = await (await get('/', 'dev')).text();
    expect(home).toContain('Web &lt;App&gt;');
    expect(home).not.toContain('Web <App>');
  });

  test('Reporter pages have no buttons; Developer pages have them', async () => {
    const count = async (who: string, path: string) => ((await (await get(path, who)).text()).match(/data-action=/g) ?? []).length;
    expect(await count('reporter', `/team/web/-/jobs/${jobId}`)).toBe(0);
    expect(await count('reporter', `/team/web/-/pipelines/${pipelineId}`)).toBe(0);
    expect(await count('dev', `/team/web/-/jobs/${jobId}`)).toBe(1);
    expect(await count('dev', `/team/web/-/pipelines/${pipelineId}`)).toBeGreaterThanOrEqual(1);
  });

  test('a Maintainer pauses a project runner from the project runners page (the button calls the REST API with the session)', async () => {
    const page = await (await get('/team/web/-/runners', 'maintainer')).text();
    const button = new RegExp(`data-action="PUT /api/v4/runners/${runnerId}" data-then="reload" data-body="\\{&quot;paused&quot;:true\\}"`);
    expect(page).toMatch(button);
    const put = (headers: Record<string, string>) => fetch(`${s.url}/api/v4/runners/${runnerId}`, { method: 'PUT', headers: { cookie: cookies.maintainer, 'content-type': 'application/json', origin: s.url, ...headers }, body: JSON.stringify({ paused: true }) });
    expect((await put({})).status).toBe(403); // no CSRF token
    const ok = await put({ 'x-csrf-token': csrf.maintainer });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { paused: boolean }).paused).toBe(true);
    expect(await (await get('/team/web/-/runners', 'maintainer')).text()).toContain(`aria-label="Resume runner #${runnerId}"`);
  });

  test('sign-out through the page form (authenticity_token) ends the session', async () => {
    const who = await signIn(dev);
    const form = new URLSearchParams({ authenticity_token: who.csrf });
    const out = await fetch(`${s.url}/users/sign_out`, { method: 'POST', redirect: 'manual', headers: { cookie: who.cookie, 'content-type': 'application/x-www-form-urlencoded', origin: s.url }, body: form });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/users/sign_in');
    expect((await fetch(`${s.url}/`, { redirect: 'manual', headers: { cookie: who.cookie } })).status).toBe(302);
  });
});

describe('raw log, artifacts, assets', () => {
  const raw = () => `/team/web/-/jobs/${jobId}/raw`;

  test('the raw log whole, and by ranges that say how many lines come before', async () => {
    const whole = await get(raw(), 'reporter');
    const text = await whole.text();
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(text).toContain(LOG.split('\n')[1]);
    const bytes = Buffer.from(text);
    const at = bytes.indexOf('red two');
    const lines = bytes.subarray(0, at).toString().split('\n').length - 1;
    const cases: [string, number, number, number, string | null][] = [
      [`bytes=${at}-${at + 6}`, 206, at, at + 6, 'red two'],
      [`bytes=${at}-`, 206, at, bytes.length - 1, null],
      ['bytes=-5', 206, bytes.length - 5, bytes.length - 1, null],
      [`bytes=0-${bytes.length + 100}`, 206, 0, bytes.length - 1, null],
    ];
    for (const [range, status, from, to, body] of cases) {
      const res = await get(raw(), 'reporter', { range });
      expect({ range, status: res.status, contentRange: res.headers.get('content-range') }).toEqual({ range, status, contentRange: `bytes ${from}-${to}/${bytes.length}` });
      const got = Buffer.from(await res.arrayBuffer());
      expect(got).toEqual(bytes.subarray(from, to + 1));
      if (body) expect(got.toString()).toBe(body);
      if (from === at) expect(res.headers.get('x-log-lines-before')).toBe(String(lines));
    }
    for (const bad of [`bytes=${bytes.length}-`, 'bytes=5-2', 'bytes=abc', 'lines=1-2']) {
      const res = await get(raw(), 'reporter', { range: bad });
      expect({ bad, status: res.status, contentRange: res.headers.get('content-range') }).toEqual({ bad, status: 416, contentRange: `bytes */${bytes.length}` });
    }
    expect((await get(raw(), 'stranger')).status).toBe(404);
    expect((await get(raw())).status).toBe(302);
  });

  test('artifacts: the list of files and the download', async () => {
    const browse = await get(`/team/web/-/jobs/${jobId}/artifacts/browse`, 'reporter');
    expect(browse.status).toBe(200);
    const page = await browse.text();
    expect(page).toContain('out/&lt;b&gt;report&lt;/b&gt;.txt');
    expect(page).toContain('2.0 KiB');
    const dl = await get(`/team/web/-/jobs/${jobId}/artifacts/download`, 'reporter');
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-disposition')).toStartWith('attachment; filename=');
    expect(Buffer.from(await dl.arrayBuffer())).toEqual(Buffer.from(await Bun.file(s.core.deps.store.artifactPath(jobId)).arrayBuffer()));
    expect((await get(`/team/web/-/jobs/${otherJob}/artifacts/browse`, 'admin')).status).toBe(404);
    expect((await get(`/team/web/-/jobs/${jobId}/artifacts/download`, 'stranger')).status).toBe(404);
  });

  test('assets are embedded, content-named, cached for good and gzipped on request; unknown ones 404', async () => {
    const html = await (await get('/', 'dev')).text();
    const js = /src="(\/assets\/app-[a-z0-9]+\.js)"/.exec(html)![1];
    const css = /href="(\/assets\/app-[a-z0-9]+\.css)"/.exec(html)![1];
    for (const path of [js, css]) {
      const plain = await fetch(s.url + path, { headers: { 'accept-encoding': 'identity' } });
      expect(plain.status).toBe(200);
      expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(plain.headers.get('content-encoding')).toBeNull();
      const body = await plain.arrayBuffer();
      const gz = await fetch(s.url + path, { headers: { 'accept-encoding': 'gzip' }, decompress: false } as RequestInit);
      expect(gz.headers.get('content-encoding')).toBe('gzip');
      expect(Buffer.from(Bun.gunzipSync(new Uint8Array(await gz.arrayBuffer())))).toEqual(Buffer.from(body));
    }
    expect((await fetch(`${s.url}/assets/app-nope.js`)).status).toBe(404);
    expect((await fetch(`${s.url}/assets/..%2Fpackage.json`)).status).toBe(404);
  });

  test('the heaviest page weighs under 200 KB gzipped, everything it loads included', async () => {
    let total = 0;
    const sizes: Record<string, number> = {};
    for (const path of [`/team/web/-/jobs/${jobId}`, `/team/web/-/pipelines/${pipelineId}`, '/admin/runners']) {
      const html = await (await get(path, 'admin')).text();
      const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
      let page = Bun.gzipSync(Buffer.from(html)).length;
      for (const a of new Set(assets)) page += (await (await fetch(s.url + a, { headers: { 'accept-encoding': 'gzip' }, decompress: false } as RequestInit)).arrayBuffer()).byteLength;
      // the job page's log comes from the raw log, not counted as the page's own weight
      sizes[path] = page;
      total = Math.max(total, page);
    }
    console.log(`page weight (gzipped, with assets): ${JSON.stringify(sizes)}`);
    expect(total).toBeLessThan(200 * 1024);
  });
});
