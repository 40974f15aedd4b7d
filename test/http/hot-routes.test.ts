/**
 * The runners' polls and trace PATCHes are answered by Bun's router ahead of the Elysia app
 * (src/http/hot-routes.ts) when the request is the plain case; every other form of the same
 * request must get exactly the answer the app gives. Each row: a request → status and body.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';

let s: TestServer;
let token: string;
let v1Token: string;
beforeAll(async () => {
  s = await startTestServer();
  token = ((await (await fetch(`${s.url}/api/v4/runners`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: REGISTRATION_TOKEN }) })).json()) as { token: string }).token;
  v1Token = ((await (await fetch(`${s.url}/ci/api/v1/runners/register.json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: REGISTRATION_TOKEN }) })).json()) as { token: string }).token;
});
afterAll(() => s.stop());

const V1_UA = 'gitlab-ci-multi-runner 1.11.5 (1-11-stable; go1.7.5; linux/amd64)';

interface Row { name: string; req: () => RequestInit & { path: string }; status: number; body?: (b: string) => void }
const rows: Row[] = [
  { name: 'v4 JSON poll (the hot path)', req: () => ({ path: '/api/v4/jobs/request', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) }), status: 204 },
  { name: 'v4 JSON poll with charset', req: () => ({ path: '/api/v4/jobs/request', method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ token, info: { name: 'gitlab-runner', features: { multi_build_steps: true } } }) }), status: 204 },
  { name: 'v4 form poll (the app)', req: () => ({ path: '/api/v4/jobs/request', method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${token}&info[name]=gitlab-runner` }), status: 204 },
  { name: 'v4 token in the query string (the app)', req: () => ({ path: `/api/v4/jobs/request?token=${token}`, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }), status: 204 },
  { name: 'v4 chunked JSON without Content-Length (the app)', req: () => ({ path: '/api/v4/jobs/request', method: 'POST', headers: { 'content-type': 'application/json' }, body: new Blob([JSON.stringify({ token })]).stream() }), status: 204 },
  // as Grape does, a number is converted to the string it reads as: then an unknown token
  { name: 'v4 number for token → converted, then unknown → 403', req: () => ({ path: '/api/v4/jobs/request', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"token": 12}' }), status: 403 },
  { name: 'v4 object for token → 400 naming it', req: () => ({ path: '/api/v4/jobs/request', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"token": {"a": 1}}' }), status: 400, body: (b) => expect(b).toContain('token') },
  { name: 'v4 info not an object → 400 naming it', req: () => ({ path: '/api/v4/jobs/request', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, info: 'x' }) }), status: 400, body: (b) => expect(b).toContain('info') },
  { name: 'v4 JSON array body → 400', req: () => ({ path: '/api/v4/jobs/request', method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1]' }), status: 400 },
  { name: 'v4 broken JSON → 400', req: () => ({ path: '/api/v4/jobs/request', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"token":' }), status: 400 },
  { name: 'v4 unknown runner token → 403', req: () => ({ path: '/api/v4/jobs/request', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"token":"nope"}' }), status: 403, body: (b) => expect(JSON.parse(b)).toEqual({ message: '403 Forbidden' }) },
  { name: 'v4 no token → 403', req: () => ({ path: '/api/v4/jobs/request', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }), status: 403 },
  { name: 'v4 GET on the poll path → 404 (the app)', req: () => ({ path: '/api/v4/jobs/request', method: 'GET' }), status: 404 },
  { name: 'v1 JSON poll', req: () => ({ path: '/ci/api/v1/builds/register.json', method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': V1_UA }, body: JSON.stringify({ token: v1Token }) }), status: 204 },
  { name: 'v1 JSON poll without .json', req: () => ({ path: '/ci/api/v1/builds/register', method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': V1_UA }, body: JSON.stringify({ token: v1Token }) }), status: 204 },
  { name: 'v1 poll from something that is not a 1.x runner → 404', req: () => ({ path: '/ci/api/v1/builds/register.json', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: v1Token }) }), status: 404 },
  { name: 'v4 trace PATCH for no job → 404', req: () => ({ path: '/api/v4/jobs/999999/trace', method: 'PATCH', headers: { 'content-range': '0-1', 'job-token': 'x' }, body: 'ab' }), status: 404 },
  { name: 'v4 trace PATCH with a non-numeric id → 404', req: () => ({ path: '/api/v4/jobs/abc/trace', method: 'PATCH', headers: { 'content-range': '0-1', 'job-token': 'x' }, body: 'ab' }), status: 404 },
  { name: 'v1 trace PATCH for no build → 404', req: () => ({ path: '/ci/api/v1/builds/999999/trace.txt', method: 'PATCH', headers: { 'content-range': '0-2', 'build-token': 'x' }, body: 'ab' }), status: 404 },
];

describe('hot routes answer as the app does', () => {
  for (const r of rows) {
    test(r.name, async () => {
      const { path, ...init } = r.req();
      const res = await fetch(s.url + path, init);
      const text = await res.text();
      expect(res.status).toBe(r.status);
      expect(res.headers.get('x-request-id')).toBeTruthy();
      r.body?.(text);
    });
  }

  // The no-job 204 copies Headers built once per epoch (respond.ts emptyWith): each answer
  // must still carry only its own request id, and the epoch of the moment.
  test('no-job answers at one epoch: each its own X-Request-Id (once), the same X-GitLab-Last-Update', async () => {
    const poll = (id: string, path = '/api/v4/jobs/request', extra: Record<string, string> = {}, t = token) =>
      fetch(s.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id, ...extra }, body: JSON.stringify({ token: t }) });
    const answers = [await poll('first-1'), await poll('second-2'), await poll('v1-a', '/ci/api/v1/builds/register.json', { 'user-agent': V1_UA }, v1Token), await poll('v1-b', '/ci/api/v1/builds/register.json', { 'user-agent': V1_UA }, v1Token)];
    expect(answers.map((a) => a.status)).toEqual([204, 204, 204, 204]);
    expect(answers.map((a) => a.headers.get('x-request-id'))).toEqual(['first-1', 'second-2', 'v1-a', 'v1-b']);
    const epoch = answers[0].headers.get('x-gitlab-last-update');
    expect(epoch).toBeTruthy();
    expect(answers.map((a) => a.headers.get('x-gitlab-last-update'))).toEqual([epoch, epoch, epoch, epoch]);
    // a new epoch is told at once
    s.core.instance.tickQueue();
    const later = await poll('third-3');
    expect(later.headers.get('x-gitlab-last-update')).not.toBe(epoch);
    expect(later.headers.get('x-request-id')).toBe('third-3');
  });

  test('a client request id is echoed; the metrics name the route template', async () => {
    const res = await fetch(`${s.url}/api/v4/jobs/request`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'runner-abc.1' }, body: JSON.stringify({ token }) });
    expect(res.status).toBe(204);
    expect(res.headers.get('x-request-id')).toBe('runner-abc.1');
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/baton_http_requests_total\{route="\/api\/v4\/jobs\/request",status="204"\} \d+/);
    expect(metrics).toMatch(/baton_http_requests_total\{route="\/api\/v4\/jobs\/:id\/trace",status="404"\} \d+/);
    expect(metrics).toMatch(/baton_http_requests_total\{route="\/ci\/api\/v1\/builds\/register.json",status="204"\} \d+/);
  });
});
