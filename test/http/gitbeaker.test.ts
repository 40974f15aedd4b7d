/**
 * A stock GitLab client drives Baton: @gitbeaker/rest, unmodified, against the real server
 * with the admin token, calling GitLab's endpoints the way it calls them on gitlab.com. A
 * simulated gitlab-runner 11.11.4 (v4) makes the jobs run, log and upload. The pipeline is
 * read from a real git repository (the project's repo_url), as a client that cannot send
 * `content` needs: create a project, set a variable, create a pipeline, list its jobs, read
 * a trace, cancel, retry, download artifacts, delete.
 *
 * Later resources belong here too, as steps of the same conversation: users and their
 * tokens (api.Users, api.UserImpersonationTokens), pipeline trigger tokens
 * (api.PipelineTriggerTokens, api.PipelineTriggerTokens.trigger) and schedules
 * (api.PipelineSchedules) — see the marked place below.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { Gitlab } from '@gitbeaker/rest';
import { FakeRunnerV4 } from '../support/fake-runner-v4';
import { ADMIN_TOKEN, REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';
import { makeRepo, type LocalRepo } from './rest-fixtures';

const CI = `stages: [build, test]
build:
  stage: build
  script: [make]
  artifacts:
    paths: [dist/]
slow_test:
  stage: test
  script: [make test]
`;

let s: TestServer;
let repo: LocalRepo;
beforeAll(async () => {
  s = await startTestServer();
  repo = makeRepo({ '.gitlab-ci.yml': CI, 'README.md': 'demo\n' });
});
afterAll(async () => {
  await s?.stop();
  repo?.remove();
});

test('create a project, set a variable, create a pipeline, list jobs, read a trace, cancel, retry, download artifacts, delete', async () => {
  const api = new Gitlab({ host: s.url, token: ADMIN_TOKEN });

  // ---- project and variable
  // repo_url is Baton's own field (gitbeaker passes unknown options through, snake_cased)
  const options = { name: 'gitbeaker-e2e', repoUrl: repo.dir };
  const project = await api.Projects.create(options);
  expect(project.name).toBe('gitbeaker-e2e');
  expect((await api.Projects.show(project.id)).id).toBe(project.id);
  await api.ProjectVariables.create(project.id, 'GREETING', 'hello from gitbeaker');
  expect((await api.ProjectVariables.show(project.id, 'GREETING')).value).toBe('hello from gitbeaker');

  // ---- pipeline from the repository, with a pipeline variable
  const pipeline = await api.Pipelines.create(project.id, 'main', { variables: [{ key: 'EXTRA', value: '42' }] });
  expect(pipeline.ref).toBe('main');
  expect(pipeline.sha).toBe(repo.git('rev-parse', 'HEAD'));
  const jobs = await api.Jobs.all(project.id, { pipelineId: pipeline.id });
  expect(jobs.map((j) => [j.name, j.status]).sort()).toEqual([['build', 'pending'], ['slow_test', 'created']]);
  expect((await api.Pipelines.all(project.id)).map((p) => p.id)).toContain(pipeline.id);

  // ---- a runner runs build: the variables reach it, the log and the archive come back
  const runner = await FakeRunnerV4.register(s.url, REGISTRATION_TOKEN);
  const archive = new Uint8Array(50_000).map((_, i) => (i * 13) % 256);
  const build = await runner.runNext({ build: { output: ['compiling…', 'linked dist/app'], artifacts: archive } });
  expect(build?.state).toBe('success');
  const payload = runner.payloads.at(-1) as { variables: { key: string; value: string }[] };
  expect(payload.variables).toEqual(expect.arrayContaining([
    expect.objectContaining({ key: 'GREETING', value: 'hello from gitbeaker' }), expect.objectContaining({ key: 'EXTRA', value: '42' }),
  ]));
  const log = await api.Jobs.showLog(project.id, build!.jobId);
  expect(log).toBe(build!.trace);
  expect(log).toContain('linked dist/app');
  const shown = await api.Jobs.show(project.id, build!.jobId);
  expect(shown.status).toBe('success');
  const blob = await api.JobArtifacts.downloadArchive(project.id, { jobId: build!.jobId });
  expect(Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(archive))).toBe(true);

  // ---- slow_test is canceled while it runs; the runner learns and stops
  const testJob = (await api.Jobs.all(project.id, { pipelineId: pipeline.id })).find((j) => j.name === 'slow_test')!;
  let canceled = false;
  const aborted = await runner.runNext({ slow_test: { output: Array.from({ length: 50 }, (_, i) => `test ${i}`) } }, {
    onTick: async ({ tick }) => {
      if (tick === 2 && !canceled) {
        canceled = true;
        expect((await api.Jobs.cancel(project.id, testJob.id)).status).toBe('canceled');
      }
    },
  });
  expect(aborted?.aborted).toBe(true);
  expect((await api.Jobs.show(project.id, testJob.id)).status).toBe('canceled');
  expect((await api.Pipelines.show(project.id, pipeline.id)).status).toBe('canceled');

  // ---- retry: a new attempt runs and the pipeline succeeds
  const retried = await api.Jobs.retry(project.id, testJob.id);
  expect(retried.id).not.toBe(testJob.id);
  expect(retried.name).toBe('slow_test');
  const again = await runner.runNext({ slow_test: { output: ['all green'] } });
  expect(again?.jobId).toBe(retried.id);
  expect(again?.state).toBe('success');
  expect((await api.Pipelines.show(project.id, pipeline.id)).status).toBe('success');

  // ---- pipeline cancel/retry on the pipeline itself
  const second = await api.Pipelines.create(project.id, 'main');
  expect((await api.Pipelines.cancel(project.id, second.id)).status).toBe('canceled');
  expect((await api.Pipelines.retry(project.id, second.id)).status).toBe('pending');

  // ---- the place for later issues' steps (users, trigger tokens, schedules), e.g.:
  //   const user = await api.Users.create({ … });           // users and their tokens
  //   const trigger = await api.PipelineTriggerTokens.create(project.id, 'ci');
  //   await api.PipelineTriggerTokens.trigger(project.id, 'main', trigger.token);
  //   await api.PipelineSchedules.create(project.id, 'nightly', 'main', '0 2 * * *');

  // ---- delete: the pipeline, then the project
  await api.Pipelines.remove(project.id, second.id);
  await expect(api.Pipelines.show(project.id, second.id)).rejects.toThrow();
  await api.Projects.remove(project.id);
  await expect(api.Projects.show(project.id)).rejects.toThrow();
}, 60_000);
