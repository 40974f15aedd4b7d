/**
 * REST API: jobs — the exact job shape (times from an injected clock), lists with scope,
 * the log, cancel/retry/play, artifacts, and jobs never reachable under another project.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { FakeClock } from '../../src/clock';
import type { Project } from '../../src/db/schema';
import { makePipeline, makeProject, startTestServer, type TestServer } from '../support/harness';
import { body, projectRunner, runNext, SHA } from './rest-fixtures';

let s: TestServer;
const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0));
beforeAll(async () => { s = await startTestServer({}, { clock }); });
afterAll(async () => s.stop());

const api = (p: Project, path: string, init?: Parameters<TestServer['api']>[1]) => s.api(`/api/v4/projects/${p.id}/jobs${path}`, init);
const bytes = (text: string) => new TextEncoder().encode(text);
async function* stream(data: Uint8Array) { yield data; }

const JOB_FIELDS = ['id', 'name', 'stage', 'status', 'ref', 'tag', 'coverage', 'allow_failure', 'created_at', 'started_at', 'finished_at', 'duration',
  'queued_duration', 'runner', 'pipeline', 'artifacts_file', 'artifacts', 'artifacts_expire_at', 'tag_list', 'web_url', 'pending_reason'];

describe('GET /api/v4/projects/:id/jobs/:job_id', () => {
  test('exactly the documented fields, with times and durations from the clock', async () => {
    const p = makeProject(s.core);
    const pipeline = await makePipeline(s.core, p.id, 'build:\n  script: [make]\n  artifacts:\n    paths: [out/]\n', { ref: 'v1.2', tag: true });
    const [pending] = s.core.pipelines.latestJobs(pipeline.id);
    const t0 = clock.now();

    const waiting = await body(await api(p, `/${pending.id}`), 200);
    expect(Object.keys(waiting).sort()).toEqual([...JOB_FIELDS].sort());
    expect(waiting).toEqual({
      id: pending.id, name: 'build', stage: 'test', status: 'pending', ref: 'v1.2', tag: true, coverage: null, allow_failure: false,
      created_at: new Date(t0).toISOString(), started_at: null, finished_at: null, duration: null, queued_duration: 0,
      runner: null, pipeline: { id: pipeline.id, ref: 'v1.2', sha: SHA, status: 'pending' },
      artifacts_file: null, artifacts: [], artifacts_expire_at: null, tag_list: [], web_url: `${s.url}/root/${p.path}/-/jobs/${pending.id}`,
      pending_reason: 'no runner is online for this project',
    });

    clock.advance(5_000);
    const runner = projectRunner(s.core, p, { description: 'builder' });
    const running = runNext(s.core, runner, 'running');
    clock.advance(30_000);
    await s.core.artifacts.store(running, 'out.zip', stream(bytes('PK-archive')), '1 day');
    const mid = await body(await api(p, `/${pending.id}`), 200);
    expect(mid).toMatchObject({
      status: 'running', started_at: new Date(t0 + 5_000).toISOString(), duration: 30, queued_duration: 5,
      runner: { id: runner.id, description: 'builder' }, pipeline: { status: 'running' }, pending_reason: null,
      artifacts_file: { filename: 'out.zip', size: 10 }, artifacts_expire_at: new Date(t0 + 35_000 + 86_400_000).toISOString(),
      artifacts: [{ file_type: 'archive', size: 10, filename: 'out.zip', file_format: 'zip' }],
    });

    clock.advance(10_000);
    s.core.jobs.update(running, { state: 'failed', failureReason: 'script_failure' });
    const failed = await body(await api(p, `/${pending.id}`), 200);
    expect(Object.keys(failed).sort()).toEqual([...JOB_FIELDS, 'failure_reason'].sort());
    expect(failed).toMatchObject({ status: 'failed', failure_reason: 'script_failure', duration: 40, finished_at: new Date(t0 + 45_000).toISOString(), pipeline: { status: 'failed' } });
  });

  test('unknown, non-numeric, and another project\'s job ids → 404 on every job route', async () => {
    const a = makeProject(s.core);
    const b = makeProject(s.core);
    const job = s.core.pipelines.latestJobs((await makePipeline(s.core, a.id, 'x:\n  script: [x]\n')).id)[0];
    const routes: [string, string][] = [['GET', ''], ['GET', '/trace'], ['POST', '/cancel'], ['POST', '/retry'], ['POST', '/play'],
      ['GET', '/artifacts'], ['DELETE', '/artifacts'], ['POST', '/artifacts/keep']];
    for (const [method, suffix] of routes) {
      for (const id of [String(job.id), '999999', 'abc']) {
        expect({ method, suffix, id, res: await body(await api(b, `/${id}${suffix}`, { method }), 404) })
          .toEqual({ method, suffix, id, res: { message: '404 Job Not Found' } });
      }
      await body(await s.api(`/api/v4/projects/999999/jobs/${job.id}${suffix}`, { method }), 404);
    }
    expect(s.core.jobs.get(job.id).status).toBe('pending');
  });
});

describe('GET /api/v4/projects/:id/jobs', () => {
  test('newest first, retried attempts included, filtered by scope[] / scope, paginated', async () => {
    const p = makeProject(s.core);
    const pipeline = await makePipeline(s.core, p.id, 'stages: [a, b]\none:\n  stage: a\n  script: [x]\ntwo:\n  stage: a\n  script: [x]\nthree:\n  stage: b\n  script: [x]\n');
    const runner = projectRunner(s.core, p);
    const first = runNext(s.core, runner, 'failed');
    const retry = await body(await api(p, `/${first.id}/retry`, { method: 'POST' }), 201);
    const list = async (q: string) => (await body<{ id: number; status: string }[]>(await api(p, q), 200));
    const all = await list('');
    const ids = s.core.jobs.list(p.id, { offset: 0, limit: 100 }).rows.map((j) => j.id);
    expect(all.map((j) => j.id)).toEqual([...ids].sort((x, y) => y - x));
    expect(all.map((j) => j.id)).toEqual(expect.arrayContaining([first.id, retry.id, ...s.core.pipelines.latestJobs(pipeline.id).map((j) => j.id)]));
    expect(all.length).toBe(4);
    expect((await list('?scope[]=failed')).map((j) => j.id)).toEqual([first.id]);
    expect((await list('?scope[]=failed&scope[]=created')).map((j) => j.status).sort()).toEqual(['created', 'failed']);
    expect((await list('?scope=pending')).map((j) => j.status)).toEqual(['pending', 'pending']);
    expect((await list('?scope=pending,failed')).length).toBe(3);
    const res = await api(p, '?per_page=3&page=2');
    expect((await body<unknown[]>(res, 200)).length).toBe(1);
    expect([res.headers.get('x-total'), res.headers.get('x-total-pages'), res.headers.get('x-prev-page')]).toEqual(['4', '2', '1']);
    expect(res.headers.get('link')).toContain('rel="first"');
    expect((await body(await api(p, '?scope[]=exploded'), 400)).message).toContain('scope');
    await body(await s.api('/api/v4/projects/999999/jobs'), 404);
  });
});

describe('job actions', () => {
  test('trace: 200 text/plain with the log so far (empty before any)', async () => {
    const p = makeProject(s.core);
    await makePipeline(s.core, p.id, 'x:\n  script: [x]\n');
    const job = runNext(s.core, projectRunner(s.core, p), 'running', 'line 1\nline 2\n');
    const res = await api(p, `/${job.id}/trace`);
    expect([res.status, res.headers.get('content-type'), await res.text()]).toEqual([200, 'text/plain; charset=utf-8', 'line 1\nline 2\n']);
    const other = s.core.pipelines.latestJobs((await makePipeline(s.core, p.id, 'y:\n  script: [y]\n')).id)[0];
    const empty = await api(p, `/${other.id}/trace`);
    expect([empty.status, await empty.text()]).toEqual([200, '']);
  });

  test('cancel → 201 canceled (the pipeline too); a finished job is answered unchanged', async () => {
    const p = makeProject(s.core);
    const pipeline = await makePipeline(s.core, p.id, 'x:\n  script: [x]\n');
    const job = runNext(s.core, projectRunner(s.core, p), 'running');
    const canceled = await body(await api(p, `/${job.id}/cancel`, { method: 'POST' }), 201);
    expect([canceled.status, canceled.pipeline.status]).toEqual(['canceled', 'canceled']);
    expect(s.core.pipelines.get(pipeline.id).status).toBe('canceled');
    const again = await body(await api(p, `/${job.id}/cancel`, { method: 'POST' }), 201);
    expect(again.status).toBe('canceled');
  });

  test('retry → 201 with a new pending job; an unfinished or already retried job → 403', async () => {
    const p = makeProject(s.core);
    const pipeline = await makePipeline(s.core, p.id, 'x:\n  script: [x]\n');
    const runner = projectRunner(s.core, p);
    const job = runNext(s.core, runner, 'running');
    expect((await body(await api(p, `/${job.id}/retry`, { method: 'POST' }), 403)).message).toContain('not retryable');
    s.core.jobs.update(job, { state: 'failed' });
    const retried = await body(await api(p, `/${job.id}/retry`, { method: 'POST' }), 201);
    expect(retried.id).not.toBe(job.id);
    expect([retried.name, retried.status, retried.pipeline.id, retried.pipeline.status]).toEqual(['x', 'pending', pipeline.id, 'pending']);
    await body(await api(p, `/${job.id}/retry`, { method: 'POST' }), 403);
  });

  test('play starts a manual job (200); anything else → 400 Unplayable Job', async () => {
    const p = makeProject(s.core);
    const pipeline = await makePipeline(s.core, p.id, 'stages: [build, deploy]\nbuild:\n  stage: build\n  script: [x]\ndeploy:\n  stage: deploy\n  script: [x]\n  when: manual\n');
    const runner = projectRunner(s.core, p);
    const build = runNext(s.core, runner, 'success');
    const deploy = s.core.pipelines.latestJobs(pipeline.id).find((j) => j.name === 'deploy')!;
    const before = await body(await api(p, `/${deploy.id}`), 200);
    expect([before.status, before.allow_failure, before.pending_reason]).toEqual(['manual', true, expect.stringContaining('manual')]);
    expect(s.core.pipelines.get(pipeline.id).status).toBe('success');
    expect(await body(await api(p, `/${build.id}/play`, { method: 'POST' }), 400)).toEqual({ message: 'Unplayable Job' });
    const played = await body(await api(p, `/${deploy.id}/play`, { method: 'POST' }), 200);
    expect([played.status, played.pipeline.status]).toEqual(['pending', 'running']);
    expect(runNext(s.core, runner, 'success').id).toBe(deploy.id);
    expect(s.core.pipelines.get(pipeline.id).status).toBe('success');
    await body(await api(p, `/${deploy.id}/play`, { method: 'POST' }), 400);
  });

  test('a blocking manual job (allow_failure: false) holds the pipeline in manual until played', async () => {
    const p = makeProject(s.core);
    const pipeline = await makePipeline(s.core, p.id, 'stages: [a, b]\ngate:\n  stage: a\n  script: [x]\n  when: manual\n  allow_failure: false\nafter:\n  stage: b\n  script: [x]\n');
    const gate = s.core.pipelines.latestJobs(pipeline.id)[0];
    expect(s.core.pipelines.get(pipeline.id).status).toBe('manual');
    await body(await api(p, `/${gate.id}/play`, { method: 'POST' }), 200);
    const runner = projectRunner(s.core, p);
    runNext(s.core, runner, 'success');
    expect((await body(await s.api(`/api/v4/projects/${p.id}/pipelines/${pipeline.id}/jobs`), 200)).map((j: { status: string }) => j.status)).toEqual(['pending', 'success']);
  });

  test('artifacts: download streams the archive; keep clears the expiry; delete → 204 and the download 404', async () => {
    const p = makeProject(s.core);
    await makePipeline(s.core, p.id, 'x:\n  script: [x]\n');
    const job = runNext(s.core, projectRunner(s.core, p), 'running');
    expect(await body(await api(p, `/${job.id}/artifacts`), 404)).toEqual({ message: '404 Artifacts Not Found' });
    await body(await api(p, `/${job.id}/artifacts/keep`, { method: 'POST' }), 404);
    const archive = new Uint8Array(70_000).map((_, i) => i % 251);
    await s.core.artifacts.store(job, 'build output.zip', stream(archive), '1 hour');
    s.core.jobs.update(job, { state: 'success' });

    const dl = await api(p, `/${job.id}/artifacts`);
    expect([dl.status, dl.headers.get('content-type'), dl.headers.get('content-disposition')]).toEqual([200, 'application/octet-stream', 'attachment; filename=build_output.zip']);
    expect(new Uint8Array(await dl.arrayBuffer())).toEqual(archive);

    expect((await body(await api(p, `/${job.id}`), 200)).artifacts_expire_at).not.toBeNull();
    const kept = await body(await api(p, `/${job.id}/artifacts/keep`, { method: 'POST' }), 200);
    expect([kept.artifacts_expire_at, kept.artifacts_file]).toEqual([null, { filename: 'build_output.zip', size: 70_000 }]);

    const del = await api(p, `/${job.id}/artifacts`, { method: 'DELETE' });
    expect([del.status, await del.text()]).toEqual([204, '']);
    await body(await api(p, `/${job.id}/artifacts`), 404);
    expect((await body(await api(p, `/${job.id}`), 200)).artifacts_file).toBeNull();
  });
});
