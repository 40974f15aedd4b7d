/**
 * A stock GitLab client drives Baton: @gitbeaker/rest, unmodified, against the real server
 * with the admin token, calling GitLab's endpoints the way it calls them on gitlab.com. A
 * simulated gitlab-runner 11.11.4 (v4) makes the jobs run, log and upload. The pipeline is
 * read from a real git repository (the project's repo_url), as a client that cannot send
 * `content` needs: create a project, set a variable, create a pipeline, list its jobs, read
 * a trace, cancel, retry, download artifacts, delete.
 *
 * Then, as steps of the same conversation: a user (api.Users: create, edit as multipart
 * form, block, unblock, remove), their personal access token (api.Users.createPersonalAccessToken,
 * api.PersonalAccessTokens), membership (api.ProjectMembers), trigger tokens
 * (api.PipelineTriggerTokens, .trigger with form variables), pipeline schedules
 * (api.PipelineSchedules, api.PipelineScheduleVariables, .run), and CI lint (api.Lint).
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

  // ---- users, their personal access tokens, members: an admin brings a developer in
  const user = await api.Users.create({ username: 'gb-dev', name: 'GB Dev', email: 'gb-dev@example.com', password: 'correct horse battery staple', skipConfirmation: true });
  expect([user.username, user.name, user.state]).toEqual(['gb-dev', 'GB Dev', 'active']);
  // Users.edit sends multipart form data
  expect((await api.Users.edit(user.id, { name: 'GB Developer' })).name).toBe('GB Developer');
  expect((await api.Users.show(user.id)).name).toBe('GB Developer');
  expect((await api.Users.all({ username: 'gb-dev' })).map((u) => u.id)).toEqual([user.id]);
  const pat = await api.Users.createPersonalAccessToken(user.id, 'gitbeaker', ['api'], { expiresAt: '2099-12-31' });
  expect(pat.token).toMatch(/^glpat-/);
  expect([pat.name, pat.scopes, pat.active, pat.expires_at]).toEqual(['gitbeaker', ['api'], true, '2099-12-31']);
  const dev = new Gitlab({ host: s.url, token: pat.token! });
  expect((await dev.Users.showCurrentUser()).username).toBe('gb-dev');
  expect((await dev.PersonalAccessTokens.show()).id).toBe(pat.id);
  expect((await api.PersonalAccessTokens.all({ userId: user.id })).map((t) => t.name)).toContain('gitbeaker');
  await expect(dev.Projects.show(project.id)).rejects.toThrow(/404|Not Found/); // not a member yet
  const member = await api.ProjectMembers.add(project.id, 30, { userId: user.id });
  expect([member.username, member.access_level]).toEqual(['gb-dev', 30]);
  expect((await api.ProjectMembers.all(project.id)).map((m) => m.username)).toContain('gb-dev');
  expect((await dev.Projects.show(project.id)).id).toBe(project.id);
  await expect(dev.PipelineTriggerTokens.all(project.id)).rejects.toThrow(/403|Forbidden/); // a Developer may not
  expect((await api.ProjectMembers.edit(project.id, user.id, 40)).access_level).toBe(40);
  expect((await api.ProjectMembers.show(project.id, user.id)).access_level).toBe(40);

  // ---- trigger tokens (as the Maintainer): create, list, edit, trigger a pipeline with variables
  const trigger = await dev.PipelineTriggerTokens.create(project.id, 'from gitbeaker');
  expect(trigger.token).toMatch(/^glptt-/);
  expect((await dev.PipelineTriggerTokens.all(project.id)).map((t) => t.id)).toContain(trigger.id);
  expect((await dev.PipelineTriggerTokens.edit(project.id, trigger.id, { description: 'deploys' })).description).toBe('deploys');
  expect((await dev.PipelineTriggerTokens.show(project.id, trigger.id)).description).toBe('deploys');
  // trigger: token and ref in the query, variables[KEY] as multipart form fields
  const triggered = await new Gitlab({ host: s.url, token: '' }).PipelineTriggerTokens.trigger(project.id, 'main', trigger.token, { variables: { DEPLOY_TO: 'staging' } });
  expect([triggered.ref, triggered.source, triggered.sha]).toEqual(['main', 'trigger', repo.git('rev-parse', 'HEAD')]);
  expect(await api.Pipelines.allVariables(project.id, triggered.id)).toEqual([expect.objectContaining({ key: 'DEPLOY_TO', value: 'staging' })]);
  await dev.PipelineTriggerTokens.remove(project.id, trigger.id);
  await expect(new Gitlab({ host: s.url, token: '' }).PipelineTriggerTokens.trigger(project.id, 'main', trigger.token)).rejects.toThrow(/404|Not Found/);

  // ---- pipeline schedules: create, variables, edit, play, remove
  const schedule = await dev.PipelineSchedules.create(project.id, 'nightly', 'main', '0 2 * * *', { cronTimezone: 'Europe/Berlin', active: true });
  expect([schedule.description, schedule.ref, schedule.cron, schedule.cron_timezone, schedule.active]).toEqual(['nightly', 'main', '0 2 * * *', 'Europe/Berlin', true]);
  expect(schedule.next_run_at).toMatch(/^\d{4}-\d\d-\d\dT/);
  await dev.PipelineScheduleVariables.create(project.id, schedule.id, 'NIGHTLY', 'yes');
  // (GitLab has no list route for them — gitbeaker's PipelineScheduleVariables.all 404s there too: they come with the schedule)
  expect((await dev.PipelineSchedules.show(project.id, schedule.id)).variables?.map((v) => [v.key, v.value])).toEqual([['NIGHTLY', 'yes']]);
  expect((await dev.PipelineSchedules.edit(project.id, schedule.id, { cron: '30 3 * * 1-5' })).cron).toBe('30 3 * * 1-5');
  expect((await dev.PipelineSchedules.all(project.id)).map((x) => x.id)).toEqual([schedule.id]);
  await dev.PipelineSchedules.run(project.id, schedule.id);
  let scheduled: { id: number; source?: string } | undefined;
  for (let i = 0; i < 100 && !scheduled; i++) {
    scheduled = (await api.Pipelines.all(project.id)).find((p) => (p as { source?: string }).source === 'schedule');
    if (!scheduled) await Bun.sleep(20);
  }
  expect(scheduled).toBeDefined();
  expect((await dev.PipelineSchedules.show(project.id, schedule.id)).last_pipeline).toMatchObject({ id: scheduled!.id });
  expect(await api.Pipelines.allVariables(project.id, scheduled!.id)).toEqual([expect.objectContaining({ key: 'NIGHTLY', value: 'yes' })]);
  expect((await dev.PipelineSchedules.allTriggeredPipelines(project.id, schedule.id)).map((p) => p.id)).toEqual([scheduled!.id]);
  await dev.PipelineSchedules.remove(project.id, schedule.id);
  expect(await dev.PipelineSchedules.all(project.id)).toEqual([]);

  // ---- CI lint: content, and the project's own file
  const lint = await dev.Lint.lint(project.id, 'job:\n  script: [make]\n', { includeJobs: true });
  expect([lint.valid, lint.errors]).toEqual([true, []]);
  const bad = await dev.Lint.lint(project.id, 'job:\n  scriptt: [make]\n');
  expect(bad.valid).toBe(false);
  expect((bad.errors ?? []).join('\n')).toContain('job config should implement the script:, run:, or trigger: keyword');
  const own = await dev.Lint.check(project.id, { dryRun: true, includeJobs: true });
  expect(own.valid).toBe(true);
  expect(((own as { jobs?: { name: string }[] }).jobs ?? []).map((j) => j.name)).toEqual(['build', 'slow_test']);

  // ---- a blocked user can do nothing; a revoked token nothing either; then they go
  await api.Users.block(user.id);
  await expect(dev.Users.showCurrentUser()).rejects.toThrow(/401|403|Unauthorized|Forbidden/);
  await api.Users.unblock(user.id);
  expect((await dev.Users.showCurrentUser()).state).toBe('active');
  await dev.PersonalAccessTokens.remove(); // revokes itself (personal_access_tokens/self)
  await expect(dev.Users.showCurrentUser()).rejects.toThrow(/invalid_token/); // GitLab's OAuth-style 401 body
  await api.ProjectMembers.remove(project.id, user.id);
  expect((await api.ProjectMembers.all(project.id)).map((m) => m.username)).not.toContain('gb-dev');
  await api.Users.remove(user.id);
  await expect(api.Users.show(user.id)).rejects.toThrow(/404|Not Found/);

  // ---- delete: the pipeline, then the project
  await api.Pipelines.remove(project.id, second.id);
  await expect(api.Pipelines.show(project.id, second.id)).rejects.toThrow();
  await api.Projects.remove(project.id);
  await expect(api.Projects.show(project.id)).rejects.toThrow();
}, 60_000);
