/**
 * REST API, across every route: the admin token is required (401 before any validation),
 * both header spellings work, the runner-facing v4 routes sharing `/api/v4` are not
 * captured by the admin routes, and /swagger/json documents every route.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ADMIN_TOKEN, makePipeline, makeProject, REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';
import { BAD_TOKENS, body } from './rest-fixtures';

let s: TestServer;
let ids: { project: number; pipeline: number; job: number; runner: number };
beforeAll(async () => {
  s = await startTestServer();
  const project = makeProject(s.core);
  const pipeline = await makePipeline(s.core, project.id, 'build:\n  script: [make]\n');
  const runner = s.core.runners.register({ token: REGISTRATION_TOKEN, protocol: 'v4' }).runner;
  ids = { project: project.id, pipeline: pipeline.id, job: s.core.pipelines.latestJobs(pipeline.id)[0].id, runner: runner.id };
});
afterAll(async () => s.stop());

/** Every admin route of the REST API; `:p`, `:pl`, `:j`, `:r` are filled with real ids. */
const ROUTES: [string, string][] = [
  ['POST', '/projects'], ['GET', '/projects'], ['GET', '/projects/:p'], ['PUT', '/projects/:p'], ['DELETE', '/projects/:p'],
  ['GET', '/projects/:p/variables'], ['POST', '/projects/:p/variables'], ['GET', '/projects/:p/variables/K'],
  ['PUT', '/projects/:p/variables/K'], ['DELETE', '/projects/:p/variables/K'],
  ['POST', '/projects/:p/pipeline'], ['GET', '/projects/:p/pipelines'], ['GET', '/projects/:p/pipelines/:pl'],
  ['GET', '/projects/:p/pipelines/:pl/jobs'], ['POST', '/projects/:p/pipelines/:pl/cancel'],
  ['POST', '/projects/:p/pipelines/:pl/retry'], ['DELETE', '/projects/:p/pipelines/:pl'],
  ['GET', '/projects/:p/jobs'], ['GET', '/projects/:p/jobs/:j'], ['GET', '/projects/:p/jobs/:j/trace'],
  ['POST', '/projects/:p/jobs/:j/cancel'], ['POST', '/projects/:p/jobs/:j/retry'], ['POST', '/projects/:p/jobs/:j/play'],
  ['GET', '/projects/:p/jobs/:j/artifacts'], ['DELETE', '/projects/:p/jobs/:j/artifacts'], ['POST', '/projects/:p/jobs/:j/artifacts/keep'],
  ['GET', '/runners/all'], ['GET', '/runners'], ['GET', '/runners/:r'], ['PUT', '/runners/:r'], ['DELETE', '/runners/:r'],
  ['GET', '/projects/:p/runners'], ['POST', '/projects/:p/runners'], ['DELETE', '/projects/:p/runners/:r'],
];
const fill = (path: string) => `/api/v4${path.replace(':pl', String(ids.pipeline)).replace(':p', String(ids.project)).replace(':j', String(ids.job)).replace(':r', String(ids.runner))}`;

describe('admin authentication', () => {
  for (const bad of BAD_TOKENS) {
    test.each(ROUTES)(`${bad.name}: %s %s → 401`, async (method, path) => {
      // A body that would fail validation: authentication must be decided first.
      const res = await s.api(fill(path), { method, auth: false, headers: bad.headers, ...(['POST', 'PUT'].includes(method) ? { json: { build_timeout: 'x', ref: 7 } } : {}) });
      expect(await body(res, 401)).toEqual({ message: '401 Unauthorized' });
    });
  }

  test('nothing changed after the refused calls', () => {
    expect(s.core.projects.get(ids.project).id).toBe(ids.project);
    expect(s.core.pipelines.get(ids.pipeline).status).toBe('pending');
    expect(s.core.runners.get(ids.runner).active).toBe(true);
  });

  test('PRIVATE-TOKEN and Authorization: Bearer both work', async () => {
    await body(await s.api('/api/v4/projects', { auth: false, headers: { 'PRIVATE-TOKEN': ADMIN_TOKEN } }), 200);
    await body(await s.api('/api/v4/projects', { auth: false, headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }), 200);
  });
});

describe('the runner-facing v4 routes are not captured by the admin routes', () => {
  test('register, verify and unregister with runner credentials only', async () => {
    const reg = await body<{ id: number; token: string }>(await s.api('/api/v4/runners', { method: 'POST', auth: false, json: { token: REGISTRATION_TOKEN, description: 'v4' } }), 201);
    await body(await s.api('/api/v4/runners/verify', { method: 'POST', auth: false, json: { token: reg.token } }), 200);
    const del = await s.api('/api/v4/runners', { method: 'DELETE', auth: false, json: { token: reg.token } });
    expect(del.status).toBe(204);
    expect(() => s.core.runners.get(reg.id)).toThrow();
  });

  test('a job request with a runner token is answered by the runner API', async () => {
    const reg = await body<{ token: string }>(await s.api('/api/v4/runners', { method: 'POST', auth: false, json: { token: REGISTRATION_TOKEN, tag_list: 'nothing-has-this', run_untagged: false } }), 201);
    const res = await s.api('/api/v4/jobs/request', { method: 'POST', auth: false, json: { token: reg.token } });
    expect(res.status).toBe(204);
  });
});

describe('OpenAPI', () => {
  test('/swagger/json documents every REST route with a tag and a summary', async () => {
    const doc = await body<{ paths: Record<string, Record<string, { tags?: string[]; summary?: string }>> }>(await s.api('/swagger/json', { auth: false }), 200);
    for (const [method, path] of ROUTES) {
      const key = `/api/v4${path.replace(':pl', '{pipeline_id}').replace(':p', '{id}').replace(':j', '{job_id}').replace(':r', path.startsWith('/projects') ? '{runner_id}' : '{id}').replace('/K', '/{key}')}`;
      const op = doc.paths[key]?.[method.toLowerCase()];
      expect({ key, method, documented: !!op?.summary && !!op?.tags?.length }).toEqual({ key, method, documented: true });
    }
  });
});
