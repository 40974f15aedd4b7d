/**
 * Job Hook events at every job status change, through the outbox to a loopback recorder (a
 * project hook with `job_events: true`; Baton runs with --allow-local-requests): a DAG
 * (`needs: []`, `needs: [build]`), a resource group held by another pipeline
 * (waiting_for_resource → pending), a delayed job (scheduled → pending when its time comes),
 * a manual job played, a pipeline cancel (running, pending and created jobs), an automatic
 * retry, and a retry by hand that re-opens a skipped dependant (skipped → created). Every
 * job's sequence of `build_status` values must arrive, in the order the changes happened
 * (deliveries run concurrently; the outbox row of each says its place), in GitLab's Job
 * Hook shape.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { FakeClock } from '../../src/clock';
import { outbox } from '../../src/db/schema';
import type { Core } from '../../src/core';
import { FakeRunnerV4, type JobBehaviour, type V4Job } from '../support/fake-runner-v4';
import { makePipeline, makeProject, startTestServer, type TestServer } from '../support/harness';
import { startRecorder, type Recorder } from '../support/recorder';

let s: TestServer;
let core: Core;
let rec: Recorder;
const clock = new FakeClock(Date.UTC(2026, 6, 1, 9));
beforeAll(async () => {
  rec = startRecorder(200);
  s = await startTestServer({ allowLocalRequests: true }, { clock, outboxEveryMs: 0 });
  core = s.core;
});
afterAll(async () => {
  await s.stop();
  rec.stop();
});

const HOOK_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/;

test('every status change of every job reaches the hook, in order, as a GitLab Job Hook', async () => {
  const project = makeProject(core);
  const hook = await s.api(`/api/v4/projects/${project.id}/hooks`, { method: 'POST', json: { url: `${rec.url}/jobs`, token: 'job-hook-token', job_events: true, pipeline_events: false, push_events: false } });
  expect(hook.status).toBe(201);
  const runner = await FakeRunnerV4.register(s.url, project.runnersToken, { sendExitCode: true });
  const take = async (name: string): Promise<V4Job> => {
    const job = await runner.poll();
    expect(job?.job_info.name, `the runner should get ${name}`).toBe(name);
    return job!;
  };
  const run = async (name: string, b: JobBehaviour = {}) => runner.run(await take(name), b);

  // P2 holds the resource group
  const p2 = await makePipeline(core, project.id, 'deploy:\n  script: [deploy]\n  resource_group: prod\n');
  const holder = await take('deploy');

  const p1 = await makePipeline(core, project.id, `
stages: [build, test, deploy, cleanup, final]
build:
  stage: build
  script: [make]
lint:
  stage: test
  needs: []
  script: [lint]
unit:
  stage: test
  needs: [build]
  script: [test]
deploy:
  stage: deploy
  needs: [unit]
  script: [deploy]
  resource_group: prod
notify:
  stage: deploy
  script: [notify]
  when: delayed
  start_in: 30 minutes
release:
  stage: deploy
  script: [release]
  when: manual
cleanup:
  stage: cleanup
  script: [cleanup]
nobody-takes:
  stage: cleanup
  script: [x]
  tags: [nowhere]
final:
  stage: final
  script: [final]
`);
  await run('build');
  await run('lint');
  await run('unit');
  const byName = (pipelineId: number, name: string) => core.pipelines.latestJobs(pipelineId).find((j) => j.name === name)!;
  expect(byName(p1.id, 'deploy').status).toBe('waiting_for_resource');
  await runner.run(holder, {});
  await run('deploy');
  expect(byName(p1.id, 'notify').status).toBe('scheduled');
  clock.advance(31 * 60_000);
  expect(core.pipelines.enqueueDue()).toBe(1);
  await run('notify');
  expect((await s.api(`/api/v4/projects/${project.id}/jobs/${byName(p1.id, 'release').id}/play`, { method: 'POST' })).status).toBe(200);
  await run('release');
  const cleanup = await take('cleanup');
  expect(byName(p1.id, 'nobody-takes').status).toBe('pending');
  expect((await s.api(`/api/v4/projects/${project.id}/pipelines/${p1.id}/cancel`, { method: 'POST' })).status).toBe(200);
  const aborted = await runner.run(cleanup, { output: ['still cleaning'] });
  expect(aborted.aborted).toBe(true);

  // P3: an automatic retry, and a retry by hand that re-opens the skipped dependant
  const p3 = await makePipeline(core, project.id, `
check:
  script: [check]
flaky:
  script: [flaky]
  retry: 1
after-check:
  needs: [check]
  script: [after]
`);
  await run('check', { exit: 'failed', exitCode: 1 });
  await run('flaky', { exit: 'failed', exitCode: 2 });
  await run('flaky');
  expect(byName(p3.id, 'after-check').status).toBe('skipped');
  expect((await s.api(`/api/v4/projects/${project.id}/jobs/${byName(p3.id, 'check').id}/retry`, { method: 'POST' })).status).toBe(201);
  await run('check');
  await run('after-check');
  expect(await runner.poll()).toBeNull();

  await core.outbox.drain();
  // Deliveries go out concurrently (as GitLab's do), so they may arrive in any order; the
  // order they were produced in is the outbox's (its Idempotency-Key names the row).
  const rowOf = new Map(core.deps.db.select({ id: outbox.id, key: outbox.dedupeKey }).from(outbox).all().map((r) => [r.key, r.id]));
  const hooks = rec.requests.filter((r) => r.path === '/jobs').sort((a, b) => rowOf.get(a.headers['idempotency-key'])! - rowOf.get(b.headers['idempotency-key'])!);
  expect(hooks.every((r) => rowOf.has(r.headers['idempotency-key']))).toBe(true);
  for (const r of hooks) {
    expect(r.headers['x-gitlab-event']).toBe('Job Hook');
    expect(r.headers['x-gitlab-token']).toBe('job-hook-token');
  }
  // every job, every attempt: the statuses it went through, in order
  const seen = new Map<number, string[]>();
  for (const r of hooks) seen.set(r.body.build_id, [...(seen.get(r.body.build_id) ?? []), r.body.build_status]);
  const all = [p2, p1, p3].flatMap((p) => core.jobs.list(project.id, { pipelineId: p.id, offset: 0, limit: 100 }).rows.sort((a, b) => a.id - b.id));
  const label = (j: (typeof all)[number]) => `${j.pipelineId === p2.id ? 'P2' : j.pipelineId === p1.id ? 'P1' : 'P3'} ${j.name}${j.retryOf ? ' (retry)' : ''}`;
  const got = Object.fromEntries(all.map((j) => [label(j), seen.get(j.id) ?? []]));
  expect(got).toEqual({
    'P2 deploy': ['waiting_for_resource', 'pending', 'running', 'success'], // granted in the same transaction, told as two changes (GitLab's two transitions)
    'P1 build': ['pending', 'running', 'success'],
    'P1 lint': ['pending', 'running', 'success'],
    'P1 unit': ['pending', 'running', 'success'],
    'P1 deploy': ['waiting_for_resource', 'pending', 'running', 'success'],
    'P1 notify': ['scheduled', 'pending', 'running', 'success'],
    'P1 release': ['manual', 'pending', 'running', 'success'],
    'P1 cleanup': ['pending', 'running', 'canceled'],
    'P1 nobody-takes': ['pending', 'canceled'],
    'P1 final': ['canceled'],
    'P3 check': ['pending', 'running', 'failed'],
    'P3 flaky': ['pending', 'running', 'failed'],
    'P3 after-check': ['skipped', 'created', 'pending', 'running', 'success'],
    'P3 flaky (retry)': ['pending', 'running', 'success'],
    'P3 check (retry)': ['pending', 'running', 'success'],
  });
  expect(hooks.length).toBe(Object.values(got).flat().length);

  // GitLab's Job Hook shape, as each event saw the job
  const byId = new Map(all.map((j) => [j.id, j]));
  for (const { body: b } of hooks) {
    const j = byId.get(b.build_id)!;
    expect(b).toMatchObject({
      object_kind: 'build', build_id: j.id, build_name: j.name, build_stage: j.stage, pipeline_id: j.pipelineId,
      project_id: project.id, ref: 'main', tag: false, sha: expect.stringMatching(/^[0-9a-f]{40}$/), retries_count: j.retryOf ? 1 : 0,
      commit: { id: j.pipelineId, sha: b.sha }, project: { id: project.id }, repository: { name: project.name },
    });
    expect(b.build_created_at).toMatch(HOOK_TIME);
    const started = ['running', 'success', 'failed'].includes(b.build_status) || (b.build_status === 'canceled' && j.startedAt !== null);
    if (started) {
      expect(b.build_started_at).toMatch(HOOK_TIME);
      expect(b.runner).toMatchObject({ id: expect.any(Number), description: 'fake-v4-runner', runner_type: 'project_type', is_shared: false });
    } else {
      expect([b.build_started_at, b.runner]).toEqual([null, null]);
    }
    if (['success', 'failed', 'canceled'].includes(b.build_status)) expect(b.build_finished_at).toMatch(HOOK_TIME);
    else expect(b.build_finished_at).toBeNull();
    if (b.build_status === 'failed') expect(b.build_failure_reason).toBe('script_failure');
    if (b.build_status === 'pending' && j.name !== 'final') expect(typeof b.build_queued_duration === 'number' || b.build_queued_duration === null).toBe(true);
  }
  // the runner's view and the hook's agree on the ends
  for (const j of all) expect([label(j), seen.get(j.id)?.at(-1)]).toEqual([label(j), j.status]);
});
