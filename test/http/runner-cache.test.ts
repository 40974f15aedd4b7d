/**
 * Runners are remembered by token for a second (polls are hot). A change made through this
 * server takes effect on the very next poll; a change made by another process sharing the
 * data dir (simulated by writing the database directly) within about a second.
 */
import { afterEach, expect, test } from 'bun:test';
import { REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';

let server: TestServer;
afterEach(async () => server?.stop());

const UA = 'gitlab-ci-multi-runner 1.11.5 (1-11-stable; go1.7.5; linux/amd64)';
const post = (path: string, body: unknown) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': UA }, body: JSON.stringify(body) });

async function registered() {
  const { id, token } = (await (await post('/ci/api/v1/runners/register.json', { token: REGISTRATION_TOKEN })).json()) as { id: number; token: string };
  expect((await post('/ci/api/v1/builds/register.json', { token })).status).toBe(204); // now remembered
  return { id, token };
}

test('pausing a runner through the API takes effect on its next poll', async () => {
  server = await startTestServer();
  const { id, token } = await registered();
  expect((await server.api(`/api/v4/runners/${id}`, { method: 'PUT', json: { paused: true } })).status).toBe(200);
  expect((await post('/ci/api/v1/builds/register.json', { token })).status).toBe(404); // v1: a paused runner gets 404
});

test('deleting a runner through the API refuses its next poll', async () => {
  server = await startTestServer();
  const { id, token } = await registered();
  expect((await server.api(`/api/v4/runners/${id}`, { method: 'DELETE' })).status).toBe(204);
  expect((await post('/ci/api/v1/builds/register.json', { token })).status).toBe(403);
});

test('a runner deleted by another process is refused within about a second', async () => {
  server = await startTestServer();
  const { id, token } = await registered();
  server.core.deps.db.$client.run('DELETE FROM runners WHERE id = ?', [id]);
  const deadline = Date.now() + 3000;
  let status = 0;
  while (Date.now() < deadline) {
    status = (await post('/ci/api/v1/builds/register.json', { token })).status;
    if (status === 403) break;
    await Bun.sleep(100);
  }
  expect(status).toBe(403);
});

test('work created by another process reaches a runner echoing the old queue value within about a second', async () => {
  server = await startTestServer();
  const { token } = await registered();
  const first = await post('/ci/api/v1/builds/register.json', { token });
  const lastUpdate = first.headers.get('x-gitlab-last-update')!;
  // another process: a pending job and a queue tick, written straight to the database
  const project = server.core.projects.create({ name: 'other', repoUrl: '/tmp/none.git' });
  const db = server.core.deps.db.$client;
  const now = Date.now();
  db.run(`INSERT INTO pipelines (project_id, ref, sha, before_sha, status, created_at, updated_at) VALUES (?, 'main', ?, ?, 'pending', ?, ?)`,
    [project.id, 'a'.repeat(40), '0'.repeat(40), now, now]);
  const pipelineId = (db.query('SELECT max(id) AS id FROM pipelines').get() as { id: number }).id;
  const spec = { name: 'x', stage: 'test', stageIdx: 0, beforeScript: [], script: ['true'], afterScript: [], services: [], variables: {}, tags: [], when: 'on_success', allowFailure: false, retry: 0 };
  db.run(`INSERT INTO jobs (pipeline_id, project_id, name, stage, stage_idx, status, spec, created_at, updated_at, queued_at) VALUES (?, ?, 'x', 'test', 0, 'pending', ?, ?, ?, ?)`,
    [pipelineId, project.id, JSON.stringify(spec), now, now, now]);
  db.run(`UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'queue_epoch'`);
  const deadline = Date.now() + 3000;
  let status = 0;
  while (Date.now() < deadline) {
    status = (await post('/ci/api/v1/builds/register.json', { token, last_update: lastUpdate })).status;
    if (status === 201) break;
    await Bun.sleep(100);
  }
  expect(status).toBe(201);
});
