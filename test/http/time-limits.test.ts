/**
 * Time limits and expiry with an injected clock (no sleeps): job timeout, stuck jobs,
 * pending timeout, artifact expiry; and what the runner sees afterwards.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock } from '../../src/clock';
import { makePipeline, makeProject, REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';

const UA = 'gitlab-ci-multi-runner 1.11.5 (1-11-stable; go1.7.5; linux/amd64)';
let server: TestServer;
afterEach(async () => server?.stop());

async function v1(path: string, body: unknown, method = 'POST', headers: Record<string, string> = {}) {
  return fetch(`${server.url}/ci/api/v1${path}`, {
    method, headers: { 'content-type': 'application/json', 'user-agent': UA, ...headers }, body: JSON.stringify(body),
  });
}

async function setup(yaml: string, overrides = {}) {
  const clock = new FakeClock();
  server = await startTestServer(overrides, { clock });
  const project = makeProject(server.core);
  const reg = (await (await v1('/runners/register.json', { token: REGISTRATION_TOKEN })).json()) as { token: string };
  const pipeline = await makePipeline(server.core, project.id, yaml);
  return { clock, project, runnerToken: reg.token as string, pipeline };
}

async function take(runnerToken: string) {
  const r = await v1('/builds/register.json', { token: runnerToken });
  expect(r.status).toBe(201);
  return r.json() as Promise<{ id: number; token: string; timeout: number; depends_on_builds: { id: number; artifacts_file?: unknown }[] }>;
}

describe('time limits', () => {
  test('a job running past its timeout fails with job_execution_timeout and its runner is refused', async () => {
    const { clock, runnerToken } = await setup('build:\n  script: [sleep 100]\n  timeout: 10 minutes\n');
    const build = await take(runnerToken);
    expect(build.timeout).toBe(600);
    clock.advance(599_000);
    expect(server.core.reaper.sweep().timedOut).toBe(0);
    clock.advance(62_000 + 1_000);
    const res = server.core.reaper.sweep();
    expect(res.timedOut).toBe(1);
    const job = server.core.jobs.get(build.id);
    expect([job.status, job.failureReason]).toEqual(['failed', 'job_execution_timeout']);
    const put = await v1(`/builds/${build.id}.json`, { token: runnerToken, state: 'running' }, 'PUT');
    expect(put.status).toBe(404);
    const patch = await fetch(`${server.url}/ci/api/v1/builds/${build.id}/trace.txt`, {
      method: 'PATCH', headers: { 'BUILD-TOKEN': build.token, 'content-range': '0-2' }, body: 'hi',
    });
    expect(patch.status).toBe(202);
    expect(patch.headers.get('build-status')).toBe('failed');
  });

  test('a silent running job is failed as stuck; any sign of life resets the count', async () => {
    const { clock, runnerToken } = await setup('build:\n  script: [x]\n', { stuckTimeout: 600 });
    const build = await take(runnerToken);
    clock.advance(500_000);
    const patch = await fetch(`${server.url}/ci/api/v1/builds/${build.id}/trace.txt`, {
      method: 'PATCH', headers: { 'BUILD-TOKEN': build.token, 'content-range': '0-2' }, body: 'hi',
    });
    expect(patch.status).toBe(202);
    clock.advance(500_000);
    expect(server.core.reaper.sweep().stuck).toBe(0);
    clock.advance(101_000);
    expect(server.core.reaper.sweep().stuck).toBe(1);
    const job = server.core.jobs.get(build.id);
    expect([job.status, job.failureReason]).toEqual(['failed', 'stuck_or_timeout_failure']);
    expect(server.core.pipelines.get(job.pipelineId).status).toBe('failed');
  });

  test('a job pending longer than --pending-timeout is failed', async () => {
    const { clock, pipeline } = await setup('build:\n  script: [x]\n', { pendingTimeout: 3600 });
    clock.advance(3_599_000);
    expect(server.core.reaper.sweep().pendingExpired).toBe(0);
    clock.advance(2_000);
    expect(server.core.reaper.sweep().pendingExpired).toBe(1);
    expect(server.core.pipelines.get(pipeline.id).status).toBe('failed');
  });

  test('expired artifacts are swept from disk and database and no longer offered as dependencies', async () => {
    const { clock, runnerToken } = await setup('build:\n  stage: build\n  script: [x]\ntest:\n  stage: test\n  script: [y]\n');
    const build = await take(runnerToken);
    const form = new FormData();
    form.append('file', new Blob(['zipbytes']), 'artifacts.zip');
    const up = await fetch(`${server.url}/ci/api/v1/builds/${build.id}/artifacts?expire_in=1+hour`, {
      method: 'POST', headers: { 'BUILD-TOKEN': build.token }, body: form,
    });
    expect(up.status).toBe(201);
    expect((await v1(`/builds/${build.id}.json`, { token: runnerToken, state: 'success' }, 'PUT')).status).toBe(200);
    const file = join(server.dataDir, 'artifacts', `${build.id}.zip`);
    expect(existsSync(file)).toBe(true);
    clock.advance(3_601_000);
    expect(server.core.reaper.sweep().artifactsExpired).toBe(1);
    expect(existsSync(file)).toBe(false);
    expect(server.core.jobs.get(build.id).artifactsFile).toBeNull();
    const next = await take(runnerToken);
    expect(next.depends_on_builds).toHaveLength(1);
    expect(next.depends_on_builds[0].artifacts_file).toBeUndefined();
  });

  test('expired but not yet swept artifacts are not offered either', async () => {
    const { clock, runnerToken } = await setup('build:\n  stage: build\n  script: [x]\ntest:\n  stage: test\n  script: [y]\n');
    const build = await take(runnerToken);
    const form = new FormData();
    form.append('file', new Blob(['zipbytes']), 'artifacts.zip');
    await fetch(`${server.url}/ci/api/v1/builds/${build.id}/artifacts?expire_in=60`, { method: 'POST', headers: { 'BUILD-TOKEN': build.token }, body: form });
    await v1(`/builds/${build.id}.json`, { token: runnerToken, state: 'success' }, 'PUT');
    clock.advance(61_000);
    const next = await take(runnerToken);
    expect(next.depends_on_builds[0].artifacts_file).toBeUndefined();
  });
});

describe('pending reasons and runner liveness', () => {
  test('pending_reason explains why a job waits', async () => {
    const clock = new FakeClock();
    server = await startTestServer({}, { clock });
    const project = makeProject(server.core);
    const p = await makePipeline(server.core, project.id, 'a:\n  stage: build\n  tags: [gpu]\n  script: [x]\nb:\n  stage: test\n  script: [y]\nc:\n  stage: build\n  when: manual\n  script: [z]\n');
    const jobs = server.core.pipelines.latestJobs(p.id);
    const [a, c, b] = [jobs.find((j) => j.name === 'a')!, jobs.find((j) => j.name === 'c')!, jobs.find((j) => j.name === 'b')!];
    expect(server.core.jobs.pendingReason(b)).toContain('earlier stage');
    expect(server.core.jobs.pendingReason(c)).toContain('manual');
    expect(server.core.jobs.pendingReason(a)).toContain('no runner is online');
    const reg = (await (await v1('/runners/register.json', { token: REGISTRATION_TOKEN, tag_list: 'linux' })).json()) as { token: string };
    // registered but never polled: not online yet
    expect(server.core.jobs.pendingReason(a)).toContain('no runner is online');
    await v1('/builds/register.json', { token: reg.token });
    expect(server.core.jobs.pendingReason(a)).toBe('no online runner has the tags gpu');
    const runner = server.core.runners.authenticate(reg.token)!;
    expect(server.core.runners.isOnline(runner)).toBe(true);
    clock.advance(3_600_001);
    expect(server.core.runners.isOnline(server.core.runners.get(runner.id))).toBe(false);
  });
});
