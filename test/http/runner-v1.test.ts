/**
 * GitLab CI API v1 conformance: the cases of shared/spec/runner-api-v1.md §10.1–§10.5, one
 * table per endpoint, each row run with a JSON body AND a form-urlencoded body (nested
 * `info[name]=…`, `tag_list[]=…`) and on the `.json` path variants, against a real server.
 * Then the protocol behaviours that are not rows (long polling, the 409, concurrent
 * claims, streamed/limited uploads) and the fake 1.11.5 runner checked against the wire
 * log (shared/spec/wire-v1.md).
 *
 * Baton has no "erased" builds and no "pending delete" projects: deleting a project
 * (core.projects.delete) removes its builds, so the rows GitLab answers 403 for
 * (U6/U10, T7/T8, U-A9) answer 404 here — the build is gone — and say so.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { FakeClock } from '../../src/clock';
import { hashToken } from '../../src/core/tokens';
import { FakeRunnerV1, multipartStream, V1_USER_AGENT, type WireCall } from '../support/fake-runner-v1';
import { makePipeline, makeProject, REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';

// ---------------------------------------------------------------- request helpers

const UA = V1_USER_AGENT;
/** the "UA-runner" of §10 */
const UA_152 = 'gitlab-ci-multi-runner 1.5.2 (1-5-stable; go1.6.3; linux/amd64)';
const V1 = '/ci/api/v1';
type Enc = 'json' | 'form';
const ENCODINGS: Enc[] = ['json', 'form'];
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Rails-style form encoding: `info[name]=x`, `tag_list[]=a`. */
function formEncode(obj: Record<string, unknown>): string {
  const out = new URLSearchParams();
  const add = (key: string, v: unknown) => {
    if (v === undefined) return;
    if (Array.isArray(v)) for (const x of v) add(`${key}[]`, x);
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) add(`${key}[${k}]`, x);
    else out.append(key, String(v));
  };
  for (const [k, v] of Object.entries(obj)) add(k, v);
  return out.toString();
}

interface Req {
  method: string;
  path: string;
  /** parameters: sent as JSON or as a form, per the encoding */
  params?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** a raw body (trace, multipart) — the encoding does not apply */
  body?: NonNullable<RequestInit["body"]>;
}

interface Res { status: number; headers: Headers; text: string; json: unknown }

async function send(srv: TestServer, req: Req, encoding: Enc = 'json'): Promise<Res> {
  const headers: Record<string, string> = { 'User-Agent': UA, ...req.headers };
  let body = req.body;
  if (req.params !== undefined) {
    if (encoding === 'json') { headers['Content-Type'] = 'application/json'; body = JSON.stringify(req.params); }
    else { headers['Content-Type'] = 'application/x-www-form-urlencoded'; body = formEncode(req.params); }
  }
  const res = await fetch(srv.url + V1 + req.path, { method: req.method, headers, body });
  const text = await res.text();
  let json: unknown;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/** A raw HTTP/1.1 exchange, for what fetch cannot send (no User-Agent at all). */
function rawRequest(srv: TestServer, head: string, body = ''): Promise<{ status: number; headers: Record<string, string> }> {
  const { hostname, port } = new URL(srv.url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname, () => sock.write(head.replace(/\n/g, '\r\n') + '\r\n' + body));
    let data = '';
    sock.on('data', (d) => { data += d.toString('latin1'); });
    sock.on('error', reject);
    sock.on('close', () => {
      const [statusLine, ...lines] = data.split('\r\n\r\n')[0].split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers });
    });
  });
}

/** A multipart body built by hand (exact bytes; parts may be missing or cut). */
function multipart(boundary: string, parts: { name: string; filename?: string; data: Uint8Array | string }[], close = true): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const p of parts) {
    const disp = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    chunks.push(enc.encode(`--${boundary}\r\nContent-Disposition: ${disp}\r\n${p.filename !== undefined ? 'Content-Type: application/octet-stream\r\n' : ''}\r\n`));
    chunks.push(typeof p.data === 'string' ? enc.encode(p.data) : p.data);
    chunks.push(enc.encode('\r\n'));
  }
  if (close) chunks.push(enc.encode(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const BOUNDARY = 'baton-test-boundary-7f624bbf63ec';
const MP = `multipart/form-data; boundary=${BOUNDARY}`;

function uploadReq(id: number, token: string | null, data: Uint8Array | string = GIF, filename = 'image.gif', query = ''): Req {
  return {
    method: 'POST', path: `/builds/${id}/artifacts${query}`,
    headers: { 'Content-Type': MP, ...(token ? { 'BUILD-TOKEN': token } : {}) },
    body: multipart(BOUNDARY, [{ name: 'file', filename, data }]),
  };
}

// ---------------------------------------------------------------- fixtures

const SPINACH = `
variables:
  DB_NAME: postgres
spinach:
  stage: test
  image: ruby:2.1
  services: [postgres]
  tags: [mysql, ruby]
  script: [bundle exec spinach]
`;

interface Fixture {
  project: ReturnType<typeof makeProject>;
  /** runner token of a project runner of P (tags mysql,ruby unless told) */
  rt: string;
  runnerId: number;
  /** P's runners token */
  prt: string;
  pipelineId: number;
}

/** §10.2's setup: project P (shared runners disabled), a project runner RT, one pending build. */
async function fixture(srv: TestServer, o: { yaml?: string; tags?: string[]; runUntagged?: boolean; sharedRunnersEnabled?: boolean; variables?: { key: string; value: string }[]; noPipeline?: boolean } = {}): Promise<Fixture> {
  const project = makeProject(srv.core, { sharedRunnersEnabled: o.sharedRunnersEnabled ?? false });
  const { runner, token } = srv.core.runners.register({ token: project.runnersToken, tagList: o.tags ?? ['mysql', 'ruby'], runUntagged: o.runUntagged, protocol: 'v1' });
  const pipelineId = o.noPipeline ? 0 : (await makePipeline(srv.core, project.id, o.yaml ?? SPINACH, { variables: o.variables })).id;
  return { project, rt: token, runnerId: runner.id, prt: project.runnersToken, pipelineId };
}

/** Claims the next build for RT over HTTP; returns its payload (id, token = BT). */
async function claim(srv: TestServer, rt: string): Promise<{ id: number; token: string; [k: string]: unknown }> {
  const res = await send(srv, { method: 'POST', path: '/builds/register.json', params: { token: rt } });
  expect(res.status).toBe(201);
  return res.json as { id: number; token: string };
}

/** A running build whose stored trace is `BUILD TRACE` (§10.3/§10.4 setup). */
async function runningBuild(srv: TestServer, o: Parameters<typeof fixture>[1] = {}) {
  const f = await fixture(srv, { yaml: 'job:\n  script: [x]\n', tags: [], ...o });
  const build = await claim(srv, f.rt);
  const res = await send(srv, { method: 'PATCH', path: `/builds/${build.id}/trace.txt`, headers: { 'BUILD-TOKEN': build.token, 'Content-Range': '0-11', 'Content-Type': 'text/plain' }, body: 'BUILD TRACE' });
  expect(res.status).toBe(202);
  return { ...f, id: build.id, bt: build.token, build };
}

const traceOf = (srv: TestServer, id: number) => dec.decode(srv.core.jobs.readTrace(id));
const runnerCount = (srv: TestServer) => srv.core.runners.list({ offset: 0, limit: 1 }).total;

// ---------------------------------------------------------------- table machinery

interface Expectation {
  status: number;
  /** exact values; `null` = the header must be absent; RegExp = must match */
  headers?: Record<string, string | RegExp | null>;
  /** exact JSON body, or a check */
  body?: unknown;
}

interface Row<V> {
  id: string;
  what: string;
  setup: (srv: TestServer) => Promise<V> | V;
  req: (v: V) => Req;
  expect: Expectation | ((v: V) => Expectation);
  check?: (v: V, res: Res, srv: TestServer) => void | Promise<void>;
  /** path variants: the row's path as is and with `.json` inserted (default: both) */
  jsonVariant?: boolean;
  /** encodings for rows with parameters (default: both) */
  encodings?: Enc[];
}

/** `/builds/1/artifacts?x` → `/builds/1/artifacts.json?x` */
const withJson = (path: string) => path.replace(/^([^?]*?)(\?.*)?$/, (_, p: string, q = '') => `${p}.json${q}`);

function assertRes(res: Res, e: Expectation) {
  expect(res.status, `status (body ${res.text})`).toBe(e.status);
  for (const [k, v] of Object.entries(e.headers ?? {})) {
    const got = res.headers.get(k);
    if (v === null) expect(got, `header ${k} must be absent`).toBeNull();
    else if (v instanceof RegExp) expect(got ?? '', `header ${k}`).toMatch(v);
    else expect(got, `header ${k}`).toBe(v);
  }
  if (e.body !== undefined) expect(res.json).toEqual(e.body);
}

/** `raw`: the table's requests carry raw bodies (trace, multipart), so encodings do not apply. */
function table<V>(srvRef: () => TestServer, rows: Row<V>[], opts: { raw?: boolean } = {}) {
  for (const row of rows) {
    const paths = row.jsonVariant === false ? [false] : [false, true];
    for (const json of paths) {
      for (const encoding of opts.raw ? (['json'] as Enc[]) : row.encodings ?? ENCODINGS) {
        test(`${row.id} ${row.what} [${opts.raw ? 'raw' : encoding}${json ? ', .json' : ''}]`, async () => {
          const srv = srvRef();
          const v = await row.setup(srv);
          const req = row.req(v);
          const res = await send(srv, json ? { ...req, path: withJson(req.path) } : req, encoding);
          assertRes(res, typeof row.expect === 'function' ? row.expect(v) : row.expect);
          await row.check?.(v, res, srv);
        });
      }
    }
  }
}

let srv: TestServer;
const clock = new FakeClock();
beforeAll(async () => { srv = await startTestServer({ artifactsExpireIn: 0 }, { clock }); });
afterAll(async () => { await srv.stop(); });
const S = () => srv;

// ---------------------------------------------------------------- §10.1 registration, deletion, verification

const JSON_CT = { 'content-type': 'application/json' };

describe('§10.1 POST /runners/register', () => {
  type V = { before: number; project: ReturnType<typeof makeProject> };
  const setup = (s: TestServer): V => ({ before: runnerCount(s), project: makeProject(s.core) });
  const reg = (params: Record<string, unknown>): Req => ({ method: 'POST', path: '/runners/register', params });
  const created = (s: TestServer, res: Res) => {
    const body = res.json as { id: number; token: string };
    expect(Object.keys(body)).toEqual(['id', 'token']);
    expect(typeof body.id).toBe('number');
    return { body, runner: s.core.runners.get(body.id) };
  };
  table<V>(S, [
    {
      id: 'R1', what: 'registration token → 201 {id, token}, shared, run_untagged', setup,
      req: () => reg({ token: REGISTRATION_TOKEN }), expect: { status: 201, headers: JSON_CT },
      check: (_v, res, s) => {
        const { body, runner } = created(s, res);
        expect(runner.isShared).toBe(true);
        expect(runner.runUntagged).toBe(true);
        expect(runner.locked).toBe(false);
        expect(runner.active).toBe(true);
        expect(runner.contactedAt).toBeNull();
        expect(body.token).not.toBe(REGISTRATION_TOKEN);
        expect(s.core.runners.authenticate(body.token)?.id).toBe(body.id);
      },
    },
    {
      id: 'R2', what: 'description is stored', setup,
      req: () => reg({ token: REGISTRATION_TOKEN, description: 'server.hostname' }), expect: { status: 201, headers: JSON_CT },
      check: (_v, res, s) => expect(created(s, res).runner.description).toBe('server.hostname'),
    },
    {
      id: 'R3', what: 'tag_list "tag1, tag2" is split and trimmed', setup,
      req: () => reg({ token: REGISTRATION_TOKEN, tag_list: 'tag1, tag2' }), expect: { status: 201, headers: JSON_CT },
      check: (_v, res, s) => expect(created(s, res).runner.tagList).toEqual(['tag1', 'tag2']),
    },
    {
      id: 'R4', what: 'run_untagged=false with tag_list[]=tag', setup,
      req: () => reg({ token: REGISTRATION_TOKEN, run_untagged: false, tag_list: ['tag'] }), expect: { status: 201, headers: JSON_CT },
      check: (_v, res, s) => {
        const { runner } = created(s, res);
        expect(runner.runUntagged).toBe(false);
        expect(runner.tagList).toEqual(['tag']);
      },
    },
    {
      id: 'R5', what: 'run_untagged=false without tags → 404, no runner', setup,
      req: () => reg({ token: REGISTRATION_TOKEN, run_untagged: false }), expect: { status: 404 },
      check: (v, _res, s) => expect(runnerCount(s)).toBe(v.before),
    },
    {
      id: 'R6', what: 'project runners token → project runner linked to P', setup,
      req: (v: V) => reg({ token: v.project.runnersToken }), expect: { status: 201, headers: JSON_CT },
      check: (v, res, s) => {
        const { body, runner } = created(s, res);
        expect(runner.isShared).toBe(false);
        expect(s.core.runners.projectIds(runner.id)).toEqual([v.project.id]);
        expect(body.token).not.toBe(REGISTRATION_TOKEN);
        expect(body.token).not.toBe(v.project.runnersToken);
      },
    },
    {
      id: 'R7', what: 'unknown token → 403', setup,
      req: () => reg({ token: 'invalid' }), expect: { status: 403, body: { message: '403 Forbidden' } },
      check: (v, _res, s) => expect(runnerCount(s)).toBe(v.before),
    },
    {
      id: 'R8', what: 'no token → 400 naming it', setup,
      req: () => reg({ description: 'x' }), expect: { status: 400, body: { error: 'token is missing' } },
      check: (v, _res, s) => expect(runnerCount(s)).toBe(v.before),
    },
    {
      id: 'R9', what: 'info[name|version|revision|platform|architecture] are stored', setup,
      req: () => reg({ token: REGISTRATION_TOKEN, info: { name: 'name_value', version: 'version_value', revision: 'revision_value', platform: 'platform_value', architecture: 'architecture_value', executor: 'shell' } }),
      expect: { status: 201, headers: JSON_CT },
      check: (_v, res, s) => {
        const { runner } = created(s, res);
        expect([runner.name, runner.version, runner.revision, runner.platform, runner.architecture])
          .toEqual(['name_value', 'version_value', 'revision_value', 'platform_value', 'architecture_value']);
      },
    },
    {
      id: 'R10', what: 'the real 1.11.5 JSON body → 201 with exactly application/json', setup, encodings: ['json'],
      req: () => ({
        method: 'POST', path: '/runners/register', headers: { Accept: 'application/json' },
        params: { info: { name: 'gitlab-ci-multi-runner', version: '1.11.5', revision: 'cbfcb5c8', platform: 'linux', architecture: 'amd64', features: { variables: false, image: false, services: false, features: false, cache: false } }, token: REGISTRATION_TOKEN, description: 'my-v1-runner', tag_list: 'linux,shell', run_untagged: false },
      }),
      expect: { status: 201, headers: { 'content-type': 'application/json' } },
      check: (_v, res, s) => {
        const { runner } = created(s, res);
        expect(runner.tagList).toEqual(['linux', 'shell']);
        expect(runner.runUntagged).toBe(false);
        expect(runner.version).toBe('1.11.5');
      },
    },
    {
      id: 'R11', what: 'locked=true is stored', setup,
      req: () => reg({ token: REGISTRATION_TOKEN, locked: true, tag_list: 'a' }), expect: { status: 201, headers: JSON_CT },
      check: (_v, res, s) => expect(created(s, res).runner.locked).toBe(true),
    },
  ]);
});

describe('§10.1 DELETE /runners/delete and verification (PUT /builds/-1)', () => {
  type V = { rt: string; id: number };
  const setup = (s: TestServer): V => {
    const { runner, token } = s.core.runners.register({ token: REGISTRATION_TOKEN, protocol: 'v1' });
    return { rt: token, id: runner.id };
  };
  table<V>(S, [
    {
      id: 'D1', what: 'runner token → 200, runner gone', setup,
      req: (v: V) => ({ method: 'DELETE', path: '/runners/delete', params: { token: v.rt } }), expect: { status: 200, headers: JSON_CT },
      check: (v, _r, s) => {
        expect(s.core.runners.authenticate(v.rt)).toBeNull();
        expect(() => s.core.runners.get(v.id)).toThrow();
      },
    },
    {
      id: 'D2', what: 'unknown token → 403', setup,
      req: () => ({ method: 'DELETE', path: '/runners/delete', params: { token: 'unknown' } }), expect: { status: 403 },
      check: (v, _r, s) => expect(s.core.runners.authenticate(v.rt)?.id).toBe(v.id),
    },
    {
      id: 'D3', what: 'no token → 400', setup,
      req: () => ({ method: 'DELETE', path: '/runners/delete', params: {} }), expect: { status: 400, body: { error: 'token is missing' } },
    },
    {
      id: 'V1', what: 'PUT builds/-1 with a valid runner token → 404 ("is alive")', setup,
      req: (v: V) => ({ method: 'PUT', path: '/builds/-1', params: { token: v.rt } }), expect: { status: 404 },
    },
    {
      id: 'V1b', what: 'PUT builds/<not a number> with a valid runner token → 404', setup,
      req: (v: V) => ({ method: 'PUT', path: '/builds/abc', params: { token: v.rt } }), expect: { status: 404 },
    },
    {
      id: 'V2', what: 'PUT builds/-1 with an unknown token → 403 ("is removed")', setup,
      req: () => ({ method: 'PUT', path: '/builds/-1', params: { token: 'unknown' } }), expect: { status: 403 },
    },
  ]);

  test('D1 with the token in the query string (GitLab merges query and body)', async () => {
    const v = setup(srv);
    const res = await send(srv, { method: 'DELETE', path: `/runners/delete?token=${encodeURIComponent(v.rt)}` });
    expect(res.status).toBe(200);
    expect(srv.core.runners.authenticate(v.rt)).toBeNull();
  });
});

// ---------------------------------------------------------------- §10.2 builds/register

describe('§10.2 POST /builds/register', () => {
  const poll = (token: string | undefined, extra: Record<string, unknown> = {}, ua: string | null = UA_152): Req => ({
    method: 'POST', path: '/builds/register',
    params: { ...(token === undefined ? {} : { token }), ...extra },
    headers: ua === null ? {} : { 'User-Agent': ua },
  });
  const noBuild204 = { status: 204, headers: { 'x-gitlab-last-update': /.+/, 'content-type': null } };
  const running = (s: TestServer, id: number) => s.core.jobs.get(id);

  type V = Fixture & { extra?: Record<string, unknown> };
  const base = (o: Parameters<typeof fixture>[1] = {}) => async (s: TestServer): Promise<V> => fixture(s, o);
  const jobsOf = (s: TestServer, pipelineId: number) => s.core.pipelines.latestJobs(pipelineId);

  table<V>(S, [
    {
      id: 'B1', what: 'pending build → 201 build JSON, exact content type, no X-GitLab-Last-Update', setup: base(),
      req: (v: V) => poll(v.rt, { info: { platform: 'darwin' } }),
      expect: { status: 201, headers: { 'content-type': 'application/json', 'x-gitlab-last-update': null } },
      check: (v, res, s) => {
        const b = res.json as Record<string, unknown>;
        const job = jobsOf(s, v.pipelineId)[0];
        // GitLab's field order (§4.3); artifacts_file / artifacts_expire_at only with artifacts
        expect(Object.keys(b)).toEqual(['id', 'ref', 'tag', 'sha', 'status', 'name', 'token', 'stage', 'project_id', 'project_name',
          'commands', 'repo_url', 'before_sha', 'allow_git_fetch', 'options', 'timeout', 'variables', 'depends_on_builds', 'credentials']);
        expect(b).toMatchObject({
          id: job.id, ref: 'main', tag: false, sha: 'a9738e26eea81eb998fab5ed3f808875eaec5196', status: 'running', name: 'spinach',
          stage: 'test', project_id: v.project.id, project_name: v.project.name, commands: 'bundle exec spinach',
          before_sha: '0000000000000000000000000000000000000000', allow_git_fetch: true, timeout: 3600, depends_on_builds: [],
        });
        expect(b.options).toEqual({ image: 'ruby:2.1', services: ['postgres'] });
        expect(b.variables).toEqual(expect.arrayContaining([
          { key: 'CI_BUILD_NAME', value: 'spinach', public: true },
          { key: 'CI_JOB_NAME', value: 'spinach', public: true },
          { key: 'CI_BUILD_STAGE', value: 'test', public: true },
          { key: 'CI_JOB_STAGE', value: 'test', public: true },
          { key: 'DB_NAME', value: 'postgres', public: true },
        ]));
        for (const x of b.variables as { value: unknown; public: unknown }[]) {
          expect(typeof x.value).toBe('string');
          expect(typeof x.public).toBe('boolean');
        }
        expect(typeof b.token).toBe('string');
        expect(s.core.runners.get(v.runnerId).platform).toBe('darwin');
        const after = running(s, job.id);
        expect(after.status).toBe('running');
        expect(after.runnerId).toBe(v.runnerId);
      },
    },
    {
      id: 'B2', what: 'nothing left, runner UA → 204 with X-GitLab-Last-Update',
      setup: async (s) => { const f = await fixture(s); await claim(s, f.rt); return f; },
      req: (v: V) => poll(v.rt), expect: noBuild204,
    },
    {
      id: 'B3', what: 'nothing pending, UA Go-http-client/1.1 → 404 (still with X-GitLab-Last-Update)', setup: base({ noPipeline: true }),
      req: (v: V) => poll(v.rt, {}, 'Go-http-client/1.1'), expect: { status: 404, headers: { 'x-gitlab-last-update': /.+/ } },
    },
    {
      id: 'B5', what: 'nothing pending, beta UA 1.6.0~beta.167.g2b2bacc → 204', setup: base({ noPipeline: true }),
      req: (v: V) => poll(v.rt, {}, 'gitlab-ci-multi-runner 1.6.0~beta.167.g2b2bacc (1-5-stable; go1.6.3; linux/amd64)'), expect: noBuild204,
    },
    {
      id: 'B5b', what: 'nothing pending, dev build UA "gitlab-ci-multi-runner dev (…)" → 404', setup: base({ noPipeline: true }),
      req: (v: V) => poll(v.rt, {}, 'gitlab-ci-multi-runner dev (HEAD; go1.8; linux/amd64)'), expect: { status: 404 },
    },
    {
      id: 'B6', what: 'last_update = the current value → 204 echoing it', setup: base({ noPipeline: true }),
      req: (v: V) => poll(v.rt, { last_update: srv.core.instance.queueEpoch() }),
      expect: () => ({ status: 204, headers: { 'x-gitlab-last-update': srv.core.instance.queueEpoch() } }),
    },
    {
      id: 'B7', what: 'last_update = an old value, queue ticked since → 204 with the new value',
      setup: async (s) => { const f = await fixture(s, { noPipeline: true }); const old = s.core.instance.queueEpoch(); s.core.instance.tickQueue(); return { ...f, extra: { last_update: old } }; },
      req: (v: V) => poll(v.rt, v.extra),
      expect: (v) => ({ status: 204, headers: { 'x-gitlab-last-update': srv.core.instance.queueEpoch() } }),
      check: (v, res) => expect(res.headers.get('x-gitlab-last-update')).not.toBe(v.extra!.last_update as string),
    },
    {
      id: 'B8', what: "only pending build is another project's → no build",
      setup: async (s) => { const f = await fixture(s, { noPipeline: true }); const other = await fixture(s); return { ...f, pipelineId: other.pipelineId }; },
      req: (v: V) => poll(v.rt), expect: noBuild204,
      check: (v, _r, s) => expect(jobsOf(s, v.pipelineId)[0].status).toBe('pending'),
    },
    {
      id: 'B9', what: 'shared runner, P has shared runners disabled → no build',
      setup: async (s) => { const f = await fixture(s); return { ...f, rt: s.core.runners.register({ token: REGISTRATION_TOKEN, tagList: ['mysql', 'ruby'], protocol: 'v1' }).token }; },
      req: (v: V) => poll(v.rt), expect: noBuild204,
      check: (v, _r, s) => expect(jobsOf(s, v.pipelineId)[0].status).toBe('pending'),
    },
    {
      id: 'B10', what: 'untagged build, runner run_untagged=true → 201', setup: base({ yaml: 'job:\n  script: [x]\n' }),
      req: (v: V) => poll(v.rt), expect: { status: 201, headers: { 'content-type': 'application/json' } },
    },
    {
      id: 'B11', what: 'untagged build, runner run_untagged=false → no build', setup: base({ yaml: 'job:\n  script: [x]\n', runUntagged: false }),
      req: (v: V) => poll(v.rt), expect: noBuild204,
    },
    {
      id: 'B12', what: 'build tags mysql,ruby, runner tags mysql → no build', setup: base({ tags: ['mysql'] }),
      req: (v: V) => poll(v.rt), expect: noBuild204,
    },
    {
      id: 'B12b', what: 'tags are case-sensitive (runner MYSQL,RUBY) → no build', setup: base({ tags: ['MYSQL', 'RUBY'] }),
      req: (v: V) => poll(v.rt), expect: noBuild204,
    },
    {
      id: 'B13', what: 'paused runner → 404 even with the runner UA, no X-GitLab-Last-Update, contacted_at unchanged',
      setup: async (s) => { const f = await fixture(s); s.core.runners.edit(f.runnerId, { active: false }); return f; },
      req: (v: V) => poll(v.rt, {}, UA), expect: { status: 404, headers: { 'x-gitlab-last-update': null } },
      check: (v, _r, s) => {
        expect(s.core.runners.get(v.runnerId).contactedAt).toBeNull();
        expect(jobsOf(s, v.pipelineId)[0].status).toBe('pending');
      },
    },
    { id: 'B14', what: 'unknown token → 403', setup: base(), req: () => poll('unknown'), expect: { status: 403 } },
    { id: 'B15', what: 'no token → 403 (never 400)', setup: base(), req: () => poll(undefined), expect: { status: 403 } },
    {
      id: 'B16', what: 'info[name|version|revision|platform|architecture] update the runner', setup: base(),
      req: (v: V) => poll(v.rt, { info: { name: 'name_value', version: 'version_value', revision: 'revision_value', platform: 'platform_value', architecture: 'architecture_value' } }),
      expect: { status: 201 },
      check: (v, _r, s) => {
        const r = s.core.runners.get(v.runnerId);
        expect([r.name, r.version, r.revision, r.platform, r.architecture]).toEqual(['name_value', 'version_value', 'revision_value', 'platform_value', 'architecture_value']);
      },
    },
    {
      id: 'B17', what: 'first request after registration sets contacted_at', setup: base({ noPipeline: true }),
      req: (v: V) => poll(v.rt), expect: noBuild204,
      check: (v, _r, s) => expect(s.core.runners.get(v.runnerId).contactedAt).toBe(clock.now()),
    },
    {
      id: 'B19', what: 'trigger variables and project secrets: public false; CI_BUILD_TRIGGERED public',
      setup: async (s) => {
        const f = await fixture(s, { variables: [{ key: 'TRIGGER_KEY_1', value: 'TRIGGER_VALUE_1' }] });
        s.core.projects.createVariable(f.project.id, { key: 'SECRET_KEY', value: 'secret_value' });
        return f;
      },
      req: (v: V) => poll(v.rt), expect: { status: 201 },
      check: (_v, res) => expect((res.json as { variables: unknown[] }).variables).toEqual(expect.arrayContaining([
        { key: 'CI_BUILD_TRIGGERED', value: 'true', public: true },
        { key: 'SECRET_KEY', value: 'secret_value', public: false },
        { key: 'TRIGGER_KEY_1', value: 'TRIGGER_VALUE_1', public: false },
      ])),
    },
    {
      id: 'B20', what: 'earlier stage succeeded → later build with depends_on_builds',
      setup: async (s) => {
        const f = await fixture(s, { tags: [], yaml: 'stages: [test, deploy]\nspinach:\n  stage: test\n  script: [x]\ndeploy:\n  stage: deploy\n  script: [y]\n' });
        const first = await claim(s, f.rt);
        expect((await send(s, { method: 'PUT', path: `/builds/${first.id}`, params: { token: f.rt, state: 'success' } })).status).toBe(200);
        return f;
      },
      req: (v: V) => poll(v.rt), expect: { status: 201 },
      check: (v, res, s) => {
        const b = res.json as { name: string; token: string; depends_on_builds: Record<string, unknown>[] };
        const spinach = jobsOf(s, v.pipelineId).find((j) => j.name === 'spinach')!;
        expect(b.name).toBe('deploy');
        expect(b.depends_on_builds).toHaveLength(1);
        const dep = b.depends_on_builds[0];
        expect(Object.keys(dep)).toEqual(['id', 'ref', 'tag', 'sha', 'status', 'name', 'token', 'stage', 'project_id', 'project_name']);
        expect(dep).toMatchObject({ id: spinach.id, name: 'spinach', status: 'success', stage: 'test' });
        // Baton keeps job tokens only as hashes: the entry carries a token that may download it
        expect(typeof dep.token).toBe('string');
      },
    },
    {
      id: 'B21/B22', what: 'no container registry in Baton → credentials: [] (key present)', setup: base(),
      req: (v: V) => poll(v.rt), expect: { status: 201 },
      check: (_v, res) => expect((res.json as Record<string, unknown>).credentials).toEqual([]),
    },
    {
      id: 'B23', what: 'image {name}, services [{name}] → strings in options',
      setup: base({ tags: [], yaml: 'job:\n  image: { name: codeclimate, entrypoint: [""] }\n  services: [{ name: mysql, alias: db }]\n  script: [x]\n' }),
      req: (v: V) => poll(v.rt), expect: { status: 201 },
      check: (_v, res) => expect((res.json as Record<string, unknown>).options).toEqual({ image: 'codeclimate', services: ['mysql'] }),
    },
    {
      id: 'B24', what: 'no options → options is an empty object', setup: base({ tags: [], yaml: 'job:\n  script: [x]\n' }),
      req: (v: V) => poll(v.rt), expect: { status: 201 },
      check: (_v, res) => expect((res.json as Record<string, unknown>).options).toEqual({}),
    },
    {
      id: 'B25', what: 'project runner, two pending builds → the older first (FIFO)',
      setup: async (s) => {
        const f = await fixture(s, { tags: [], yaml: 'a:\n  script: [x]\n' });
        await makePipeline(s.core, f.project.id, 'b:\n  script: [x]\n');
        return f;
      },
      req: (v: V) => poll(v.rt), expect: { status: 201 },
      check: (_v, res) => expect((res.json as { name: string }).name).toBe('a'),
    },
    {
      id: 'B26', what: 'shared runner: the project with fewer running shared builds first',
      setup: async (s) => {
        // X has two builds running on shared runners and one pending (older than Y's)
        const x = makeProject(s.core);
        await makePipeline(s.core, x.id, 'x1:\n  script: [x]\nx2:\n  script: [x]\nx3:\n  script: [x]\n');
        for (let i = 0; i < 2; i++) await claim(s, s.core.runners.register({ token: REGISTRATION_TOKEN, tagList: ['x-only'], protocol: 'v1' }).token);
        const y = makeProject(s.core);
        const f = await fixture(s, { noPipeline: true });
        const pipelineId = (await makePipeline(s.core, y.id, 'y1:\n  script: [x]\n')).id;
        return { ...f, rt: s.core.runners.register({ token: REGISTRATION_TOKEN, protocol: 'v1' }).token, pipelineId };
      },
      req: (v: V) => poll(v.rt), expect: { status: 201 },
      check: (_v, res) => expect((res.json as { name: string }).name).toBe('y1'),
    },
  ]);

  test('B4: nothing pending, no User-Agent header at all → 404', async () => {
    const f = await fixture(srv, { noPipeline: true });
    const body = JSON.stringify({ token: f.rt });
    const res = await rawRequest(srv, `POST ${V1}/builds/register.json HTTP/1.1\nHost: ${new URL(srv.url).host}\nContent-Type: application/json\nContent-Length: ${body.length}\nConnection: close\n`, body);
    expect(res.status).toBe(404);
    expect(res.headers['x-gitlab-last-update']).toBeDefined();
  });

  test('B18: a lost race answers 409 {"message":"409 Conflict"} without X-GitLab-Last-Update', async () => {
    // A real 409 cannot happen in Baton: claim() lists candidates and takes one with a
    // conditional UPDATE inside ONE immediate transaction, so no other claim (this process
    // or another on the same data dir) can take a listed candidate in between. The adapter's
    // mapping is still pinned here by making the core report the conflict.
    const f = await fixture(srv);
    const takeFn = srv.core.jobs.take;
    srv.core.jobs.take = () => ({ outcome: 'conflict' });
    try {
      const res = await send(srv, poll(f.rt));
      assertRes(res, { status: 409, headers: { 'x-gitlab-last-update': null, 'content-type': 'application/json' }, body: { message: '409 Conflict' } });
    } finally {
      srv.core.jobs.take = takeFn;
    }
    expect(srv.core.pipelines.latestJobs(f.pipelineId)[0].status).toBe('pending');
  });

  test('B18: twenty runners polling at once for one build → exactly one 201, the rest "no build", never a double hand-out', async () => {
    const f = await fixture(srv, { tags: [], yaml: 'only-one:\n  script: [x]\n' });
    const tokens = [f.rt, ...Array.from({ length: 19 }, () => srv.core.runners.register({ token: f.prt, protocol: 'v1' }).token)];
    const results = await Promise.all(tokens.map((t) => send(srv, poll(t))));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 204)).toHaveLength(19);
    const winner = tokens[results.findIndex((r) => r.status === 201)];
    const job = srv.core.pipelines.latestJobs(f.pipelineId)[0];
    expect(job.runnerId).toBe(srv.core.runners.authenticate(winner)!.id);
    // and straight through the core: a second claim of the same work finds nothing
    expect(srv.core.jobs.claim(srv.core.runners.authenticate(f.rt)!).outcome).toBe('none');
  });
});

// ---------------------------------------------------------------- §10.3 PUT /builds/:id

describe('§10.3 PUT /builds/:id', () => {
  type V = Awaited<ReturnType<typeof runningBuild>>;
  const put = (v: V, params: Record<string, unknown>): Req => ({ method: 'PUT', path: `/builds/${v.id}`, params: { token: v.rt, ...params } });
  table<V>(S, [
    {
      id: 'U1', what: 'running build of the runner → 200, trace unchanged', setup: (s) => runningBuild(s),
      req: (v: V) => put(v, {}), expect: { status: 200 },
      check: (v, _r, s) => { expect(traceOf(s, v.id)).toBe('BUILD TRACE'); expect(s.core.jobs.get(v.id).status).toBe('running'); },
    },
    {
      id: 'U2', what: 'trace=NEW replaces the stored trace', setup: (s) => runningBuild(s),
      req: (v: V) => put(v, { trace: 'NEW' }), expect: { status: 200 },
      check: (v, _r, s) => expect(traceOf(s, v.id)).toBe('NEW'),
    },
    {
      id: 'U2b', what: 'trace="" (present, empty) empties the stored trace', setup: (s) => runningBuild(s), encodings: ['json'],
      req: (v: V) => put(v, { trace: '' }), expect: { status: 200 },
      check: (v, _r, s) => expect(traceOf(s, v.id)).toBe(''),
    },
    {
      id: 'U3', what: 'state=success → build success', setup: (s) => runningBuild(s),
      req: (v: V) => put(v, { state: 'success' }), expect: { status: 200 },
      check: (v, _r, s) => expect(s.core.jobs.get(v.id).status).toBe('success'),
    },
    {
      id: 'U4', what: 'state=failed → build failed', setup: (s) => runningBuild(s),
      req: (v: V) => put(v, { state: 'failed', trace: 'boom' }), expect: { status: 200 },
      check: (v, _r, s) => { expect(s.core.jobs.get(v.id).status).toBe('failed'); expect(traceOf(s, v.id)).toBe('boom'); },
    },
    {
      id: 'U5', what: 'state=running → 200, no change (the first update of every 1.x build)', setup: (s) => runningBuild(s),
      req: (v: V) => put(v, { state: 'running' }), expect: { status: 200 },
      check: (v, _r, s) => { expect(s.core.jobs.get(v.id).status).toBe('running'); expect(traceOf(s, v.id)).toBe('BUILD TRACE'); },
    },
    {
      id: 'U5b', what: 'unknown state → 200, no transition', setup: (s) => runningBuild(s),
      req: (v: V) => put(v, { state: 'junk' }), expect: { status: 200 },
      check: (v, _r, s) => expect(s.core.jobs.get(v.id).status).toBe('running'),
    },
    {
      id: 'U6/U10', what: 'project deleted (Baton has no erase / pending delete): the build is gone → 404',
      setup: async (s) => { const v = await runningBuild(s); s.core.projects.delete(v.project.id); return v; },
      req: (v: V) => put(v, { state: 'success' }), expect: { status: 404 },
    },
    {
      id: 'U7', what: 'build canceled → 404', setup: async (s) => { const v = await runningBuild(s); s.core.jobs.cancel(v.id); return v; },
      req: (v: V) => put(v, { state: 'success', trace: 'late' }), expect: { status: 404 },
      check: (v, _r, s) => { expect(s.core.jobs.get(v.id).status).toBe('canceled'); expect(traceOf(s, v.id)).toBe('BUILD TRACE'); },
    },
    {
      id: 'U7b', what: 'build already finished → 404 (cannot be revived)',
      setup: async (s) => { const v = await runningBuild(s); s.core.jobs.finish(v.id, 'failed', { failureReason: null, exitCode: null }); return v; },
      req: (v: V) => put(v, { state: 'success' }), expect: { status: 404 },
      check: (v, _r, s) => expect(s.core.jobs.get(v.id).status).toBe('failed'),
    },
    {
      id: 'U8', what: 'running build of another runner → 404',
      setup: async (s) => { const v = await runningBuild(s); return { ...v, rt: s.core.runners.register({ token: v.prt, protocol: 'v1' }).token }; },
      req: (v: V) => put(v, { state: 'success' }), expect: { status: 404 },
      check: (v, _r, s) => expect(s.core.jobs.get(v.id).status).toBe('running'),
    },
    {
      id: 'U9', what: 'unknown runner token → 403', setup: (s) => runningBuild(s),
      req: (v: V) => put(v, { token: 'unknown', state: 'success' }), expect: { status: 403 },
      check: (v, _r, s) => expect(s.core.jobs.get(v.id).status).toBe('running'),
    },
    {
      id: 'U9b', what: 'build token instead of the runner token → 403', setup: (s) => runningBuild(s),
      req: (v: V) => put(v, { token: v.bt, state: 'success' }), expect: { status: 403 },
    },
  ]);

  test('a final trace sent in the PUT is masked (build token, runners token)', async () => {
    const v = await runningBuild(srv);
    const log = `clone https://gitlab-ci-token:${v.bt}@host/x.git with ${v.prt}\n`;
    expect((await send(srv, { method: 'PUT', path: `/builds/${v.id}.json`, params: { token: v.rt, state: 'success', trace: log } })).status).toBe(200);
    expect(traceOf(srv, v.id)).toBe(log.replace(v.bt, 'x'.repeat(v.bt.length)).replace(v.prt, 'x'.repeat(v.prt.length)));
  });

  test('a 4 MiB final trace in the JSON body is accepted', async () => {
    const v = await runningBuild(srv);
    const log = 'é\t"line"\n'.repeat(400_000);
    expect((await send(srv, { method: 'PUT', path: `/builds/${v.id}.json`, params: { token: v.rt, state: 'success', trace: log } })).status).toBe(200);
    expect(traceOf(srv, v.id)).toBe(log);
  });
});

// ---------------------------------------------------------------- §10.4 PATCH trace.txt

describe('§10.4 PATCH /builds/:id/trace.txt', () => {
  type V = Awaited<ReturnType<typeof runningBuild>>;
  const patch = (v: V, range: string | null, body: string | Uint8Array, headers: Record<string, string> = {}, path = `/builds/${v.id}/trace.txt`): Req => ({
    method: 'PATCH', path, body,
    headers: { 'BUILD-TOKEN': v.bt, 'Content-Type': 'text/plain', ...(range === null ? {} : { 'Content-Range': range }), ...headers },
  });
  const rows: Row<V>[] = [
    {
      id: 'T1', what: 'append at the stored length → 202, Range, Build-Status', setup: (s) => runningBuild(s),
      req: (v: V) => patch(v, '11-20', ' appended'), expect: { status: 202, headers: { range: '0-20', 'build-status': 'running' } },
      check: (v, _r, s) => expect(traceOf(s, v.id)).toBe('BUILD TRACE appended'),
    },
    {
      id: 'T2', what: 'a second contiguous append (1.x exclusive end)', setup: async (s) => {
        const v = await runningBuild(s);
        expect((await send(s, patch(v, '11-20', ' appended'))).status).toBe(202);
        return v;
      },
      req: (v: V) => patch(v, '20-29', ' appended'), expect: { status: 202, headers: { range: '0-29', 'build-status': 'running' } },
      check: (v, _r, s) => expect(traceOf(s, v.id)).toBe('BUILD TRACE appended appended'),
    },
    {
      id: 'T2b', what: 'inclusive end (modern runners) is just as fine: the end is never read', setup: (s) => runningBuild(s),
      req: (v: V) => patch(v, '11-19', ' appended'), expect: { status: 202, headers: { range: '0-20' } },
    },
    {
      id: 'T3', what: 'empty keep-alive patch 11-10 / 11-11 → 202, unchanged', setup: (s) => runningBuild(s),
      req: (v: V) => patch(v, '11-10', ''), expect: { status: 202, headers: { range: '0-11', 'build-status': 'running' } },
      check: async (v, _r, s) => {
        expect((await send(s, patch(v, '11-11', ''))).headers.get('range')).toBe('0-11');
        expect(traceOf(s, v.id)).toBe('BUILD TRACE');
      },
    },
    {
      id: 'T4', what: 'start beyond the stored length → 416 with Range: 0-11', setup: (s) => runningBuild(s),
      req: (v: V) => patch(v, '15-20', 'xxxxx'), expect: { status: 416, headers: { range: '0-11' }, body: { error: '416 Range Not Satisfiable' } },
      check: (v, _r, s) => expect(traceOf(s, v.id)).toBe('BUILD TRACE'),
    },
    {
      id: 'T5', what: 'start before the stored length → 416 with Range: 0-11 (no overlapping rewrite)', setup: (s) => runningBuild(s),
      req: (v: V) => patch(v, '8-20', 'overlapping'), expect: { status: 416, headers: { range: '0-11' } },
      check: (v, _r, s) => expect(traceOf(s, v.id)).toBe('BUILD TRACE'),
    },
    {
      id: 'T6', what: 'no Content-Range → 400', setup: (s) => runningBuild(s),
      req: (v: V) => patch(v, null, 'x'), expect: { status: 400, body: { error: '400 Missing header Content-Range' } },
      check: (v, _r, s) => expect(traceOf(s, v.id)).toBe('BUILD TRACE'),
    },
    {
      id: 'T6b', what: 'non-numeric Content-Range start counts as 0 (GitLab is lenient) → 416 Range 0-11', setup: (s) => runningBuild(s),
      req: (v: V) => patch(v, 'abc', 'x'), expect: { status: 416, headers: { range: '0-11' } },
    },
    {
      id: 'T7/T8', what: 'project deleted (no erase / pending delete in Baton): build gone → 404',
      setup: async (s) => { const v = await runningBuild(s); s.core.projects.delete(v.project.id); return v; },
      req: (v: V) => patch(v, '11-12', 'x'), expect: { status: 404 },
    },
    {
      id: 'T9', what: 'bad build token → 403', setup: (s) => runningBuild(s),
      req: (v: V) => patch(v, '11-12', 'x', { 'BUILD-TOKEN': 'x' }), expect: { status: 403 },
      check: (v, _r, s) => expect(traceOf(s, v.id)).toBe('BUILD TRACE'),
    },
    {
      id: 'T9b', what: 'no build token at all → 403', setup: (s) => runningBuild(s),
      req: (v: V) => ({ method: 'PATCH', path: `/builds/${v.id}/trace.txt`, headers: { 'Content-Range': '11-12' }, body: 'x' }), expect: { status: 403 },
    },
    {
      id: 'T9c', what: 'the token param wins over the header (bad param, good header → 403)', setup: (s) => runningBuild(s),
      req: (v: V) => patch(v, '11-12', 'x', {}, `/builds/${v.id}/trace.txt?token=wrong`), expect: { status: 403 },
    },
    {
      id: 'T10', what: 'unknown build → 404 (checked before the token)', setup: (s) => runningBuild(s),
      req: (v: V) => patch(v, '0-1', 'x', { 'BUILD-TOKEN': 'x' }, '/builds/987654321/trace.txt'), expect: { status: 404 },
    },
    {
      id: 'T11', what: 'project runners token as token= query param → 202', setup: (s) => runningBuild(s),
      req: (v: V) => patch(v, '11-13', ' !', { 'BUILD-TOKEN': '' }, `/builds/${v.id}/trace.txt?token=${encodeURIComponent(v.prt)}`),
      expect: { status: 202, headers: { range: '0-13' } },
    },
    {
      id: 'T11b', what: 'project runners token in BUILD-TOKEN → 202', setup: (s) => runningBuild(s),
      req: (v: V) => patch(v, '11-13', ' !', { 'BUILD-TOKEN': v.prt }), expect: { status: 202, headers: { range: '0-13' } },
    },
    {
      id: 'T12', what: 'canceled build: the append still works, Build-Status: canceled', setup: async (s) => { const v = await runningBuild(s); s.core.jobs.cancel(v.id); return v; },
      req: (v: V) => patch(v, '11-20', ' appended'), expect: { status: 202, headers: { 'build-status': 'canceled', range: '0-20' } },
    },
    {
      id: 'T12b', what: 'build failed server-side: Build-Status: failed',
      setup: async (s) => { const v = await runningBuild(s); s.core.jobs.finish(v.id, 'failed', { failureReason: 'stuck_or_timeout_failure', exitCode: null }); return v; },
      req: (v: V) => patch(v, '11-12', '!'), expect: { status: 202, headers: { 'build-status': 'failed' } },
    },
    {
      id: 'T15', what: 'multi-byte UTF-8: offsets count bytes', setup: (s) => runningBuild(s),
      req: (v: V) => patch(v, '11-16', 'ü€'), expect: { status: 202, headers: { range: '0-16' } },
      check: async (v, _r, s) => {
        expect((await send(s, patch(v, '13-14', '!'))).status).toBe(416); // 11 + 2 characters is not the byte length
        expect((await send(s, patch(v, '16-17', '!'))).headers.get('range')).toBe('0-17');
        expect(traceOf(s, v.id)).toBe('BUILD TRACEü€!');
      },
    },
  ];
  table<V>(S, rows.map((r) => ({ ...r, jsonVariant: false })), { raw: true });

  test('T13: a patch refreshes updated_at (FakeClock); a canceled build is not touched', async () => {
    const v = await runningBuild(srv);
    const at = srv.core.jobs.get(v.id).updatedAt;
    clock.advance(16 * 60_000);
    expect((await send(srv, patch(v, '11-12', '!'))).status).toBe(202);
    expect(srv.core.jobs.get(v.id).updatedAt).toBe(at + 16 * 60_000);
    // GitLab skips the write when updated_at is younger than 15 min; Baton always refreshes
    // (it is the stuck-job reaper's sign of life) — a superset no runner can tell apart.
    clock.advance(60_000);
    expect((await send(srv, patch(v, '12-13', '!'))).status).toBe(202);
    expect(srv.core.jobs.get(v.id).updatedAt).toBe(clock.now());
    srv.core.jobs.cancel(v.id);
    const canceledAt = srv.core.jobs.get(v.id).updatedAt;
    clock.advance(16 * 60_000);
    expect((await send(srv, patch(v, '13-14', '!'))).headers.get('build-status')).toBe('canceled');
    expect(srv.core.jobs.get(v.id).updatedAt).toBe(canceledAt);
  });

  describe('--max-trace-size reached', () => {
    let tiny: TestServer;
    beforeAll(async () => { tiny = await startTestServer({ maxTraceSize: 300 }); });
    afterAll(async () => { await tiny.stop(); });
    test('the patch that crosses it fails the build: 403 + Build-Status: failed (1.x aborts on both; a 413 would be retried every tick)', async () => {
      const v = await runningBuild(tiny);
      expect((await send(tiny, patch(v, '11-211', 'y'.repeat(200)))).status).toBe(202);
      const res = await send(tiny, patch(v, '211-311', 'z'.repeat(100)));
      expect(res.status).toBe(403);
      expect(res.headers.get('build-status')).toBe('failed');
      const job = tiny.core.jobs.get(v.id);
      expect([job.status, job.failureReason]).toEqual(['failed', 'trace_size_exceeded']);
      expect(traceOf(tiny, v.id)).toBe(`BUILD TRACE${'y'.repeat(200)}`);
    });
    test('a whole log sent in the PUT is kept up to the limit', async () => {
      const v = await runningBuild(tiny);
      expect((await send(tiny, { method: 'PUT', path: `/builds/${v.id}.json`, params: { token: v.rt, state: 'success', trace: 'w'.repeat(1000) } })).status).toBe(200);
      expect(traceOf(tiny, v.id)).toBe('w'.repeat(300));
      expect(tiny.core.jobs.get(v.id).status).toBe('success');
    });
    test('the fake 1.11.5 runner aborts at once and its final update is refused', async () => {
      const project = makeProject(tiny.core);
      const runner = await FakeRunnerV1.register(tiny.url, project.runnersToken);
      await makePipeline(tiny.core, project.id, 'chatty:\n  script: ["yes"]\n');
      const lines = Array.from({ length: 20 }, (_, i) => `line ${i} of far too much output`);
      const result = await runner.runOne({ chatty: { output: lines } });
      expect(result).toMatchObject({ aborted: true, state: 'failed', finalStatus: 404 });
      const patches = runner.calls.filter((c) => c.method === 'PATCH');
      expect(patches.at(-1)!.status).toBe(403); // aborted on the first refusal, well before the output ended
      expect(patches.length).toBeLessThan(lines.length);
      expect(tiny.core.jobs.get(result!.jobId).failureReason).toBe('trace_size_exceeded');
    });
  });

  describe('T14: secrets are replaced by x of the same length', () => {
    const cases: { what: string; secret: (v: V) => string; token?: (v: V) => string }[] = [
      { what: 'the build token (presented as BUILD-TOKEN)', secret: (v) => v.bt },
      { what: 'the build token while the runners token is presented', secret: (v) => v.bt, token: (v) => v.prt },
      { what: 'the project runners token', secret: (v) => v.prt },
      { what: 'a masked project variable', secret: () => 'hunter2-masked-value' },
    ];
    for (const c of cases) {
      test(c.what, async () => {
        const v = await runningBuild(srv);
        srv.core.projects.createVariable(v.project.id, { key: 'DEPLOY_PASSWORD', value: 'hunter2-masked-value', masked: true });
        const secret = c.secret(v);
        const body = `\n$ echo ${secret} and ü ${secret}\n`;
        const len = enc.encode(body).length;
        const res = await send(srv, patch(v, `11-${11 + len}`, body, c.token ? { 'BUILD-TOKEN': c.token(v) } : {}));
        expect(res.status).toBe(202);
        expect(res.headers.get('range')).toBe(`0-${11 + len}`);
        const stored = traceOf(srv, v.id);
        expect(stored).toBe(`BUILD TRACE\n$ echo ${'x'.repeat(secret.length)} and ü ${'x'.repeat(secret.length)}\n`);
        expect(srv.core.jobs.traceLength(v.id)).toBe(11 + len);
      });
    }
    test('an unmasked variable is left alone', async () => {
      const v = await runningBuild(srv);
      srv.core.projects.createVariable(v.project.id, { key: 'PLAIN', value: 'visible-value-123' });
      expect((await send(srv, patch(v, '11-29', ' visible-value-123'))).status).toBe(202);
      expect(traceOf(srv, v.id)).toBe('BUILD TRACE visible-value-123');
    });
  });
});

// ---------------------------------------------------------------- §10.5 artifacts

describe('§10.5 artifacts (the effective, Workhorse-less contract)', () => {
  type V = Awaited<ReturnType<typeof runningBuild>>;
  const artifactsDir = () => join(srv.dataDir, 'artifacts');
  const tmpDir = () => join(srv.dataDir, 'tmp');
  const stored = (id: number) => existsSync(join(artifactsDir(), `${id}.zip`));
  const nothingKept = (id: number) => {
    expect(stored(id)).toBe(false);
    expect(readdirSync(tmpDir())).toEqual([]);
    expect(srv.core.jobs.get(id).artifactsFile).toBeNull();
  };
  const withArtifacts = async (s: TestServer, data: Uint8Array | string = GIF, filename = 'image.gif') => {
    const v = await runningBuild(s);
    expect((await send(s, uploadReq(v.id, v.bt, data, filename))).status).toBe(201);
    return v;
  };
  const get = (v: V, token: string | null, path = `/builds/${v.id}/artifacts`): Req => ({ method: 'GET', path: token === null ? path : `${path}?token=${encodeURIComponent(token)}`, headers: { 'User-Agent': 'Go-http-client/1.1' } });

  table<V>(S, [
    {
      id: 'U-A1', what: 'plain multipart file → 201 BuildDetails with artifacts_file', setup: (s) => runningBuild(s),
      req: (v: V) => uploadReq(v.id, v.bt), expect: { status: 201, headers: { 'content-type': 'application/json' } },
      check: (v, res, s) => {
        const b = res.json as Record<string, unknown>;
        expect(b.id).toBe(v.id);
        expect(b.artifacts_file).toEqual({ filename: 'image.gif', size: GIF.length });
        expect(b.artifacts_expire_at).toBeNull(); // this server's default is "never"
        expect(Object.keys(b).slice(0, 11)).toEqual(['id', 'ref', 'tag', 'sha', 'status', 'name', 'token', 'stage', 'project_id', 'project_name', 'artifacts_file']);
        expect(Bun.file(join(s.dataDir, 'artifacts', `${v.id}.zip`)).size).toBe(GIF.length);
      },
    },
    {
      id: 'U-A3', what: 'second upload replaces the first', setup: (s) => withArtifacts(s, 'first archive', 'first.zip'),
      req: (v: V) => uploadReq(v.id, v.bt, 'second', 'second.zip'), expect: { status: 201 },
      check: async (v, res, s) => {
        expect((res.json as Record<string, unknown>).artifacts_file).toEqual({ filename: 'second.zip', size: 6 });
        const dl = await fetch(`${s.url}${V1}/builds/${v.id}/artifacts`, { headers: { 'BUILD-TOKEN': v.bt } });
        expect(await dl.text()).toBe('second');
        expect(dl.headers.get('content-disposition')).toBe('attachment; filename=second.zip');
      },
    },
    {
      id: 'U-A4', what: 'BUILD-TOKEN: project runners token → 201', setup: (s) => runningBuild(s),
      req: (v: V) => uploadReq(v.id, v.prt), expect: { status: 201 },
    },
    {
      id: 'U-A6', what: 'only a metadata part, no file → 400, nothing stored', setup: (s) => runningBuild(s),
      req: (v: V) => ({ ...uploadReq(v.id, v.bt), body: multipart(BOUNDARY, [{ name: 'metadata', filename: 'metadata.gz', data: 'gz' }]) }),
      expect: { status: 400 },
      check: (v) => nothingKept(v.id),
    },
    {
      id: 'U-A6b', what: 'a file part under another name than "file" → 400', setup: (s) => runningBuild(s),
      req: (v: V) => ({ ...uploadReq(v.id, v.bt), body: multipart(BOUNDARY, [{ name: 'archive', filename: 'a.zip', data: 'zip' }]) }),
      expect: { status: 400 }, check: (v) => nothingKept(v.id),
    },
    {
      id: 'U-A7', what: 'no parts at all → 400', setup: (s) => runningBuild(s),
      req: (v: V) => ({ ...uploadReq(v.id, v.bt), body: `--${BOUNDARY}--\r\n` }), expect: { status: 400 },
      check: (v) => nothingKept(v.id),
    },
    {
      id: 'U-A7b', what: 'not multipart at all → 400', setup: (s) => runningBuild(s),
      req: (v: V) => ({ method: 'POST', path: `/builds/${v.id}/artifacts`, headers: { 'BUILD-TOKEN': v.bt, 'Content-Type': 'application/zip' }, body: 'PK..' }),
      expect: { status: 400 }, check: (v) => nothingKept(v.id),
    },
    {
      id: 'U-A9', what: 'project deleted (no erase in Baton): build gone → 404',
      setup: async (s) => { const v = await runningBuild(s); s.core.projects.delete(v.project.id); return v; },
      req: (v: V) => uploadReq(v.id, v.bt), expect: { status: 404 },
    },
    {
      id: 'U-A10', what: 'build not running (succeeded) → 403',
      setup: async (s) => { const v = await runningBuild(s); s.core.jobs.finish(v.id, 'success', { failureReason: null, exitCode: 0 }); return v; },
      req: (v: V) => uploadReq(v.id, v.bt), expect: { status: 403 },
      check: (v) => nothingKept(v.id),
    },
    {
      id: 'U-A10b', what: 'build canceled → 403', setup: async (s) => { const v = await runningBuild(s); s.core.jobs.cancel(v.id); return v; },
      req: (v: V) => uploadReq(v.id, v.bt), expect: { status: 403 }, check: (v) => nothingKept(v.id),
    },
    {
      id: 'U-A-bad-token', what: 'bad build token → 403; unknown build → 404', setup: (s) => runningBuild(s),
      req: (v: V) => uploadReq(v.id, 'nope'), expect: { status: 403 },
      check: async (v, _r, s) => {
        expect((await send(s, uploadReq(987654321, v.bt))).status).toBe(404);
        nothingKept(v.id);
      },
    },
    {
      id: 'G1', what: 'GET with token=BT → 200, the bytes, binary headers', setup: (s) => withArtifacts(s),
      req: (v: V) => get(v, v.bt),
      expect: { status: 200, headers: { 'content-transfer-encoding': 'binary', 'content-disposition': 'attachment; filename=image.gif', 'content-type': 'application/octet-stream' } },
      check: (_v, res) => expect(Buffer.from(res.text, 'latin1').length).toBeGreaterThan(0),
    },
    {
      id: 'G1b', what: 'GET with BUILD-TOKEN header (how artifacts-downloader asks) → the exact bytes', setup: (s) => withArtifacts(s),
      req: (v: V) => ({ ...get(v, null), headers: { 'User-Agent': 'Go-http-client/1.1', 'BUILD-TOKEN': v.bt } }), expect: { status: 200 },
      check: async (v, _r, s) => {
        const dl = await fetch(`${s.url}${V1}/builds/${v.id}/artifacts`, { headers: { 'BUILD-TOKEN': v.bt } });
        expect(Buffer.from(await dl.arrayBuffer()).equals(GIF)).toBe(true);
      },
    },
    {
      id: 'G1c', what: 'a finished build still serves its archive', setup: async (s) => {
        const v = await withArtifacts(s);
        expect((await send(s, { method: 'PUT', path: `/builds/${v.id}.json`, params: { token: v.rt, state: 'success' } })).status).toBe(200);
        return v;
      },
      req: (v: V) => get(v, v.bt), expect: { status: 200 },
    },
    { id: 'G2', what: 'GET with token=PRT → 200', setup: (s) => withArtifacts(s), req: (v: V) => get(v, v.prt), expect: { status: 200 } },
    {
      id: 'G4', what: 'build without artifacts → 404', setup: (s) => runningBuild(s),
      req: (v: V) => get(v, v.bt), expect: { status: 404 },
    },
    { id: 'G5', what: 'bad token → 403', setup: (s) => withArtifacts(s), req: (v: V) => get(v, 'bad'), expect: { status: 403 } },
    {
      id: 'G5b', what: 'unknown build → 404', setup: (s) => withArtifacts(s),
      req: (v: V) => get({ ...v, id: 987654321 }, v.bt), expect: { status: 404 },
    },
    {
      id: 'X1', what: 'DELETE with token=BT → 200; file, name and size gone', setup: (s) => withArtifacts(s),
      req: (v: V) => ({ method: 'DELETE', path: `/builds/${v.id}/artifacts?token=${encodeURIComponent(v.bt)}` }), expect: { status: 200 },
      check: async (v, _r, s) => {
        const job = s.core.jobs.get(v.id);
        expect([job.artifactsFile, job.artifactsSize, job.artifactsExpireAt]).toEqual([null, null, null]);
        expect(stored(v.id)).toBe(false);
        expect((await send(s, get(v, v.bt))).status).toBe(404);
      },
    },
    {
      id: 'X2', what: 'DELETE with token=PRT → 200', setup: (s) => withArtifacts(s),
      req: (v: V) => ({ method: 'DELETE', path: `/builds/${v.id}/artifacts?token=${encodeURIComponent(v.prt)}` }), expect: { status: 200 },
      check: (v) => expect(stored(v.id)).toBe(false),
    },
    {
      id: 'X3', what: 'DELETE with a bad token → 403, archive kept', setup: (s) => withArtifacts(s),
      req: (v: V) => ({ method: 'DELETE', path: `/builds/${v.id}/artifacts?token=bad` }), expect: { status: 403 },
      check: (v) => expect(stored(v.id)).toBe(true),
    },
    {
      id: 'U-A6c', what: 'a "file" field that is not a file (no filename) → 400', setup: (s) => runningBuild(s),
      req: (v: V) => ({ ...uploadReq(v.id, v.bt), body: multipart(BOUNDARY, [{ name: 'file', data: 'just text' }]) }),
      expect: { status: 400 }, check: (v) => nothingKept(v.id),
    },
  ], { raw: true });

  describe('who may download a build\'s archive', () => {
    const twoStages = 'stages: [build, test]\nmake:\n  stage: build\n  script: [x]\n  artifacts: { paths: [out/] }\nuse:\n  stage: test\n  script: [y]\nsame-stage:\n  stage: build\n  script: [z]\n';
    /** `make` finished with an archive; `use` (next stage) is running and got `make` in depends_on_builds */
    const setup = async () => {
      const f = await fixture(srv, { tags: [], yaml: twoStages });
      const make = await claim(srv, f.rt);
      const sibling = await claim(srv, f.rt);
      expect([make.name, sibling.name]).toEqual(['make', 'same-stage']);
      expect((await send(srv, uploadReq(make.id, make.token, 'the archive', 'out.zip'))).status).toBe(201);
      for (const b of [make, sibling]) expect((await send(srv, { method: 'PUT', path: `/builds/${b.id}.json`, params: { token: f.rt, state: 'success' } })).status).toBe(200);
      const use = await claim(srv, f.rt) as { id: number; token: string; depends_on_builds: { id: number; name: string; token: string; artifacts_file?: unknown }[] };
      return { f, make, sibling, use };
    };
    const download = (id: number, token: string) => fetch(`${srv.url}${V1}/builds/${id}/artifacts`, { headers: { 'BUILD-TOKEN': token, 'User-Agent': 'Go-http-client/1.1' } });

    test('the dependency entry\'s token downloads it (what artifacts-downloader does)', async () => {
      const { make, use } = await setup();
      const dep = use.depends_on_builds.find((d) => d.name === 'make')!;
      expect(dep.artifacts_file).toEqual({ filename: 'out.zip', size: 11 });
      const res = await download(make.id, dep.token);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('the archive');
    });
    test('a build of the same stage, of another pipeline, or one that has finished may not', async () => {
      const { f, make, sibling, use } = await setup();
      expect((await download(make.id, sibling.token)).status).toBe(403);
      const other = await fixture(srv, { tags: [], yaml: twoStages });
      const stranger = await claim(srv, other.rt);
      expect((await download(make.id, stranger.token)).status).toBe(403);
      expect((await send(srv, { method: 'PUT', path: `/builds/${use.id}.json`, params: { token: f.rt, state: 'success' } })).status).toBe(200);
      expect((await download(make.id, use.token)).status).toBe(403);
    });
    test('expired archives are not advertised in depends_on_builds (8.9+), yet still served', async () => {
      const f = await fixture(srv, { tags: [], yaml: 'stages: [build, test]\nmake:\n  stage: build\n  script: [x]\nuse:\n  stage: test\n  script: [y]\n' });
      const make = await claim(srv, f.rt);
      expect((await send(srv, uploadReq(make.id, make.token, 'old', 'out.zip', '?expire_in=1+hour'))).status).toBe(201);
      expect((await send(srv, { method: 'PUT', path: `/builds/${make.id}.json`, params: { token: f.rt, state: 'success' } })).status).toBe(200);
      clock.advance(2 * 3600_000);
      const use = (await claim(srv, f.rt)) as unknown as { depends_on_builds: Record<string, unknown>[] };
      expect(use.depends_on_builds).toHaveLength(1);
      expect(use.depends_on_builds[0].artifacts_file).toBeUndefined();
      expect((await download(make.id, make.token)).status).toBe(200);
    });
  });

  test('multipart reader keeps the bytes exact around near-boundaries and tiny chunks', async () => {
    const v = await runningBuild(srv);
    // content full of delimiter look-alikes: "\r\n--<boundary minus its last char>", CRs, dashes
    const nasty = enc.encode(`\r\n--${BOUNDARY.slice(0, -1)}\r\n-\r\r\n--\r\n--${BOUNDARY.slice(0, 5)}`);
    const data = Buffer.concat([nasty, new Uint8Array(1000).map((_, i) => i & 0xff), nasty, enc.encode('\r\n')]);
    const whole = multipart(BOUNDARY, [{ name: 'file', filename: 'n.zip', data }]);
    let off = 0;
    let size = 1;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (off >= whole.length) { c.close(); return; }
        c.enqueue(whole.slice(off, off + size));
        off += size;
        size = (size % 7) + 1;
      },
    });
    const res = await fetch(`${srv.url}${V1}/builds/${v.id}/artifacts`, { method: 'POST', headers: { 'BUILD-TOKEN': v.bt, 'Content-Type': MP }, body });
    expect(res.status).toBe(201);
    expect(Buffer.from(await Bun.file(join(artifactsDir(), `${v.id}.zip`)).arrayBuffer()).equals(data)).toBe(true);
  });

  describe('U-A13–U-A15 and expire_in formats (FakeClock)', () => {
    const cases: [string, string | null, number | null][] = [
      ['U-A13 "7 days"', '7 days', 7 * 86400],
      ['"1 week"', '1 week', 7 * 86400],
      ['"2 hrs 20 min"', '2 hrs 20 min', 2 * 3600 + 20 * 60],
      ['"3600" (seconds)', '3600', 3600],
      ['"7d"', '7d', 7 * 86400],
      ['"3 mins 4 sec"', '3 mins 4 sec', 184],
      ['"0" → never', '0', null],
      ['"never" → never', 'never', null],
      ['unparsable → never (GitLab 9.0+)', 'soon-ish', null],
      ['U-A15 absent, instance default 0 → never', null, null],
    ];
    for (const [what, expireIn, secs] of cases) {
      test(what, async () => {
        const v = await runningBuild(srv);
        const q = expireIn === null ? '' : `?${new URLSearchParams({ expire_in: expireIn })}`;
        const res = await send(srv, uploadReq(v.id, v.bt, 'zip', 'a.zip', q));
        expect(res.status).toBe(201);
        const want = secs === null ? null : clock.now() + secs * 1000;
        expect((res.json as Record<string, unknown>).artifacts_expire_at).toBe(want === null ? null : new Date(want).toISOString());
        expect(srv.core.jobs.get(v.id).artifactsExpireAt).toBe(want);
      });
    }
    test('expire_in as a multipart field (before the file part) works too', async () => {
      const v = await runningBuild(srv);
      const body = multipart(BOUNDARY, [{ name: 'expire_in', data: '1 week' }, { name: 'file', filename: 'a.zip', data: 'zip' }]);
      const res = await send(srv, { ...uploadReq(v.id, v.bt), body });
      expect(res.status).toBe(201);
      expect(srv.core.jobs.get(v.id).artifactsExpireAt).toBe(clock.now() + 7 * 86400_000);
    });
    test('U-A14 absent, instance default 5 days', async () => {
      const c = new FakeClock();
      const s = await startTestServer({ artifactsExpireIn: 5 * 86400 }, { clock: c });
      try {
        const v = await runningBuild(s);
        const res = await send(s, uploadReq(v.id, v.bt));
        expect((res.json as Record<string, unknown>).artifacts_expire_at).toBe(new Date(c.now() + 5 * 86400_000).toISOString());
      } finally {
        await s.stop();
      }
    });
  });

  test('chunked upload without Content-Length (ReadableStream body), the way 1.11.5 streams it', async () => {
    const v = await runningBuild(srv);
    const data = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 7919) & 0xff);
    const res = await fetch(`${srv.url}${V1}/builds/${v.id}/artifacts?expire_in=1+week`, {
      method: 'POST',
      headers: { 'User-Agent': UA, 'BUILD-TOKEN': v.bt, 'Content-Type': MP },
      body: multipartStream(BOUNDARY, 'my-artifacts.zip', data, 64 * 1024),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(((await res.json()) as Record<string, unknown>).artifacts_file).toEqual({ filename: 'my-artifacts.zip', size: data.length });
    expect(Buffer.from(await Bun.file(join(artifactsDir(), `${v.id}.zip`)).arrayBuffer()).equals(Buffer.from(data))).toBe(true);
    expect(srv.core.jobs.get(v.id).artifactsExpireAt).toBe(clock.now() + 7 * 86400_000);
    expect(readdirSync(tmpDir())).toEqual([]);
  });

  describe('filenames are sanitised, never a path outside artifacts/', () => {
    const ok: [string, string][] = [['my arts.zip', 'my_arts.zip'], ['résumé (1).zip', 'r_sum___1_.zip'], ['a+b-c_d.zip', 'a+b-c_d.zip']];
    for (const [given, kept] of ok) {
      test(`"${given}" → "${kept}"`, async () => {
        const v = await runningBuild(srv);
        const res = await send(srv, uploadReq(v.id, v.bt, 'zip', given));
        expect(res.status).toBe(201);
        expect((res.json as { artifacts_file: { filename: string } }).artifacts_file.filename).toBe(kept);
        const dl = await fetch(`${srv.url}${V1}/builds/${v.id}/artifacts`, { headers: { 'BUILD-TOKEN': v.bt } });
        expect(dl.headers.get('content-disposition')).toBe(`attachment; filename=${kept}`);
        expect(readdirSync(artifactsDir())).toContain(`${v.id}.zip`);
      });
    }
    // 400, or kept under a harmless name — the archive itself is always artifacts/<build id>.zip
    for (const bad of ['../x.zip', '..', '.', 'a/b.zip', '..\\x.zip', '../../../../tmp/evil.zip']) {
      test(`"${bad}" → 400 or sanitised, never a path outside artifacts/`, async () => {
        const v = await runningBuild(srv);
        const before = readdirSync(srv.dataDir).sort();
        const res = await send(srv, uploadReq(v.id, v.bt, 'zip', bad));
        expect([400, 201]).toContain(res.status);
        if (res.status === 400) nothingKept(v.id);
        else {
          const name = (res.json as { artifacts_file: { filename: string } }).artifacts_file.filename;
          expect(name).not.toMatch(/[/\\]/);
          expect(['.', '..']).not.toContain(name);
          expect(stored(v.id)).toBe(true);
        }
        expect(readdirSync(srv.dataDir).sort()).toEqual(before);
        expect(readdirSync(tmpDir())).toEqual([]);
        expect(existsSync(join(srv.dataDir, 'x.zip'))).toBe(false);
      });
    }
    test('"../x.zip" is refused outright (400)', async () => {
      const v = await runningBuild(srv);
      expect((await send(srv, uploadReq(v.id, v.bt, 'zip', '../x.zip'))).status).toBe(400);
    });
  });

  test('truncated multipart (body ends before the closing boundary) → 400, nothing kept', async () => {
    const v = await runningBuild(srv);
    const full = multipart(BOUNDARY, [{ name: 'file', filename: 'a.zip', data: new Uint8Array(100_000).fill(7) }], false);
    const res = await send(srv, { ...uploadReq(v.id, v.bt), body: full.subarray(0, full.length - 500) });
    expect(res.status).toBe(400);
    nothingKept(v.id);
  });

  test('an upload whose client goes away mid-stream leaves nothing behind', async () => {
    const v = await runningBuild(srv);
    const ac = new AbortController();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent === 0) c.enqueue(enc.encode(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.zip"\r\n\r\n`));
        c.enqueue(new Uint8Array(64 * 1024).fill(1));
        sent++;
        if (sent === 20) { ac.abort(); c.close(); }
        await Bun.sleep(1);
      },
    });
    await fetch(`${srv.url}${V1}/builds/${v.id}/artifacts`, { method: 'POST', headers: { 'BUILD-TOKEN': v.bt, 'Content-Type': MP }, body, signal: ac.signal }).catch(() => null);
    // the server notices the reset asynchronously: wait (bounded) for it to clean up
    for (let i = 0; i < 200 && readdirSync(tmpDir()).length > 0; i++) await Bun.sleep(10);
    nothingKept(v.id);
  });

  describe('size limit (the size must be strictly below --max-artifact-size)', () => {
    let small: TestServer;
    beforeAll(async () => { small = await startTestServer({ maxArtifactSize: 1000 }); });
    afterAll(async () => { await small.stop(); });
    const at = (s: TestServer) => ({ artifacts: join(s.dataDir, 'artifacts'), tmp: join(s.dataDir, 'tmp') });
    for (const [size, status] of [[999, 201], [1000, 413], [5000, 413]] as const) {
      test(`${size} bytes with a 1000-byte limit → ${status}${status === 413 ? ', nothing kept on disk' : ''}`, async () => {
        const v = await runningBuild(small);
        const res = await send(small, uploadReq(v.id, v.bt, new Uint8Array(size).fill(65), 'a.zip'));
        expect(res.status).toBe(status);
        expect(existsSync(join(at(small).artifacts, `${v.id}.zip`))).toBe(status === 201);
        expect(readdirSync(at(small).tmp)).toEqual([]);
      });
    }
    test('413 also when streamed chunked (no Content-Length to look at)', async () => {
      const v = await runningBuild(small);
      const res = await fetch(`${small.url}${V1}/builds/${v.id}/artifacts`, {
        method: 'POST', headers: { 'BUILD-TOKEN': v.bt, 'Content-Type': MP }, body: multipartStream(BOUNDARY, 'a.zip', new Uint8Array(4000), 100),
      });
      expect(res.status).toBe(413);
      expect(readdirSync(at(small).artifacts)).not.toContain(`${v.id}.zip`);
      expect(readdirSync(at(small).tmp)).toEqual([]);
      // the limit leaves an earlier, smaller archive alone
      expect((await send(small, uploadReq(v.id, v.bt, 'ok', 'a.zip'))).status).toBe(201);
      expect((await send(small, uploadReq(v.id, v.bt, new Uint8Array(2000), 'b.zip'))).status).toBe(413);
      expect(small.core.jobs.get(v.id).artifactsFile).toBe('a.zip');
    });
    test('U-A8: max size 0 → 413 even for an empty file', async () => {
      const zero = await startTestServer({ maxArtifactSize: 0 });
      try {
        const v = await runningBuild(zero);
        expect((await send(zero, uploadReq(v.id, v.bt, '', 'a.zip'))).status).toBe(413);
        expect(readdirSync(join(zero.dataDir, 'tmp'))).toEqual([]);
      } finally {
        await zero.stop();
      }
    });
  });
});

// ---------------------------------------------------------------- long polling (§4.1 step 4, §4.4)

describe('long polling: last_update (--poll-timeout 5)', () => {
  let lp: TestServer;
  beforeAll(async () => { lp = await startTestServer({ pollTimeout: 5 }); });
  afterAll(async () => { await lp.stop(); });
  const poll = (s: TestServer, token: string, lastUpdate?: string) =>
    send(s, { method: 'POST', path: '/builds/register.json', params: { token, ...(lastUpdate ? { last_update: lastUpdate } : {}) } });
  const held = async (s: TestServer, n = 1) => {
    for (let i = 0; i < 500 && s.core.deps.notifier.waiting < n; i++) await Bun.sleep(2);
    expect(s.core.deps.notifier.waiting).toBeGreaterThanOrEqual(n);
  };

  test('a held builds/register answers within milliseconds of a pipeline being created', async () => {
    const f = await fixture(lp, { tags: [], noPipeline: true });
    const first = await poll(lp, f.rt);
    expect(first.status).toBe(204);
    const epoch = first.headers.get('x-gitlab-last-update')!;
    let answered = false;
    const pending = poll(lp, f.rt, epoch).then((r) => { answered = true; return r; });
    await held(lp);
    expect(answered).toBe(false);
    const t0 = performance.now();
    await makePipeline(lp.core, f.project.id, 'job:\n  script: [x]\n');
    const res = await pending;
    expect(performance.now() - t0).toBeLessThan(500);
    expect(res.status).toBe(201);
    expect(res.headers.get('x-gitlab-last-update')).toBeNull();
  });

  test('echoing a stale value is answered at once, with the current value', async () => {
    const f = await fixture(lp, { tags: [], noPipeline: true });
    const t0 = performance.now();
    const res = await poll(lp, f.rt, 'stale-value');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(res.status).toBe(204);
    expect(res.headers.get('x-gitlab-last-update')).toBe(lp.core.instance.queueEpoch());
  });

  describe('every event that makes work available wakes a held request (X-GitLab-Last-Update ticks)', () => {
    type Setup = { rt: string; wake: () => void };
    const events: [string, () => Promise<Setup>][] = [
      ['a manual job is played', async () => {
        const f = await fixture(lp, { tags: [], yaml: 'deploy:\n  script: [x]\n  when: manual\n' });
        return { rt: f.rt, wake: () => lp.core.jobs.play(lp.core.pipelines.latestJobs(f.pipelineId)[0].id) };
      }],
      ['an earlier stage ends and releases the next', async () => {
        const f = await fixture(lp, { tags: ['second'], yaml: 'stages: [a, b]\none:\n  stage: a\n  script: [x]\ntwo:\n  stage: b\n  tags: [second]\n  script: [y]\n' });
        const other = lp.core.runners.register({ token: f.prt, protocol: 'v1' });
        const first = lp.core.jobs.claim(other.runner);
        if (first.outcome !== 'job') throw new Error('setup: no job');
        return { rt: f.rt, wake: () => lp.core.jobs.update(first.context.job, { state: 'success' }) };
      }],
      ['a failed job is retried automatically', async () => {
        const f = await fixture(lp, { tags: ['retry'], yaml: 'flaky:\n  tags: [retry]\n  retry: 1\n  script: [x]\n' });
        const first = lp.core.jobs.claim(lp.core.runners.authenticate(f.rt)!);
        if (first.outcome !== 'job') throw new Error('setup: no job');
        return { rt: f.rt, wake: () => lp.core.jobs.update(first.context.job, { state: 'failed' }) };
      }],
      ['a job is retried by hand', async () => {
        const f = await fixture(lp, { tags: [], yaml: 'job:\n  script: [x]\n' });
        const first = lp.core.jobs.claim(lp.core.runners.authenticate(f.rt)!);
        if (first.outcome !== 'job') throw new Error('setup: no job');
        lp.core.jobs.update(first.context.job, { state: 'failed' });
        return { rt: f.rt, wake: () => lp.core.jobs.retry(first.context.job.id) };
      }],
      ['the runner gets the missing tag', async () => {
        const f = await fixture(lp, { tags: ['mysql'] });
        return { rt: f.rt, wake: () => lp.core.runners.edit(f.runnerId, { tagList: ['mysql', 'ruby'] }) };
      }],
      ['the project enables shared runners', async () => {
        const f = await fixture(lp, { tags: [] , yaml: 'job:\n  script: [x]\n' });
        const shared = lp.core.runners.register({ token: REGISTRATION_TOKEN, protocol: 'v1' });
        return { rt: shared.token, wake: () => lp.core.projects.update(f.project.id, { sharedRunnersEnabled: true }) };
      }],
    ];
    for (const [what, make] of events) {
      test(what, async () => {
        const { rt, wake } = await make();
        const first = await poll(lp, rt);
        expect(first.status).toBe(204);
        const pending = poll(lp, rt, first.headers.get('x-gitlab-last-update')!);
        await held(lp);
        const t0 = performance.now();
        wake();
        const res = await pending;
        expect(res.status).toBe(201);
        expect(performance.now() - t0).toBeLessThan(1000);
      });
    }
  });

  test('a held request is not woken by work for another project; it ends "no build" at the timeout', async () => {
    const s = await startTestServer({ pollTimeout: 1 });
    try {
      const f = await fixture(s, { tags: [], noPipeline: true });
      const epoch = (await poll(s, f.rt)).headers.get('x-gitlab-last-update')!;
      const t0 = performance.now();
      const pending = poll(s, f.rt, epoch);
      await held(s);
      await makePipeline(s.core, makeProject(s.core).id, 'job:\n  script: [x]\n');
      const res = await pending;
      expect(res.status).toBe(204);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(900);
      expect(res.headers.get('x-gitlab-last-update')).toBe(s.core.instance.queueEpoch());
    } finally {
      await s.stop();
    }
  });

  test('a held request is released by server stop', async () => {
    const s = await startTestServer({ pollTimeout: 5 });
    const f = await fixture(s, { tags: [], noPipeline: true });
    const epoch = (await poll(s, f.rt)).headers.get('x-gitlab-last-update')!;
    const pending = poll(s, f.rt, epoch);
    await held(s);
    const t0 = performance.now();
    await s.stop();
    const res = await pending;
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(res.status).toBe(204);
  });
});

// ---------------------------------------------------------------- the fake 1.11.5 runner against the wire log

describe('fake gitlab-ci-multi-runner 1.11.5 follows wire-v1.md', () => {
  const paths = (calls: WireCall[]) => calls.map((c) => `${c.method} ${c.path} ${c.status}`);

  test('E1/E6: register, verify, run a build, unregister — headers, bodies, exclusive ranges', async () => {
    const project = makeProject(srv.core);
    const runner = await FakeRunnerV1.register(srv.url, project.runnersToken, { description: 'my-v1-runner', tags: ['linux', 'shell'] });
    expect(await runner.verify()).toBe('alive');
    await makePipeline(srv.core, project.id, 'build-job:\n  tags: [linux]\n  script: [echo hello, ./build.sh]\n  artifacts:\n    name: my-artifacts\n    expire_in: 1 week\n    paths: [out/]\n');
    const result = await runner.runOne({ 'build-job': { output: ['hello', 'built'], artifacts: 'PK\u0003\u0004zip' } });
    expect(result).toMatchObject({ name: 'build-job', state: 'success', aborted: false, finalStatus: 200 });
    const id = result!.jobId;
    expect(paths(runner.calls)).toEqual([
      'POST runners/register.json 201',
      'PUT builds/-1 404',
      'POST builds/register.json 201',
      `PUT builds/${id}.json 200`,
      `PATCH builds/${id}/trace.txt 202`,
      `PATCH builds/${id}/trace.txt 202`,
      `PATCH builds/${id}/trace.txt 202`,
      `POST builds/${id}/artifacts?expire_in=1+week 201`,
      `PUT builds/${id}.json 200`,
    ]);
    const [reg, , poll, first, p1, p2] = runner.calls;
    expect(reg.requestHeaders).toMatchObject({ 'User-Agent': UA, Accept: 'application/json', 'Content-Type': 'application/json' });
    expect(reg.body).toMatchObject({ token: project.runnersToken, description: 'my-v1-runner', tag_list: 'linux,shell', run_untagged: false });
    expect((reg.body as { info: Record<string, unknown> }).info.executor).toBeUndefined();
    expect(reg.responseHeaders['content-type']).toBe('application/json');
    expect(poll.requestHeaders.Accept).toBe('application/json');
    expect((poll.body as { info: Record<string, unknown> }).info).toMatchObject({ name: 'gitlab-ci-multi-runner', version: '1.11.5', executor: 'shell' });
    // the first update is a state-only PUT: no trace key at all
    expect(first.body).toEqual({ info: expect.any(Object), token: runner.token, state: 'running' });
    expect(first.requestHeaders.Accept).toBeUndefined();
    // PATCHes: BUILD-TOKEN, text/plain, exclusive end = bytes held, contiguous
    let offset = 0;
    for (const c of [p1, p2, runner.calls[6]]) {
      const len = enc.encode(c.body as string).length;
      expect(c.requestHeaders['Content-Range']).toBe(`${offset}-${offset + len}`);
      expect(hashToken(c.requestHeaders['BUILD-TOKEN'])).toBe(srv.core.jobs.get(id).tokenHash!);
      expect(c.requestHeaders['Content-Type']).toBe('text/plain');
      expect(c.responseHeaders.range).toBe(`0-${offset + len}`);
      expect(c.responseHeaders['build-status']).toBe('running');
      offset += len;
    }
    const final = runner.calls.at(-1)!;
    expect(final.body).toMatchObject({ token: runner.token, state: 'success', trace: result!.trace });
    // the server holds what the runner sent, and the job ended with its archive
    expect(traceOf(srv, id)).toBe(result!.trace);
    const job = srv.core.jobs.get(id);
    expect(job.status).toBe('success');
    expect(job.artifactsFile).toBe('my-artifacts.zip');
    expect(job.artifactsExpireAt).toBe(clock.now() + 7 * 86400_000);
    // nothing more to do: one "no build" poll echoing the last update from then on
    expect(await runner.runOne({})).toBeNull();
    expect(runner.calls.at(-1)!.status).toBe(204);
    expect(runner.lastUpdate).toBe(srv.core.instance.queueEpoch());
    expect(await runner.runOne({})).toBeNull();
    expect((runner.calls.at(-1)!.body as { last_update?: string }).last_update).toBe(runner.lastUpdate!);
    expect(await runner.unregister()).toBe(200);
    expect(await runner.verify()).toBe('removed');
  });

  test('E2: a build canceled while running: Build-Status: canceled aborts it, the final PUT gets 404', async () => {
    const project = makeProject(srv.core);
    const runner = await FakeRunnerV1.register(srv.url, project.runnersToken);
    await makePipeline(srv.core, project.id, 'long:\n  script: [sleep 100]\n');
    const result = await runner.runOne({ long: { output: ['1', '2', '3', '4', '5', '6'] } }, {
      onTick: ({ jobId, tick }) => { if (tick === 2) srv.core.jobs.cancel(jobId); },
    });
    expect(result).toMatchObject({ state: 'failed', aborted: true, finalStatus: 404 });
    expect(srv.core.jobs.get(result!.jobId).status).toBe('canceled');
    const patches = runner.calls.filter((c) => c.method === 'PATCH');
    expect(patches.at(-1)!.responseHeaders['build-status']).toBe('canceled');
    expect(patches).toHaveLength(3); // aborted right after the tick that saw it
  });

  test('E3: 416 with a shorter Range → the runner resends from that offset', async () => {
    const project = makeProject(srv.core);
    const runner = await FakeRunnerV1.register(srv.url, project.runnersToken);
    await makePipeline(srv.core, project.id, 'job:\n  script: [x]\n');
    const result = await runner.runOne({ job: { output: ['tick 1', 'tick 2', 'tick 3'] } }, {
      onTick: ({ jobId, tick }) => {
        // the server "lost" everything after byte 5 (what S5 of the wire log simulates)
        if (tick === 2) srv.core.deps.store.replaceTrace(jobId, srv.core.jobs.readTrace(jobId).subarray(0, 5));
      },
    });
    const patches = runner.calls.filter((c) => c.method === 'PATCH');
    const i = patches.findIndex((c) => c.status === 416);
    expect(patches[i].responseHeaders.range).toBe('0-5');
    expect(patches[i + 1].requestHeaders['Content-Range']).toMatch(/^5-\d+$/);
    expect(patches[i + 1].status).toBe(202);
    expect(result!.state).toBe('success');
    expect(traceOf(srv, result!.jobId)).toBe(result!.trace);
  });

  test('E3b: 416 with a Range beyond what the runner holds → full PUT, then PATCHes go on', async () => {
    const project = makeProject(srv.core);
    const runner = await FakeRunnerV1.register(srv.url, project.runnersToken);
    await makePipeline(srv.core, project.id, 'job:\n  script: [x]\n');
    const result = await runner.runOne({ job: { output: ['tick 1', 'tick 2', 'tick 3'] } }, {
      onTick: ({ jobId, tick }) => { if (tick === 1) srv.core.deps.store.replaceTrace(jobId, new Uint8Array(99_999).fill(0x2e)); },
    });
    const seq = paths(runner.calls).map((p) => p.replace(/builds\/\d+/, 'builds/N'));
    const at416 = seq.indexOf('PATCH builds/N/trace.txt 416');
    expect(runner.calls[at416].responseHeaders.range).toBe('0-99999');
    expect(seq.slice(at416, at416 + 3)).toEqual(['PATCH builds/N/trace.txt 416', 'PUT builds/N.json 200', 'PATCH builds/N/trace.txt 202']);
    expect((runner.calls[at416 + 1].body as { trace?: string }).trace).toBeDefined();
    expect(result!.state).toBe('success');
    expect(traceOf(srv, result!.jobId)).toBe(result!.trace);
  });

  test('E4: the build disappears (project deleted): PATCH 404 → full-trace PUT mode → 404 → abort', async () => {
    const project = makeProject(srv.core);
    const runner = await FakeRunnerV1.register(srv.url, project.runnersToken);
    await makePipeline(srv.core, project.id, 'job:\n  script: [x]\n');
    const result = await runner.runOne({ job: { output: ['a', 'b', 'c', 'd'] } }, {
      onTick: ({ tick }) => { if (tick === 1) srv.core.projects.delete(project.id); },
    });
    expect(result).toMatchObject({ aborted: true, state: 'failed', finalStatus: 404 });
    const seq = paths(runner.calls).map((p) => p.replace(/builds\/\d+/, 'builds/N'));
    const i = seq.indexOf('PATCH builds/N/trace.txt 404');
    expect(seq[i + 1]).toBe('PUT builds/N.json 404');
    expect((runner.calls[i + 1].body as { trace?: string; state: string })).toMatchObject({ state: 'running', trace: expect.any(String) });
  });

  test('a 201 with a charset in its Content-Type is refused by the fake (as by runners ≤ 1.9)', async () => {
    // guards the fake's strictness itself, so the exact-content-type checks above mean something
    const fakeServer = Bun.serve({ port: 0, fetch: () => new Response('{"id":1,"token":"t"}', { status: 201, headers: { 'content-type': 'application/json; charset=utf-8' } }) });
    try {
      await expect(FakeRunnerV1.register(`http://127.0.0.1:${fakeServer.port}`, 'x')).rejects.toThrow('Server should return application/json');
    } finally {
      fakeServer.stop(true);
    }
  });
});
