/**
 * `needs` as GitLab runs them (spec ci-yaml.md §6.2): DAG jobs start when their needs end,
 * whatever their stage; stage jobs after every lower stage; the `when` table; skipped jobs
 * re-opened when a manual job is played or a job retried. Driven by the simulated v4 runner
 * against a real server, with plans built by hand (test/support/plan.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Core } from '../../src/core';
import { FakeRunnerV4, type JobBehaviour } from '../support/fake-runner-v4';
import { makeProject, REGISTRATION_TOKEN, startTestServer, type TestServer } from '../support/harness';
import { createPipeline, job, plan, statuses } from '../support/plan';

let server: TestServer;
let core: Core;
let runner: FakeRunnerV4;
beforeAll(async () => {
  server = await startTestServer();
  core = server.core;
  runner = await FakeRunnerV4.register(server.url, REGISTRATION_TOKEN);
});
afterAll(() => server.stop());

/** Runs every job a runner can get until there is none, with the behaviour named after each job. */
async function drain(behaviours: Record<string, JobBehaviour> = {}) {
  const ran: string[] = [];
  for (let i = 0; i < 100; i++) {
    const r = await runner.runOne(behaviours);
    if (!r) return ran;
    ran.push(r.name);
  }
  throw new Error('too many jobs');
}

describe('needs: a job starts when its needs end, whatever its stage', () => {
  test('a late-stage job with needs starts while an unrelated early-stage job still runs', async () => {
    const project = makeProject(core);
    const p = createPipeline(core, project.id, plan([
      job('compile', { stage: 'build' }),
      job('slow_lint', { stage: 'build' }),
      job('unit', { stage: 'test', needs: ['compile'] }),
      job('ship', { stage: 'deploy', needs: ['unit'] }),
      job('report', { stage: 'deploy' }),
    ]));
    expect(statuses(core, p.id)).toEqual({ compile: 'pending', slow_lint: 'pending', unit: 'created', ship: 'created', report: 'created' });
    const compile = (await runner.poll())!;
    expect(compile.job_info.name).toBe('compile');
    const slow = (await runner.poll())!;
    expect(slow.job_info.name).toBe('slow_lint');
    await runner.run(compile, {});
    // slow_lint still runs: the stage rule would hold `unit`, its needs do not.
    expect(statuses(core, p.id)).toMatchObject({ slow_lint: 'running', unit: 'pending', ship: 'created', report: 'created' });
    expect((await runner.runOne({}))!.name).toBe('unit');
    expect(statuses(core, p.id)).toMatchObject({ slow_lint: 'running', ship: 'pending', report: 'created' });
    expect((await runner.runOne({}))!.name).toBe('ship');
    // `report` is a stage job: it waits for every lower stage, slow_lint included.
    expect(statuses(core, p.id).report).toBe('created');
    expect(core.pipelines.get(p.id).status).toBe('running');
    await runner.run(slow, {});
    expect(await drain()).toEqual(['report']);
    expect(core.pipelines.get(p.id).status).toBe('success');
  });

  test('needs: [] starts at once, in any stage', async () => {
    const project = makeProject(core);
    const p = createPipeline(core, project.id, plan([
      job('compile', { stage: 'build' }),
      job('docs', { stage: 'deploy', needs: [] }),
    ]));
    expect(statuses(core, p.id)).toEqual({ compile: 'pending', docs: 'pending' });
    await drain();
    expect(core.pipelines.get(p.id).status).toBe('success');
  });

  test('a failed need skips its dependants; unrelated branches go on', async () => {
    const project = makeProject(core);
    const p = createPipeline(core, project.id, plan([
      job('a', { stage: 'build' }),
      job('b', { stage: 'build' }),
      job('a_test', { stage: 'test', needs: ['a'] }),
      job('b_test', { stage: 'test', needs: ['b'] }),
      job('a_ship', { stage: 'deploy', needs: ['a_test'] }),
      job('b_ship', { stage: 'deploy', needs: ['b_test'] }),
    ]));
    expect(await drain({ a: { exit: 'failed' } })).toEqual(['a', 'b', 'b_test', 'b_ship']);
    expect(statuses(core, p.id)).toEqual({ a: 'failed', b: 'success', a_test: 'skipped', b_test: 'success', a_ship: 'skipped', b_ship: 'success' });
    expect(core.pipelines.get(p.id).status).toBe('failed');
  });

  test('artifacts come only from needs with artifacts: true (and dependencies narrow them)', async () => {
    const project = makeProject(core);
    createPipeline(core, project.id, plan([
      job('one', { stage: 'build', artifacts: { paths: ['out/'] } }),
      job('two', { stage: 'build', artifacts: { paths: ['out/'] } }),
      job('three', { stage: 'build', artifacts: { paths: ['out/'] } }),
      job('use', { stage: 'test', needs: ['one', { job: 'two', artifacts: false }] }),
      job('narrow', { stage: 'test', needs: ['one', 'three'], dependencies: ['three'] }),
      job('stage_job', { stage: 'test' }),
    ]));
    const deps: Record<string, string[]> = {};
    for (let i = 0; i < 6; i++) {
      const j = (await runner.poll())!;
      deps[j.job_info.name] = (j.dependencies ?? []).map((d) => d.name);
      await runner.run(j, { artifacts: `zip of ${j.job_info.name}` });
    }
    expect(deps).toEqual({ one: [], two: [], three: [], use: ['one'], narrow: ['three'], stage_job: ['one', 'two', 'three'] });
    // The downloads really happened, with the token each entry carried.
    expect(runner.downloads.filter((d) => d.name === 'one').length).toBe(2);
  });
});

// ---------------------------------------------------------------- the `when` table

type Case = {
  name: string;
  jobs: ReturnType<typeof job>[];
  behave?: Record<string, JobBehaviour>;
  expect: Record<string, string>;
  pipeline: string;
};

const CASES: Case[] = [
  {
    name: 'a skipped job counts as success for stage jobs but not for DAG jobs',
    jobs: [
      job('only_on_failure', { stage: 'build', when: 'on_failure' }),
      job('stage_job', { stage: 'test' }),
      job('dag_job', { stage: 'test', needs: ['only_on_failure'] }),
      job('dag_always', { stage: 'test', needs: ['only_on_failure'], when: 'always' }),
    ],
    expect: { only_on_failure: 'skipped', stage_job: 'success', dag_job: 'skipped', dag_always: 'success' },
    pipeline: 'success',
  },
  {
    name: 'on_failure and always after a failed need',
    jobs: [
      job('build', { stage: 'build' }),
      job('cleanup', { stage: 'deploy', needs: ['build'], when: 'on_failure' }),
      job('notify', { stage: 'deploy', needs: ['build'], when: 'always' }),
      job('ship', { stage: 'deploy', needs: ['build'] }),
    ],
    behave: { build: { exit: 'failed' } },
    expect: { build: 'failed', cleanup: 'success', notify: 'success', ship: 'skipped' },
    pipeline: 'failed',
  },
  {
    name: 'an allowed failure is a success for what needs it',
    jobs: [
      job('flaky', { stage: 'build', allowFailure: true }),
      job('next', { stage: 'test', needs: ['flaky'] }),
      job('later', { stage: 'deploy' }),
    ],
    behave: { flaky: { exit: 'failed' } },
    expect: { flaky: 'failed', next: 'success', later: 'success' },
    pipeline: 'success',
  },
  {
    name: 'a need on an unplayed optional manual job skips the dependant (DAG mode)',
    jobs: [
      job('approve', { stage: 'build', when: 'manual' }),
      job('after_approval', { stage: 'test', needs: ['approve'] }),
      job('stage_job', { stage: 'test' }),
    ],
    expect: { approve: 'manual', after_approval: 'skipped', stage_job: 'success' },
    pipeline: 'success',
  },
  {
    name: 'a blocking manual job (allow_failure: false) holds later stages and its dependants',
    jobs: [
      job('gate', { stage: 'build', when: 'manual', allowFailure: false }),
      job('dag_job', { stage: 'test', needs: ['gate'] }),
      job('stage_job', { stage: 'test' }),
    ],
    expect: { gate: 'manual', dag_job: 'created', stage_job: 'created' },
    pipeline: 'manual',
  },
  {
    name: 'a DAG job in the same stage as its need runs after it',
    jobs: [
      job('second', { stage: 'test', needs: ['first'] }),
      job('first', { stage: 'test' }),
    ],
    expect: { first: 'success', second: 'success' },
    pipeline: 'success',
  },
  {
    name: 'a stage job in a later stage waits for DAG jobs of lower stages',
    jobs: [
      job('a', { stage: 'build' }),
      job('dag', { stage: 'test', needs: ['a'] }),
      job('final', { stage: 'deploy' }),
    ],
    behave: { dag: { exit: 'failed' } },
    expect: { a: 'success', dag: 'failed', final: 'skipped' },
    pipeline: 'failed',
  },
];

describe('the when table (atomic processing)', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const project = makeProject(core);
      const p = createPipeline(core, project.id, plan(c.jobs));
      await drain(c.behave);
      expect(statuses(core, p.id)).toEqual(c.expect);
      expect(core.pipelines.get(p.id).status).toBe(c.pipeline);
    });
  }

  test('a canceled job skips everything after it, even when: always', async () => {
    const project = makeProject(core);
    const p = createPipeline(core, project.id, plan([
      job('long', { stage: 'build' }),
      job('dag_always', { stage: 'test', needs: ['long'], when: 'always' }),
      job('stage_always', { stage: 'deploy', when: 'always' }),
    ]));
    const long = (await runner.poll())!;
    core.jobs.cancel(long.id);
    expect(statuses(core, p.id)).toEqual({ long: 'canceled', dag_always: 'skipped', stage_always: 'skipped' });
    expect(core.pipelines.get(p.id).status).toBe('canceled');
  });

  test('playing a manual job re-opens its skipped dependants', async () => {
    const project = makeProject(core);
    const p = createPipeline(core, project.id, plan([
      job('approve', { stage: 'build', when: 'manual' }),
      job('after_approval', { stage: 'test', needs: ['approve'] }),
      job('then', { stage: 'deploy', needs: ['after_approval'] }),
    ]));
    expect(statuses(core, p.id)).toEqual({ approve: 'manual', after_approval: 'skipped', then: 'skipped' });
    const approve = core.pipelines.latestJobs(p.id).find((j) => j.name === 'approve')!;
    core.jobs.play(approve.id);
    expect(statuses(core, p.id)).toEqual({ approve: 'pending', after_approval: 'created', then: 'created' });
    expect(await drain()).toEqual(['approve', 'after_approval', 'then']);
    expect(core.pipelines.get(p.id).status).toBe('success');
  });

  test('retrying a failed job re-opens what its failure skipped', async () => {
    const project = makeProject(core);
    const p = createPipeline(core, project.id, plan([
      job('a', { stage: 'build' }),
      job('b', { stage: 'test', needs: ['a'] }),
      job('c', { stage: 'deploy' }),
    ]));
    await drain({ a: { exit: 'failed' } });
    expect(statuses(core, p.id)).toEqual({ a: 'failed', b: 'skipped', c: 'skipped' });
    const failed = core.pipelines.latestJobs(p.id).find((j) => j.name === 'a')!;
    core.jobs.retry(failed.id);
    expect(statuses(core, p.id)).toEqual({ a: 'pending', b: 'created', c: 'created' });
    expect(await drain()).toEqual(['a', 'b', 'c']);
    expect(core.pipelines.get(p.id).status).toBe('success');
  });
});

// ---------------------------------------------------------------- cost

describe('processing stays cheap for big DAGs', () => {
  /** SQL statements run while `fn` runs (every prepare and every query through bun:sqlite). */
  function countStatements(fn: () => void): number {
    const client = core.deps.db.$client as unknown as Record<string, (...a: unknown[]) => unknown>;
    let n = 0;
    const wrap = (name: string) => {
      const original = client[name];
      client[name] = function (this: unknown, ...a: unknown[]) {
        n++;
        return original.apply(this, a);
      };
      return () => { client[name] = original; };
    };
    const undo = [wrap('prepare'), wrap('query'), wrap('run')];
    try { fn(); } finally { for (const u of undo) u(); }
    return n;
  }

  /** A layered DAG of `n` jobs: each job needs two of the previous layer (10 jobs wide). */
  function bigDag(n: number) {
    const jobs = [];
    for (let i = 0; i < n; i++) {
      const needs = i < 10 ? [] : [`j${i - 10}`, `j${i - 10 - (i % 10 === 0 ? 0 : 1)}`].filter((v, k, a) => a.indexOf(v) === k);
      jobs.push(job(`j${i}`, { stage: 'test', needs }));
    }
    return plan(jobs);
  }

  function runAll(pipelineId: number, shared: ReturnType<Core['runners']['create']>['runner']) {
    const perEnd: number[] = [];
    for (;;) {
      const claimed = core.jobs.claim(shared);
      if (claimed.outcome !== 'job') break;
      perEnd.push(countStatements(() => core.jobs.finish(claimed.context.job.id, 'success', { failureReason: null, exitCode: 0 })));
    }
    expect(core.pipelines.get(pipelineId).status).toBe('success');
    return perEnd;
  }

  test('a 500-job DAG: the SQL per job end does not grow with the pipeline', () => {
    const project = makeProject(core, { sharedRunnersEnabled: false });
    const { runner: own } = core.runners.create({ protocol: 'v4', projectId: project.id, runUntagged: true });
    const small = createPipeline(core, project.id, bigDag(50));
    const smallCost = runAll(small.id, own);
    const started = performance.now();
    const big = createPipeline(core, project.id, bigDag(500));
    const created = performance.now() - started;
    const t0 = performance.now();
    const bigCost = runAll(big.id, own);
    const perJobMs = (performance.now() - t0) / 500;
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    console.log(`500-job DAG: created in ${created.toFixed(0)} ms; claim+finish ${perJobMs.toFixed(2)} ms/job; statements per job end ${mean(smallCost).toFixed(1)} (50 jobs) vs ${mean(bigCost).toFixed(1)} (500 jobs), max ${Math.max(...bigCost)}`);
    expect(bigCost.length).toBe(500);
    expect(Math.max(...bigCost)).toBeLessThanOrEqual(Math.max(...smallCost) + 2);
    expect(mean(bigCost)).toBeLessThan(mean(smallCost) * 1.5 + 2);
  }, 120_000);
});
