/**
 * Job keywords applied at run time, driven by the simulated v4 runner against a real server
 * (plans built by hand, test/support/plan.ts): dotenv, junit test reports, exit-code rules,
 * resource groups, delayed jobs (injected clock), auto-cancel, environments and deployments,
 * and a bridge to another project with `strategy: depend`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../src/clock';
import type { Core } from '../../src/core';
import { projectFullPath, projectWebUrl } from '../../src/core/projects';
import { FakeRunnerV4, type JobBehaviour } from '../support/fake-runner-v4';
import { makeProject, REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';
import { createPipeline, job, nextSha, plan, statuses } from '../support/plan';

let server: TestServer;
let core: Core;
let runner: FakeRunnerV4;
const clock = new FakeClock(Date.UTC(2026, 2, 1, 12));
beforeAll(async () => {
  server = await startTestServer({}, { clock });
  core = server.core;
  runner = await FakeRunnerV4.register(server.url, REGISTRATION_TOKEN);
});
afterAll(() => server.stop());

async function drain(behaviours: Record<string, JobBehaviour> = {}) {
  const ran: string[] = [];
  for (let i = 0; i < 50; i++) {
    const r = await runner.runOne(behaviours);
    if (!r) return ran;
    ran.push(r.name);
  }
  throw new Error('too many jobs');
}

/** Runs every job the runner gets, each attempt as `attempt(name, n)` says (n from 1); the attempts per name. */
async function runAttempts(attempt: (name: string, n: number) => JobBehaviour): Promise<Record<string, number>> {
  const attempts: Record<string, number> = {};
  for (let i = 0; i < 10; i++) {
    const j = await runner.poll();
    if (!j) return attempts;
    const name = j.job_info.name;
    attempts[name] = (attempts[name] ?? 0) + 1;
    await runner.run(j, attempt(name, attempts[name]));
  }
  throw new Error('too many attempts');
}

const api = async (path: string, init: Parameters<TestServer['api']>[1] = {}) => {
  const res = await server.api(path, init);
  return { status: res.status, body: await res.json().catch(() => null) as any };
};
const byName = (pipelineId: number, name: string) => core.pipelines.latestJobs(pipelineId).find((j) => j.name === name)!;
const variablesOf = (payload: unknown) => new Map(((payload as { variables: { key: string; value: string }[] }).variables).map((v) => [v.key, v.value]));

describe('artifacts:reports:dotenv', () => {
  test('variables reach the jobs that need it with artifacts, at dotenv precedence', async () => {
    const project = makeProject(core);
    core.projects.createVariable(project.id, { key: 'OVERRIDE', value: 'project wins' });
    createPipeline(core, project.id, plan([
      job('build', { stage: 'build', artifacts: { reports: [{ type: 'dotenv', paths: ['build.env'] }] }, variables: { VERSION: 'from yaml' } }),
      job('deploy', { stage: 'deploy', needs: ['build'], variables: { VERSION: 'job yaml' } }),
      job('no_artifacts', { stage: 'deploy', needs: [{ job: 'build', artifacts: false }] }),
      job('stage_job', { stage: 'deploy' }),
    ]));
    const build = (await runner.poll())!;
    expect(build.artifacts).toEqual([{ name: '.env', paths: ['build.env'], when: 'always', artifact_type: 'dotenv', artifact_format: 'gzip' }]);
    await runner.run(build, { reports: { dotenv: 'VERSION=1.2.3\n  SPACED = kept inner = signs\nURL=https://x.example/?a=b\nOVERRIDE=dotenv\n' } });
    const seen: Record<string, Map<string, string>> = {};
    for (let i = 0; i < 3; i++) {
      const j = (await runner.poll())!;
      seen[j.job_info.name] = variablesOf(runner.payloads.at(-1));
      await runner.run(j, {});
    }
    // dotenv over the job's YAML, project variables over dotenv (a later entry wins on the runner)
    expect(seen.deploy.get('VERSION')).toBe('1.2.3');
    expect(seen.deploy.get('OVERRIDE')).toBe('project wins');
    expect(seen.deploy.get('SPACED')).toBe('kept inner = signs');
    expect(seen.deploy.get('URL')).toBe('https://x.example/?a=b');
    expect(seen.no_artifacts.has('SPACED')).toBe(false);
    expect(seen.stage_job.get('VERSION')).toBe('1.2.3');
  });

  const BAD: [string, string, string][] = [
    ['a blank line', 'A=1\n\nB=2\n', 'Invalid Format'],
    ['a comment line', '# comment\nA=1\n', 'Invalid Format'],
    ['an invalid name', 'MY-VAR=1\n', "Validation failed: Key can contain only letters, digits and '_'."],
    ['21 variables', Array.from({ length: 21 }, (_, i) => `V${i}=${i}`).join('\n'), 'Dotenv files cannot have more than 20 variables'],
  ];
  for (const [what, content, message] of BAD) {
    test(`${what}: the upload is refused with GitLab's message and the job fails`, async () => {
      const project = makeProject(core);
      const p = createPipeline(core, project.id, plan([job('build', { stage: 'build', artifacts: { reports: [{ type: 'dotenv', paths: ['.env'] }] } })]));
      const calls = runner.calls.length;
      const r = (await runner.runOne({ build: { reports: { dotenv: content } } }))!;
      const upload = runner.calls.slice(calls).find((c) => c.path.includes('artifact_type=dotenv'))!;
      expect(upload.status).toBe(400);
      expect(r.state).toBe('failed');
      expect(statuses(core, p.id)).toEqual({ build: 'failed' });
      const res = await fetch(`${server.url}/api/v4/jobs/${r.jobId}/artifacts?artifact_format=gzip&artifact_type=dotenv`, { method: 'POST' });
      expect(res.status).toBe(403);
      expect(core.artifacts.reports(r.jobId)).toEqual([]);
      void message;
    });
  }

  test('the message of a refused dotenv is GitLab\'s', async () => {
    const project = makeProject(core);
    createPipeline(core, project.id, plan([job('build', { stage: 'build', artifacts: { reports: [{ type: 'dotenv', paths: ['.env'] }] } })]));
    const j = (await runner.poll())!;
    for (const [, content, message] of BAD) {
      const form = new FormData();
      form.append('file', new Blob([Bun.gzipSync(new TextEncoder().encode(content))]), '.env.gz');
      const res = await fetch(`${server.url}/api/v4/jobs/${j.id}/artifacts?artifact_format=gzip&artifact_type=dotenv`, { method: 'POST', headers: { 'JOB-TOKEN': j.token }, body: form });
      expect([res.status, await res.json()]).toEqual([400, { message }]);
    }
    const big = new FormData();
    big.append('file', new Blob([new Uint8Array(5200).fill(65)]), '.env.gz');
    const res = await fetch(`${server.url}/api/v4/jobs/${j.id}/artifacts?artifact_format=gzip&artifact_type=dotenv`, { method: 'POST', headers: { 'JOB-TOKEN': j.token }, body: big });
    expect([res.status, await res.json()]).toEqual([400, { message: 'Dotenv Artifact Too Big. Maximum Allowable Size: 5120' }]);
    await runner.run(j, {});
  });
});

describe('artifacts:reports:junit → test_report', () => {
  const XML = `<?xml version="1.0"?>
<testsuites><testsuite name="unit">
  <testcase classname="math" name="adds" time="0.25" file="spec/math.rb"/>
  <testcase classname="math" name="divides" time="1.5"><failure message="boom">expected 2, got 3</failure><system-out>[[ATTACHMENT|shots/div.png]]</system-out></testcase>
  <testcase classname="io" name="reads" time="0.1"><skipped/></testcase>
  <testcase classname="io" name="writes"><error message="EIO"/></testcase>
</testsuite></testsuites>`;

  test('a real upload becomes the pipeline\'s test report and summary, in GitLab\'s shapes', async () => {
    const project = makeProject(core);
    const p = createPipeline(core, project.id, plan([
      job('rspec', { stage: 'test', artifacts: { reports: [{ type: 'junit', paths: ['rspec.xml'] }] } }),
      job('broken', { stage: 'test', artifacts: { reports: [{ type: 'junit', paths: ['x.xml'] }] } }),
    ]));
    await drain({ rspec: { reports: { junit: XML } }, broken: { reports: { junit: '<html>not junit' } } });
    const rspec = byName(p.id, 'rspec');
    const report = await api(`/api/v4/projects/${project.id}/pipelines/${p.id}/test_report`);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ total_count: 4, success_count: 1, failed_count: 1, skipped_count: 1, error_count: 1 });
    expect(report.body.total_time).toBeCloseTo(1.85, 5);
    const [suite, bad] = report.body.test_suites;
    expect(suite).toMatchObject({ name: 'rspec', total_count: 4, suite_error: null });
    expect(suite.test_cases.map((c: any) => [c.status, c.name])).toEqual([['error', 'writes'], ['failed', 'divides'], ['success', 'adds'], ['skipped', 'reads']]);
    expect(suite.test_cases[1]).toEqual({
      status: 'failed', name: 'divides', classname: 'math', file: null, execution_time: 1.5,
      system_output: 'expected 2, got 3\n\nSystem Out:\n\n[[ATTACHMENT|shots/div.png]]', stack_trace: null, recent_failures: null,
      attachment_url: `${projectWebUrl(server.url, project)}/-/jobs/${rspec.id}/artifacts/file/shots/div.png`,
    });
    expect(suite.test_cases[2].file).toBe('spec/math.rb');
    expect(bad).toMatchObject({ name: 'broken', total_count: 0, test_cases: [] });
    expect(bad.suite_error).toStartWith('JUnit XML parsing failed:');
    const summary = await api(`/api/v4/projects/${project.id}/pipelines/${p.id}/test_report_summary`);
    expect(summary.body.total).toMatchObject({ count: 4, success: 1, failed: 1, skipped: 1, error: 1 });
    expect(summary.body.test_suites[0]).toEqual({
      name: 'rspec', total_time: 1.85, total_count: 4, success_count: 1, failed_count: 1, skipped_count: 1, error_count: 1,
      build_ids: [rspec.id], suite_error: null,
    });
    const entity = await api(`/api/v4/projects/${project.id}/jobs/${rspec.id}`);
    expect(entity.body.artifacts).toEqual([{ file_type: 'junit', size: expect.any(Number), filename: 'junit.xml.gz', file_format: 'gzip' }]);
  });
});

describe('exit codes: allow_failure and retry', () => {
  test('allow_failure:exit_codes and retry:exit_codes follow the reported exit code', async () => {
    const project = makeProject(core);
    const p = createPipeline(core, project.id, plan([
      job('soft', { stage: 'build', allowFailureExitCodes: [137] }),
      job('hard', { stage: 'build', allowFailureExitCodes: [137] }),
      job('flaky', { stage: 'build', retry: { max: 2, when: ['script_failure'], exit_codes: [75] } }),
      job('other_code', { stage: 'build', retry: { max: 2, when: ['always'], exit_codes: [75] } }),
    ]));
    const attempts = await runAttempts((name, n) => {
      const code = name === 'soft' ? 137 : name === 'hard' ? 1 : name === 'flaky' ? (n < 2 ? 75 : 0) : 3;
      return { exit: code === 0 ? 'success' : 'failed', exitCode: code };
    });
    expect(attempts).toEqual({ soft: 1, hard: 1, flaky: 2, other_code: 1 });
    expect(statuses(core, p.id)).toEqual({ soft: 'failed', hard: 'failed', flaky: 'success', other_code: 'failed' });
    expect(byName(p.id, 'soft')).toMatchObject({ allowFailure: true, exitCode: 137 });
    expect(byName(p.id, 'hard')).toMatchObject({ allowFailure: false, exitCode: 1 });
    const entity = await api(`/api/v4/projects/${project.id}/jobs/${byName(p.id, 'soft').id}`);
    expect(entity.body.allow_failure).toBe(true);
  });
});

describe('retry:when with the finer failure reasons of GitLab 19.1', () => {
  test('a job is retried only for the reasons it names', async () => {
    const project = makeProject(core);
    const p = createPipeline(core, project.id, plan([
      job('fetches', { stage: 'build', retry: { max: 2, when: ['runner_external_dependency_failure', 'runner_interrupted'], exit_codes: [] } }),
      job('scripted', { stage: 'build', retry: { max: 2, when: ['runner_external_dependency_failure'], exit_codes: [] } }),
    ]));
    const attempts = await runAttempts((name, n) => {
      if (name !== 'fetches') return { exit: 'failed' };
      const reason = ['runner_external_dependency_failure', 'runner_interrupted'][n - 1];
      return reason ? { exit: 'failed', failureReason: reason } : { exit: 'success' };
    });
    expect(attempts).toEqual({ fetches: 3, scripted: 1 });
    expect(statuses(core, p.id)).toEqual({ fetches: 'success', scripted: 'failed' });
    expect(byName(p.id, 'scripted').failureReason).toBe('script_failure');
  });
});

describe('resource_group', () => {
  test('one job of a group runs at a time across pipelines; release on any end; process modes through the API', async () => {
    const project = makeProject(core);
    // auto-cancel off: these pipelines of one ref must all run
    const deploy = (extra = {}) => plan([job('deploy', { stage: 'deploy', resourceGroup: 'production', ...extra })], { workflow: { autoCancel: { onNewCommit: 'none', onJobFailure: 'none' } } });
    const p1 = createPipeline(core, project.id, deploy());
    const p2 = createPipeline(core, project.id, deploy());
    expect([statuses(core, p1.id).deploy, statuses(core, p2.id).deploy]).toEqual(['pending', 'waiting_for_resource']);
    expect(core.pipelines.get(p2.id).status).toBe('waiting_for_resource');
    const j1 = (await runner.poll())!;
    expect(await runner.poll()).toBeNull();
    const group = await api(`/api/v4/projects/${project.id}/resource_groups/production`);
    expect(group.body).toMatchObject({ key: 'production', process_mode: 'unordered' });
    expect((await api(`/api/v4/projects/${project.id}/resource_groups/production/upcoming_jobs`)).body.map((j: any) => j.id)).toEqual([byName(p2.id, 'deploy').id]);
    core.jobs.cancel(j1.id);
    expect(statuses(core, p2.id).deploy).toBe('pending');
    await drain();
    expect(core.pipelines.get(p2.id).status).toBe('success');

    // newest_first: the newest pipeline's job goes first.
    const put = await api(`/api/v4/projects/${project.id}/resource_groups/production`, { method: 'PUT', json: { process_mode: 'newest_first' } });
    expect(put.body.process_mode).toBe('newest_first');
    expect((await api(`/api/v4/projects/${project.id}/resource_groups/production`, { method: 'PUT', json: { process_mode: 'fastest' } })).status).toBe(400);
    const a = createPipeline(core, project.id, deploy());
    const b = createPipeline(core, project.id, deploy());
    const c = createPipeline(core, project.id, deploy());
    expect([a, b, c].map((x) => statuses(core, x.id).deploy)).toEqual(['pending', 'waiting_for_resource', 'waiting_for_resource']);
    expect(await drain()).toEqual(['deploy', 'deploy', 'deploy']);
    const order = [a, b, c].map((x) => byName(x.id, 'deploy').startedAt);
    expect(order[2]! <= order[1]!).toBe(true);
    expect((await api(`/api/v4/projects/${project.id}/resource_groups/nope`)).status).toBe(404);
  });
});

describe('when: delayed', () => {
  test('scheduled until start_in has passed (injected clock), then pending; play starts it at once', async () => {
    const project = makeProject(core);
    const p = createPipeline(core, project.id, plan([
      job('build', { stage: 'build' }),
      job('later', { stage: 'deploy', when: 'delayed', startIn: 1800 }),
      job('played', { stage: 'deploy', when: 'delayed', startIn: 3600 }),
    ]));
    await drain();
    expect(statuses(core, p.id)).toMatchObject({ later: 'scheduled', played: 'scheduled' });
    expect(core.pipelines.get(p.id).status).toBe('scheduled');
    const later = byName(p.id, 'later');
    expect(later.scheduledAt).toBe(clock.now() + 1_800_000);
    expect((await api(`/api/v4/projects/${project.id}/jobs/${later.id}`)).body.pending_reason).toContain('when: delayed');
    clock.advance(1_799_000);
    expect(core.reaper.sweep().delayedStarted).toBe(0);
    clock.advance(1_000);
    expect(core.reaper.sweep().delayedStarted).toBe(1);
    expect(statuses(core, p.id)).toMatchObject({ later: 'pending', played: 'scheduled' });
    const played = await api(`/api/v4/projects/${project.id}/jobs/${byName(p.id, 'played').id}/play`, { method: 'POST' });
    expect(played.body.status).toBe('pending');
    expect(await drain()).toEqual(['later', 'played']);
    expect(core.pipelines.get(p.id).status).toBe('success');
  });
});

describe('workflow:auto_cancel', () => {
  // pipelines a test leaves running would be picked up by the next test's runner
  const afterThis: (() => void)[] = [];
  afterEach(() => { for (const f of afterThis.splice(0)) f(); });
  const two = (onNewCommit: 'conservative' | 'interruptible' | 'none', interruptible = false) => plan([
    job('build', { stage: 'build', interruptible }),
    job('test', { stage: 'test', interruptible: true }),
  ], { workflow: { autoCancel: { onNewCommit, onJobFailure: 'none' } } });

  test('conservative: an older pipeline is canceled while none of its non-interruptible jobs started', async () => {
    const project = makeProject(core);
    const old = createPipeline(core, project.id, two('conservative'));
    const started = createPipeline(core, project.id, two('conservative'), { ref: 'other' });
    const j = (await runner.poll())!; // `build` of `old` starts … no: the oldest job is old's build
    expect(j.id).toBe(byName(old.id, 'build').id);
    // old's non-interruptible build has started: a new commit leaves it alone.
    createPipeline(core, project.id, two('conservative'));
    expect(core.pipelines.get(old.id).status).toBe('running');
    // `started` (ref other) has not started: a new commit on its ref cancels it.
    const newer = createPipeline(core, project.id, two('conservative'), { ref: 'other' });
    expect(core.pipelines.get(started.id)).toMatchObject({ status: 'canceled', autoCanceledById: newer.id });
    // the same commit again is not redundant
    const same = createPipeline(core, project.id, two('conservative'), { ref: 'other', sha: newer.sha });
    expect(core.pipelines.get(newer.id).status).not.toBe('canceled');
    await runner.run(j, {});
    for (const p of [old, newer, same]) core.pipelines.cancel(p.id);
    await drain();
  });

  test('only the ref\'s pipelines still running from the last week are looked at (the partial index pipelines_active)', async () => {
    const project = makeProject(core);
    const finished = createPipeline(core, project.id, two('conservative'), { ref: 'weekly' });
    core.pipelines.cancel(finished.id);
    const old = createPipeline(core, project.id, two('conservative'), { ref: 'weekly' });
    clock.advance(8 * 24 * 3600_000);
    const recent = createPipeline(core, project.id, two('conservative'), { ref: 'weekly' });
    // `recent` is redundant now, `old` is over a week old, and `finished` was over before
    const newer = createPipeline(core, project.id, two('conservative'), { ref: 'weekly' });
    for (const p of [old, newer]) afterThis.push(() => core.pipelines.cancel(p.id));
    expect(core.pipelines.get(finished.id)).toMatchObject({ status: 'canceled', autoCanceledById: null });
    expect(core.pipelines.get(old.id)).toMatchObject({ status: 'pending', autoCanceledById: null });
    expect(core.pipelines.get(recent.id)).toMatchObject({ status: 'canceled', autoCanceledById: newer.id });
    const plan = core.deps.db.$client.query(`EXPLAIN QUERY PLAN SELECT id FROM pipelines INDEXED BY pipelines_active
      WHERE project_id = 1 AND ref = 'x' AND id < 9 AND status IN ('created', 'waiting_for_resource', 'preparing', 'pending', 'running', 'scheduled')`).all() as { detail: string }[];
    expect(plan.map((r) => r.detail).join(' ')).toContain('pipelines_active');
  });

  test('interruptible: only interruptible jobs are canceled; none: nothing', async () => {
    const project = makeProject(core);
    const a = createPipeline(core, project.id, two('interruptible'));
    const j = (await runner.poll())!;
    createPipeline(core, project.id, two('none'));
    expect(statuses(core, a.id)).toEqual({ build: 'running', test: 'canceled' });
    await runner.run(j, {});
    const b = core.pipelines.list(project.id, { offset: 0, limit: 1 }).rows[0];
    createPipeline(core, project.id, two('none'));
    expect(core.pipelines.get(b.id).status).not.toBe('canceled');
    for (const p of core.pipelines.list(project.id, { offset: 0, limit: 10 }).rows) core.pipelines.cancel(p.id);
  });

  test('on_job_failure: all cancels the rest of the pipeline when a job fails', async () => {
    const project = makeProject(core);
    const p = createPipeline(core, project.id, plan([
      job('fails', { stage: 'build' }),
      job('long', { stage: 'build' }),
      job('later', { stage: 'test' }),
    ], { workflow: { autoCancel: { onNewCommit: 'conservative', onJobFailure: 'all' } } }));
    const fails = (await runner.poll())!;
    const long = (await runner.poll())!;
    await runner.run(fails, { exit: 'failed' });
    expect(statuses(core, p.id)).toEqual({ fails: 'failed', long: 'canceled', later: 'canceled' });
    expect((await runner.run(long, { output: ['x'] })).aborted).toBe(true);
  });
});

describe('environments and deployments', () => {
  test('a deploy job creates the environment and a deployment that follows it; stop stops it', async () => {
    const project = makeProject(core);
    const p = createPipeline(core, project.id, plan([
      job('deploy', { stage: 'deploy', environment: { name: 'review/feature-x', url: 'https://x.review.example', action: 'start' } }),
      job('stop', { stage: 'deploy', when: 'manual', environment: { name: 'review/feature-x', action: 'stop' } }),
    ]));
    const deploy = (await runner.poll())!;
    const vars = variablesOf(runner.payloads.at(-1));
    expect([vars.get('CI_ENVIRONMENT_NAME'), vars.get('CI_ENVIRONMENT_SLUG'), vars.get('CI_ENVIRONMENT_ACTION'), vars.get('CI_ENVIRONMENT_URL'), vars.get('CI_ENVIRONMENT_TIER')])
      .toEqual(['review/feature-x', 'review-feature-x-' + vars.get('CI_ENVIRONMENT_SLUG')!.slice(-6), 'start', 'https://x.review.example', 'development']);
    expect(vars.get('CI_ENVIRONMENT_SLUG')!.length).toBeLessThanOrEqual(24);
    let deps = await api(`/api/v4/projects/${project.id}/deployments`);
    expect(deps.body).toHaveLength(1);
    expect(deps.body[0]).toMatchObject({ iid: 1, ref: 'main', sha: p.sha, status: 'running', user: null, environment: { name: 'review/feature-x' }, deployable: { id: deploy.id } });
    await runner.run(deploy, {});
    deps = await api(`/api/v4/projects/${project.id}/deployments?status=success`);
    expect(deps.body.map((d: any) => d.status)).toEqual(['success']);
    const envs = await api(`/api/v4/projects/${project.id}/environments`);
    expect(envs.body).toHaveLength(1);
    expect(envs.body[0]).toMatchObject({ name: 'review/feature-x', external_url: 'https://x.review.example', state: 'available', tier: 'development' });
    const one = await api(`/api/v4/projects/${project.id}/environments/${envs.body[0].id}`);
    expect(one.body.last_deployment).toMatchObject({ status: 'success', deployable: { id: deploy.id } });
    core.jobs.play(byName(p.id, 'stop').id);
    await drain();
    expect((await api(`/api/v4/projects/${project.id}/environments?states=stopped`)).body.map((e: any) => e.name)).toEqual(['review/feature-x']);
    expect((await api(`/api/v4/projects/${project.id}/environments?states=gone`)).status).toBe(400);
    expect((await api(`/api/v4/projects/${project.id}/environments/999999`)).status).toBe(404);
  });

  test('the url is the runner\'s to expand (CI_ENVIRONMENT_URL as written) and the deployment\'s with the job\'s own variables (GNOME\'s review apps)', async () => {
    const project = makeProject(core);
    core.projects.createVariable(project.id, { key: 'HOST', value: 'review.example' });
    const url = 'https://$HOST/$CI_PROJECT_PATH/-/jobs/$CI_JOB_ID/artifacts/raw/${BUNDLE}$UNSET';
    createPipeline(core, project.id, plan([
      job('review', { stage: 'deploy', variables: { BUNDLE: 'app.flatpak' }, environment: { name: 'review/feature', url, action: 'start' } }),
    ]));
    const review = (await runner.poll())!;
    expect(variablesOf(runner.payloads.at(-1)).get('CI_ENVIRONMENT_URL')).toBe(url);
    // before the deployment succeeds the environment has no url, as in GitLab
    const before = await api(`/api/v4/projects/${project.id}/environments?name=review/feature`);
    expect(before.body[0].external_url).toBeNull();
    await runner.run(review, {});
    const after = await api(`/api/v4/projects/${project.id}/environments?name=review/feature`);
    expect(after.body[0].external_url).toBe(`https://review.example/${projectFullPath(project)}/-/jobs/${review.id}/artifacts/raw/app.flatpak`);
  });
});

describe('trigger: a downstream pipeline', () => {
  test('trigger:project with strategy: depend mirrors the downstream pipeline; the bridge is listed apart', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'baton-downstream-'));
    const git = (...args: string[]) => {
      const r = Bun.spawnSync(['git', ...args], { cwd: repo, env: { ...process.env, GIT_AUTHOR_NAME: 'A', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'A', GIT_COMMITTER_EMAIL: 'a@x' } });
      if (r.exitCode !== 0) throw new Error(r.stderr.toString());
    };
    git('init', '-q', '-b', 'main');
    writeFileSync(join(repo, '.gitlab-ci.yml'), 'downstream_job:\n  script: [echo hi]\n');
    git('add', '.'); git('commit', '-q', '-m', 'ci');
    try {
      const upstream = makeProject(core);
      const target = makeProject(core, { repoUrl: `file://${repo}` });
      const p = createPipeline(core, upstream.id, plan([
        job('trigger_it', { stage: 'deploy', trigger: { kind: 'project', project: projectFullPath(target), strategy: 'depend', forward: { yaml_variables: true, pipeline_variables: false } }, variables: { PASSED: 'yes' } }),
      ]));
      for (let i = 0; i < 100 && !core.pipelines.downstreamOfJob(byName(p.id, 'trigger_it').id); i++) await Bun.sleep(20);
      const child = core.pipelines.downstreamOfJob(byName(p.id, 'trigger_it').id)!;
      expect(child).toMatchObject({ projectId: target.id, source: 'pipeline', ref: 'main', upstreamPipelineId: p.id });
      expect(child.triggerVariables).toEqual([{ key: 'PASSED', value: 'yes' }]);
      expect(statuses(core, p.id)).toEqual({ trigger_it: 'running' });
      expect((await api(`/api/v4/projects/${upstream.id}/pipelines/${p.id}/jobs`)).body).toEqual([]);
      const bridges = await api(`/api/v4/projects/${upstream.id}/pipelines/${p.id}/bridges`);
      expect(bridges.body).toHaveLength(1);
      expect(bridges.body[0]).toMatchObject({ name: 'trigger_it', status: 'running', downstream_pipeline: { id: child.id, project_id: target.id, status: 'pending' } });
      expect(await drain({ downstream_job: { exit: 'failed' } })).toEqual(['downstream_job']);
      expect(core.pipelines.get(child.id).status).toBe('failed');
      expect(statuses(core, p.id)).toEqual({ trigger_it: 'failed' });
      expect(core.pipelines.get(p.id).status).toBe('failed');
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  test('trigger:project to a project that does not exist fails the bridge', async () => {
    const project = makeProject(core);
    const p = createPipeline(core, project.id, plan([
      job('t', { stage: 'deploy', trigger: { kind: 'project', project: 'root/nope', forward: { yaml_variables: true, pipeline_variables: false } } }),
    ]));
    for (let i = 0; i < 100 && statuses(core, p.id).t !== 'failed'; i++) await Bun.sleep(10);
    expect(byName(p.id, 't')).toMatchObject({ status: 'failed', failureReason: 'downstream_bridge_project_not_found' });
    void nextSha;
  });
});

describe('coverage', () => {
  test('read from a real trace at job end, the last matching line wins; on the job and (mean) the pipeline', async () => {
    const project = makeProject(core);
    const p = createPipeline(core, project.id, plan([
      job('unit', { stage: 'test', coverage: '/Coverage: \\d+\\.\\d+%/' }),
      job('grouped', { stage: 'test', coverage: '/lines\\.+: (\\d+)%/' }),
      job('none', { stage: 'test', coverage: '/Coverage: \\d+%/' }),
      job('bad_regex', { stage: 'test', coverage: '/(?<=x)\\d+/' }),
    ]));
    await drain({
      unit: { output: ['Coverage: 10.00%', 'tests passed', 'Coverage: 87.50%', 'done'] },
      grouped: { output: ['lines......: 64% (1 of 2)'] },
      none: { output: ['no numbers here'] },
      bad_regex: { output: ['x12'] },
    });
    await core.coverage.idle();
    expect(Object.fromEntries(core.pipelines.latestJobs(p.id).map((j) => [j.name, j.coverage]))).toEqual({ unit: 87.5, grouped: 64, none: null, bad_regex: null });
    const entity = await api(`/api/v4/projects/${project.id}/pipelines/${p.id}`);
    expect(entity.body.coverage).toBe('75.75');
    expect((await api(`/api/v4/projects/${project.id}/jobs/${byName(p.id, 'unit').id}`)).body.coverage).toBe(87.5);
  });

  test('a pattern that backtracks catastrophically in other engines scans a big log in linear time', async () => {
    const project = makeProject(core);
    const p = createPipeline(core, project.id, plan([job('big', { stage: 'test', coverage: '/(a+)+$/' })]));
    const j = (await runner.poll())!;
    const line = `${'a'.repeat(4000)}!`;
    const bytes = new TextEncoder().encode(`${line}\n`.repeat(1250)); // 5 MB of lines that never match
    for (let off = 0; off < bytes.length; off += 1024 * 1024) {
      const chunk = bytes.subarray(off, off + 1024 * 1024);
      const res = await fetch(`${server.url}/api/v4/jobs/${j.id}/trace`, { method: 'PATCH', headers: { 'JOB-TOKEN': j.token, 'Content-Range': `${off}-${off + chunk.length - 1}` }, body: chunk });
      expect(res.status).toBe(202);
    }
    const started = performance.now();
    const done = await fetch(`${server.url}/api/v4/jobs/${j.id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: j.token, state: 'success' }) });
    expect(done.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(2000); // the scan does not hold the request
    await core.coverage.idle();
    expect(byName(p.id, 'big').coverage).toBeNull();
  }, 60_000);
});

describe('predefined variables of a job', () => {
  test('commit, pipeline name, parallel, job slug, started-at and raw variables reach the runner as GitLab names them', async () => {
    const project = makeProject(core);
    const p = createPipeline(core, project.id, {
      ...plan([job('rspec 2/3', {
        stage: 'test', parallel: { index: 2, total: 3, group: 'rspec' },
        variables: { RAW_ONE: '$NOT_EXPANDED', PLAIN: 'x' }, rawVariables: ['RAW_ONE'],
      })], { variables: { GLOBAL_RAW: '$KEEP' }, workflow: { name: 'Nightly for main' } }),
      rawVariables: ['GLOBAL_RAW'],
    }, { commit: { message: 'Fix the thing\n\nLonger body\n', authorName: 'Ada', authorEmail: 'ada@example.com', timestamp: '2026-02-28T10:00:00+01:00' } });
    const j = (await runner.poll())!;
    const raw = runner.payloads.at(-1) as { variables: { key: string; value: string; raw?: boolean }[] };
    const v = variablesOf(raw);
    expect(Object.fromEntries(['CI_COMMIT_MESSAGE', 'CI_COMMIT_TITLE', 'CI_COMMIT_DESCRIPTION', 'CI_COMMIT_AUTHOR', 'CI_COMMIT_TIMESTAMP',
      'CI_PIPELINE_NAME', 'CI_NODE_INDEX', 'CI_NODE_TOTAL', 'CI_JOB_NAME_SLUG', 'CI_JOB_GROUP_NAME', 'CI_API_V4_URL', 'CI_COMMIT_REF_PROTECTED',
      'CI_JOB_STARTED_AT', 'CI_PIPELINE_CREATED_AT'].map((k) => [k, v.get(k)]))).toEqual({
      CI_COMMIT_MESSAGE: 'Fix the thing\n\nLonger body\n', CI_COMMIT_TITLE: 'Fix the thing', CI_COMMIT_DESCRIPTION: '\nLonger body',
      CI_COMMIT_AUTHOR: 'Ada <ada@example.com>', CI_COMMIT_TIMESTAMP: '2026-02-28T10:00:00+01:00', CI_PIPELINE_NAME: 'Nightly for main',
      CI_NODE_INDEX: '2', CI_NODE_TOTAL: '3', CI_JOB_NAME_SLUG: 'rspec-2-3', CI_JOB_GROUP_NAME: 'rspec', CI_API_V4_URL: `${core.deps.server.url}/api/v4`,
      CI_COMMIT_REF_PROTECTED: 'false', CI_JOB_STARTED_AT: new Date(clock.now()).toISOString().replace('.000', ''),
      CI_PIPELINE_CREATED_AT: new Date(p.createdAt).toISOString().replace('.000', ''),
    });
    expect(raw.variables.filter((x) => x.raw).map((x) => x.key).sort()).toEqual(['GLOBAL_RAW', 'RAW_ONE']);
    expect(v.has('CI_REGISTRY')).toBe(false);
    expect((await api(`/api/v4/projects/${project.id}/pipelines/${p.id}`)).body.name).toBe('Nightly for main');
    await runner.run(j, {});
  });
});
