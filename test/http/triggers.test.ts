/**
 * Trigger tokens and CI_JOB_TOKEN as trigger, against a real server and a real repository:
 * CRUD, the token shown once and kept as a hash, variables as form, JSON and query, the
 * ref-in-path form, source trigger / pipeline as CI_PIPELINE_SOURCE in the job, GitLab's
 * 404 for wrong tokens and 403 for Pipeline Hook loops.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeRunnerV4 } from '../support/fake-runner-v4';
import { makeRepo, type TestRepo } from '../support/git-repo';
import { REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';

let server: TestServer;
let repo: TestRepo;
let projectId: number;
let token: string;

beforeAll(async () => {
  repo = makeRepo({ '.gitlab-ci.yml': 'build:\n  script: [echo $DEPLOY]\n' });
  repo.branch('feature/x');
  server = await startTestServer();
  projectId = ((await (await server.api('/api/v4/projects', { method: 'POST', json: { name: 'trig', repo_url: repo.dir } })).json()) as { id: number }).id;
});
afterAll(async () => {
  await server.stop();
  repo.remove();
});

const trigger = (body: string, headers: Record<string, string> = {}, path = `/api/v4/projects/${projectId}/trigger/pipeline`) =>
  fetch(server.url + path, { method: 'POST', headers, body });

describe('trigger tokens', () => {
  test('create shows the glptt- token once; lists show only its start; the database has only its hash', async () => {
    const res = await server.api(`/api/v4/projects/${projectId}/triggers`, { method: 'POST', json: { description: 'deploys' } });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: number; token: string; description: string; last_used: null };
    expect(created.token).toMatch(/^glptt-[0-9a-f]{40}$/);
    token = created.token;
    const listed = (await (await server.api(`/api/v4/projects/${projectId}/triggers`)).json()) as { token: string }[];
    expect(listed.map((t) => t.token)).toEqual([token.slice(0, 10)]);
    const edited = (await (await server.api(`/api/v4/projects/${projectId}/triggers/${created.id}`, { method: 'PUT', json: { description: 'prod deploys' } })).json()) as { description: string };
    expect(edited.description).toBe('prod deploys');
    expect(readFileSync(join(server.dataDir, 'baton.db')).includes(Buffer.from(token))).toBe(false);
    expect((await server.api(`/api/v4/projects/${projectId}/triggers/999`)).status).toBe(404);
  });

  test('form, JSON and query all start a trigger pipeline with the variables', async () => {
    const form = new URLSearchParams({ token, ref: 'main', 'variables[DEPLOY]': 'staging', 'variables[FLAG]': '1' });
    const a = await trigger(form.toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(a.status).toBe(201);
    const pa = (await a.json()) as { id: number; source: string; ref: string };
    expect([pa.source, pa.ref]).toEqual(['trigger', 'main']);
    expect(server.core.pipelines.get(pa.id).triggerVariables).toEqual([{ key: 'DEPLOY', value: 'staging' }, { key: 'FLAG', value: '1' }]);
    const b = await trigger(JSON.stringify({ token, ref: 'main', variables: { DEPLOY: 'prod' } }), { 'content-type': 'application/json' });
    expect(b.status).toBe(201);
    expect(server.core.pipelines.get(((await b.json()) as { id: number }).id).triggerVariables).toEqual([{ key: 'DEPLOY', value: 'prod' }]);
    const c = await trigger('', {}, `/api/v4/projects/${projectId}/trigger/pipeline?token=${token}&ref=main&variables[DEPLOY]=q`);
    expect(c.status).toBe(201);
    const d = await trigger('', {}, `/api/v4/projects/${projectId}/ref/${encodeURIComponent('feature/x')}/trigger/pipeline?token=${token}`);
    expect(d.status).toBe(201);
    expect(((await d.json()) as { ref: string }).ref).toBe('feature/x');
    const listed = (await (await server.api(`/api/v4/projects/${projectId}/triggers`)).json()) as { last_used: string | null }[];
    expect(listed[0].last_used).not.toBeNull();
  });

  test('wrong tokens are 404; bad parameters 400; a Pipeline Hook is 403', async () => {
    const cases: [string, Record<string, unknown>, number, string][] = [
      ['unknown token', { token: 'glptt-' + '0'.repeat(40), ref: 'main' }, 404, '404 Not Found'],
      ['admin token', { token: 'test-admin-token-0123456789', ref: 'main' }, 404, '404 Not Found'],
      ['no token', { ref: 'main' }, 400, 'token is missing'],
      ['no ref', { token }, 400, 'ref is missing'],
      ['unknown ref', { token, ref: 'nope' }, 400, 'Reference not found'],
      ['non-string variables', { token, ref: 'main', variables: { A: 1 } }, 400, 'variables needs to be a map of key-valued strings'],
    ];
    for (const [what, body, status, message] of cases) {
      const res = await trigger(JSON.stringify(body), { 'content-type': 'application/json' });
      expect(`${what}: ${res.status}`).toBe(`${what}: ${status}`);
      expect(JSON.stringify(await res.json())).toContain(message);
    }
    const other = ((await (await server.api('/api/v4/projects', { method: 'POST', json: { name: 'other', repo_url: repo.dir } })).json()) as { id: number }).id;
    expect((await trigger(JSON.stringify({ token, ref: 'main' }), { 'content-type': 'application/json' }, `/api/v4/projects/${other}/trigger/pipeline`)).status).toBe(404);
    expect((await trigger(JSON.stringify({ token, ref: 'main' }), { 'content-type': 'application/json', 'X-Gitlab-Event': 'Pipeline Hook' })).status).toBe(403);
  });

  test("a running job's CI_JOB_TOKEN triggers a `pipeline` pipeline of its project; jobs see CI_PIPELINE_SOURCE", async () => {
    // drain what the earlier tests queued, checking each job's CI_PIPELINE_SOURCE
    const runner = await FakeRunnerV4.register(server.url, REGISTRATION_TOKEN);
    let job = await runner.poll();
    const sources = new Set<string>();
    let running = job;
    while (job) {
      sources.add(job.variables!.find((v) => v.key === 'CI_PIPELINE_SOURCE')!.value);
      running = job;
      const next = await runner.poll();
      if (!next) break;
      job = next;
    }
    expect([...sources]).toEqual(['trigger']);
    const res = await trigger(JSON.stringify({ token: running!.token, ref: 'main' }), { 'content-type': 'application/json' });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { source: string }).source).toBe('pipeline');
    const child = await runner.poll();
    expect(child!.variables!.find((v) => v.key === 'CI_PIPELINE_SOURCE')!.value).toBe('pipeline');
    // once the job has ended its token triggers nothing
    await runner.run(running!, { exit: 'success' });
    expect((await trigger(JSON.stringify({ token: running!.token, ref: 'main' }), { 'content-type': 'application/json' })).status).toBe(404);
  });

  test('delete', async () => {
    const [t] = (await (await server.api(`/api/v4/projects/${projectId}/triggers`)).json()) as { id: number }[];
    expect((await server.api(`/api/v4/projects/${projectId}/triggers/${t.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await trigger(JSON.stringify({ token, ref: 'main' }), { 'content-type': 'application/json' })).status).toBe(404);
  });
});
