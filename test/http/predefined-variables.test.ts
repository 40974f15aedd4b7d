/**
 * One list of predefined variables: what `rules`, `workflow` and `include` saw when a pipeline
 * was compiled is what its runners receive (core/predefined-variables.ts feeds both), and the
 * payload keeps GitLab's precedence (spec ci-yaml.md §5.2: a later entry wins on the runner).
 * Real git repositories, pipelines through the one creation path, the simulated v4 and v1
 * runners.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Core } from '../../src/core';
import { FakeRunnerV1 } from '../support/fake-runner-v1';
import { FakeRunnerV4 } from '../support/fake-runner-v4';
import { makeProject, startTestServer, type TestServer } from '../support/harness';
import { body, makeRepo, type LocalRepo } from './rest-fixtures';

let s: TestServer;
let core: Core;
const repos: LocalRepo[] = [];
const repo = (files: Record<string, string>) => { const r = makeRepo(files); repos.push(r); return r; };

beforeAll(async () => {
  s = await startTestServer();
  core = s.core;
});
afterAll(async () => {
  await s.stop();
  for (const r of repos) r.remove();
});

type Var = { key: string; value: string; public: boolean; raw?: boolean };
/** The runner's view: the last entry of a key wins. */
const lastWins = (vars: Var[]) => new Map(vars.map((v) => [v.key, v.value]));
const payloadVars = (runner: FakeRunnerV4) => (runner.payloads.at(-1) as { variables: Var[] }).variables;

/**
 * Compiles (as the creator does before storing), creates, lets a project runner take the job,
 * and answers the compile's predefined variables next to the payload's.
 */
async function compiledAndSent(project: ReturnType<typeof makeProject>, input: Parameters<Core['creator']['create']>[1]) {
  const { context } = await core.creator.compile(project, input);
  const predefined = Object.fromEntries((context.predefinedVariableNames ?? []).map((k) => [k, context.variables[k]]));
  await core.creator.create(project, input);
  const runner = await FakeRunnerV4.register(s.url, project.runnersToken);
  const job = await runner.poll();
  expect(job).not.toBeNull();
  const sent = payloadVars(runner);
  await runner.run(job!, {});
  return { predefined, sent, runner };
}

describe('rules and runners see the same predefined variables', () => {
  const CASES: [string, (r: LocalRepo) => { ref: string; tag?: boolean; beforeSha?: string; source: 'push' | 'web' | 'api' | 'schedule' }][] = [
    ['a branch push with a before sha and a long commit message', (r) => {
      const before = r.git('rev-parse', 'HEAD');
      r.commit({ 'a.txt': 'a' }, `Übersicht: fix the thing\n\n${'body line\n'.repeat(12_000)}`);
      return { ref: 'main', beforeSha: before, source: 'push' };
    }],
    ['a tag from the web', (r) => { r.git('tag', 'v1.2.0'); return { ref: 'v1.2.0', tag: true, source: 'web' }; }],
    ['a branch with a unicode name on a schedule', (r) => { r.git('branch', 'feature/Ünïcode_Ünïcode'); return { ref: 'feature/Ünïcode_Ünïcode', source: 'schedule' }; }],
  ];
  for (const [what, setup] of CASES) {
    test(what, async () => {
      const r = repo({ '.gitlab-ci.yml': 'workflow:\n  name: "Run for $CI_COMMIT_REF_NAME"\njob:\n  script: [env]\n' });
      const input = setup(r);
      const project = makeProject(core, { repoUrl: r.dir, path: `pre-${Math.random().toString(36).slice(2, 8)}` });
      const { predefined, sent } = await compiledAndSent(project, input);
      // what the compiler saw is there, and the payload agrees on every value
      for (const k of ['CI_COMMIT_SHA', 'CI_COMMIT_REF_SLUG', 'CI_PROJECT_PATH', 'CI_SERVER_HOST', 'CI_PIPELINE_SOURCE', 'CI_COMMIT_TITLE']) expect(predefined[k]).toBeDefined();
      const runner = lastWins(sent);
      const differing = Object.entries(predefined).filter(([k, v]) => runner.get(k) !== v).map(([k, v]) => ({ key: k, rules: v.slice(0, 80), runner: runner.get(k)?.slice(0, 80) }));
      expect(differing).toEqual([]);
      // … and each appears once: no second list adds its own copy
      const counts = new Map<string, number>();
      for (const v of sent) counts.set(v.key, (counts.get(v.key) ?? 0) + 1);
      expect(Object.keys(predefined).filter((k) => counts.get(k) !== 1)).toEqual([]);
      // job-only ones are added by the runner side
      for (const k of ['CI_JOB_ID', 'CI_JOB_TOKEN', 'CI_PIPELINE_ID', 'CI_PIPELINE_IID', 'CI_PIPELINE_URL', 'CI_JOB_URL', 'CI_PIPELINE_CREATED_AT', 'CI_JOB_STARTED_AT']) {
        expect(runner.has(k)).toBe(true);
      }
      expect(runner.get('CI_PIPELINE_NAME')).toBe(`Run for ${input.ref}`);
    });
  }

  test('a truncated commit message is truncated alike for rules and runners', async () => {
    const r = repo({ '.gitlab-ci.yml': 'job:\n  script: [env]\n  rules: [{if: $CI_COMMIT_MESSAGE_IS_TRUNCATED == "true"}]\n' });
    r.commit({ 'b.txt': 'b' }, `Big\n\n${`${'x'.repeat(60)}\n`.repeat(1800)}`); // over 100 000 bytes, under one argv string's limit
    const project = makeProject(core, { repoUrl: r.dir });
    const { predefined, sent } = await compiledAndSent(project, { ref: 'main', source: 'api' });
    const v = lastWins(sent);
    expect(predefined.CI_COMMIT_MESSAGE_IS_TRUNCATED).toBe('true');
    expect(v.get('CI_COMMIT_MESSAGE_IS_TRUNCATED')).toBe('true');
    expect(Buffer.byteLength(v.get('CI_COMMIT_MESSAGE')!)).toBe(100_000);
    expect(v.get('CI_COMMIT_MESSAGE')).toBe(predefined.CI_COMMIT_MESSAGE);
  });

  test('the v1 runner receives the same list', async () => {
    const r = repo({ '.gitlab-ci.yml': 'job:\n  script: [env]\n' });
    const project = makeProject(core, { repoUrl: r.dir });
    const { context } = await core.creator.compile(project, { ref: 'main', source: 'api' });
    await core.creator.create(project, { ref: 'main', source: 'api' });
    const v1 = await FakeRunnerV1.register(s.url, project.runnersToken);
    const build = await v1.poll();
    expect(build).not.toBeNull();
    const sent = new Map(((build!.variables ?? []) as Var[]).map((v) => [v.key, v.value]));
    for (const k of context.predefinedVariableNames ?? []) expect([k, sent.get(k)]).toEqual([k, context.variables[k]]);
    await v1.run(build!, {});
  });
});

describe('precedence on the runner (spec ci-yaml.md §5.2)', () => {
  test('predefined < global YAML < job YAML < GITLAB_USER_* < dotenv < project < pipeline variables', async () => {
    const yaml = [
      'variables:',
      '  CI_COMMIT_REF_NAME: yaml-overrides-predefined',
      '  GITLAB_USER_LOGIN: spoofed-by-yaml',
      '  LEVEL: global',
      '  JOB_WINS: global',
      'build:',
      '  stage: build',
      '  script: [make]',
      '  artifacts: {reports: {dotenv: build.env}}',
      'deploy:',
      '  stage: deploy',
      '  needs: [build]',
      '  script: [deploy]',
      '  variables: {JOB_WINS: job, DOTENV_WINS: job, PROJECT_WINS: job, GITLAB_USER_NAME: spoofed-by-job}',
      '',
    ].join('\n');
    const r = repo({ '.gitlab-ci.yml': yaml });
    const created = await body<{ id: number }>(await s.api('/api/v4/projects', { method: 'POST', json: { name: `prec-${Date.now()}`, repo_url: r.dir } }), 201);
    const project = core.projects.get(created.id);
    await body(await s.api(`/api/v4/projects/${project.id}/variables`, { method: 'POST', json: { key: 'PROJECT_WINS', value: 'project' } }), 201);
    await body(await s.api(`/api/v4/projects/${project.id}/variables`, { method: 'POST', json: { key: 'PIPELINE_WINS', value: 'project' } }), 201);
    const pl = await body<{ id: number }>(await s.api(`/api/v4/projects/${project.id}/pipeline`, {
      method: 'POST', json: { ref: 'main', variables: [{ key: 'PIPELINE_WINS', value: 'pipeline' }] },
    }), 201);
    const runner = await FakeRunnerV4.register(s.url, project.runnersToken);
    const build = (await runner.poll())!;
    await runner.run(build, { reports: { dotenv: 'DOTENV_WINS=dotenv\nPROJECT_WINS=dotenv\nGITLAB_USER_LOGIN=dotenv-may\n' } });
    const deploy = (await runner.poll())!;
    expect(deploy.job_info.name).toBe('deploy');
    const v = lastWins(payloadVars(runner));
    await runner.run(deploy, {});
    expect({
      ref: v.get('CI_COMMIT_REF_NAME'), level: v.get('LEVEL'), job: v.get('JOB_WINS'), login: v.get('GITLAB_USER_LOGIN'), name: v.get('GITLAB_USER_NAME'),
      dotenv: v.get('DOTENV_WINS'), project: v.get('PROJECT_WINS'), pipeline: v.get('PIPELINE_WINS'),
    }).toEqual({
      ref: 'yaml-overrides-predefined', level: 'global', job: 'job',
      // YAML cannot override GITLAB_USER_*; dotenv comes later and can (as in GitLab)
      login: 'dotenv-may', name: 'Administrator',
      dotenv: 'dotenv', project: 'project', pipeline: 'pipeline',
    });
    expect(core.pipelines.get(pl.id).userId).not.toBeNull();
  });
});

describe('inherit:variables reaches the runner', () => {
  test('all, none, a list; a bridge forwards only what it inherits; inherit:default is in the payload too', async () => {
    const yaml = [
      'variables: {A: a, B: b, C: c}',
      'default:',
      '  before_script: [echo default]',
      'all:',
      '  script: [x]',
      'none:',
      '  script: [x]',
      '  inherit: {variables: false, default: false}',
      'some:',
      '  script: [x]',
      '  inherit: {variables: [B]}',
      '  variables: {OWN: own}',
      'child:',
      '  inherit: {variables: [C]}',
      '  trigger: {include: child.yml, strategy: depend}',
      '',
    ].join('\n');
    const r = repo({ '.gitlab-ci.yml': yaml, 'child.yml': 'grandchild-job:\n  script: [x]\n' });
    const project = makeProject(core, { repoUrl: r.dir });
    const parent = await core.creator.create(project, { ref: 'main', source: 'api' });
    const runner = await FakeRunnerV4.register(s.url, project.runnersToken);
    const seen: Record<string, { vars: Map<string, string>; steps: { name: string; script: string[] }[] }> = {};
    for (let i = 0; i < 40 && Object.keys(seen).length < 4; i++) {
      const job = await runner.poll();
      if (!job) { await Bun.sleep(25); continue; }
      seen[job.job_info.name] = { vars: lastWins(payloadVars(runner)), steps: job.steps };
      await runner.run(job, {});
    }
    const globals = (name: string) => ['A', 'B', 'C', 'OWN'].filter((k) => seen[name].vars.has(k));
    expect({ all: globals('all'), none: globals('none'), some: globals('some'), child: globals('grandchild-job') })
      .toEqual({ all: ['A', 'B', 'C'], none: [], some: ['B', 'OWN'], child: ['C'] });
    expect(seen.all.steps[0].script).toEqual(['echo default', 'x']);
    expect(seen.none.steps[0].script).toEqual(['x']);
    // the child (a pipeline variable there) came through the bridge, which ends with it
    const bridge = core.pipelines.latestJobs(parent.id, 'bridge')[0];
    for (let i = 0; i < 40 && core.jobs.get(bridge.id).status !== 'success'; i++) await Bun.sleep(25);
    expect(core.jobs.get(bridge.id).status).toBe('success');
  });
});
