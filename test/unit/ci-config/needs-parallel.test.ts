/** `needs` (DAG checks, optional needs, needs after rules), `dependencies`, `parallel: N` and `parallel: matrix`. */
import { describe, expect, test } from 'bun:test';
import { errors, expectErrors, job, names, plan } from './helpers';
import { checkConfig } from '../../../src/core/ci-config';
import { contextOf } from '../../support/compile';

const STAGES = 'stages: [build, test, deploy]\n';

describe('needs', () => {
  test('forms; [] starts at once; absent = stage-scheduled', async () => {
    const p = await plan(`${STAGES}a:\n  stage: build\n  script: x\nb:\n  stage: build\n  script: x\nt:\n  stage: test\n  script: x\n  needs: [a, {job: b, artifacts: false}]\nu:\n  stage: test\n  script: x\n  needs: []\nv:\n  stage: deploy\n  script: x\n`);
    expect(job(p, 't').needs).toEqual([{ job: 'a', artifacts: true, optional: false }, { job: 'b', artifacts: false, optional: false }]);
    expect(job(p, 'u').needs).toEqual([]);
    expect(job(p, 'v').needs).toBeUndefined();
  });

  test('a need in the same stage is allowed; on a parallel job it means every instance', async () => {
    const p = await plan(`${STAGES}a:\n  stage: test\n  script: x\n  parallel: 2\nb:\n  stage: test\n  script: x\n  needs: [a]\n`);
    expect(job(p, 'b').needs?.map((n) => n.job)).toEqual(['a 1/2', 'a 2/2']);
  });

  test('needs:parallel:matrix selects instances', async () => {
    const p = await plan(`${STAGES}build:\n  stage: build\n  script: x\n  parallel:\n    matrix:\n      - OS: [linux, mac]\n        ARCH: [amd64, arm64]\ntest:\n  script: x\n  needs:\n    - job: build\n      parallel:\n        matrix:\n          - OS: linux\n            ARCH: [arm64]\n`);
    expect(job(p, 'test').needs?.map((n) => n.job)).toEqual(['build: [linux, arm64]']);
  });

  test('matrix expressions: $[[ matrix.KEY ]] in needs takes each instance\'s own value (PipeWire\'s build_on_debian)', async () => {
    const p = await plan(`${STAGES}build:
  stage: build
  script: x
  parallel:
    matrix:
      - OS: [linux, mac]
        ARCH: [amd64, arm64]
test:
  script: x
  parallel:
    matrix:
      - OS: [linux, mac]
  needs:
    - job: build
      parallel:
        matrix:
          - OS: ['$[[ matrix.OS ]]']
            ARCH: [amd64]
    - job: 'lint: [$[[ matrix.OS ]]]'
      artifacts: false
lint:
  stage: build
  script: x
  parallel:
    matrix:
      - OS: [linux, mac]
`);
    expect(p.jobs.filter((j) => j.stage === 'test').map((j) => [j.name, j.needs])).toEqual([
      ['test: [linux]', [{ job: 'build: [linux, amd64]', artifacts: true, optional: false }, { job: 'lint: [linux]', artifacts: false, optional: false }]],
      ['test: [mac]', [{ job: 'build: [mac, amd64]', artifacts: true, optional: false }, { job: 'lint: [mac]', artifacts: false, optional: false }]],
    ]);
    expect(await errors(`${STAGES}build:\n  stage: build\n  script: x\n  parallel:\n    matrix:\n      - OS: [linux]\ntest:\n  script: x\n  parallel:\n    matrix:\n      - OS: [linux, mac]\n  needs:\n    - job: build\n      parallel:\n        matrix:\n          - OS: ['$[[ matrix.OSS ]]']\n`))
      .toEqual(["test job: 'OSS' does not exist in matrix configuration"]);
  });

  test('optional needs: ignored when the job is not in the configuration, or not in this pipeline', async () => {
    const p = await plan(`${STAGES}a:\n  stage: build\n  script: x\n  rules:\n    - if: $NOPE\nb:\n  script: x\n  needs: [{job: a, optional: true}, {job: ghost, optional: true}]\n`);
    expect(names(p)).toEqual(['b']);
    expect(job(p, 'b').needs).toEqual([]);
  });

  test('a need on a job that rules left out → GitLab\'s creation error', async () => {
    expect(await errors(`${STAGES}a:\n  stage: build\n  script: x\n  rules:\n    - if: $NOPE\nb:\n  script: x\n  needs: [a]\n`)).toEqual([
      "'b' job needs 'a' job, but 'a' does not exist in the pipeline. This might be because of the only, except, or rules keywords. To need a job that sometimes does not exist in the pipeline, use needs:optional.",
    ]);
  });

  test('the check is of the job\'s own needs (Seed::Build takes them before rules run), also when a rule replaces them', async () => {
    const gone = `${STAGES}a:\n  stage: build\n  script: x\n  rules:\n    - if: $NOPE\nb:\n  stage: build\n  script: x\n`;
    // its own need is missing, the rule's is there: GitLab's creation error still
    expect(await errors(`${gone}c:\n  script: x\n  needs: [a]\n  rules:\n    - needs: [b]\n`)).toEqual([
      "'c' job needs 'a' job, but 'a' does not exist in the pipeline. This might be because of the only, except, or rules keywords. To need a job that sometimes does not exist in the pipeline, use needs:optional.",
    ]);
    // no needs of its own, the rule's need is missing: the pipeline is created without it
    const p = await plan(`${gone}d:\n  script: x\n  rules:\n    - needs: [a, b]\n`);
    expect(job(p, 'd').needs?.map((n) => n.job)).toEqual(['b']);
  });

  test('rules:needs replaces the needs of the job', async () => {
    const p = await plan(`${STAGES}a:\n  stage: build\n  script: x\nb:\n  stage: build\n  script: x\nc:\n  script: x\n  needs: [a]\n  rules:\n    - needs: [b]\n`);
    expect(job(p, 'c').needs?.map((n) => n.job)).toEqual(['b']);
  });

  test('configuration errors', async () => {
    await expectErrors([
      [`${STAGES}b:\n  script: x\n  needs: [nope]\n`, ['b job: undefined need: nope']],
      [`${STAGES}a:\n  stage: deploy\n  script: x\nb:\n  stage: test\n  script: x\n  needs: [a]\n`, ['b job: need a is not defined in current or prior stages']],
      [`${STAGES}a:\n  stage: build\n  script: x\nb:\n  script: x\n  needs: [a, a]\n`, ['b has the following needs duplicated: a.']],
      // Ruby's TSort message: the component in the order the walk pushed it (GitLab's spec: job_a, job_c, job_b)
      [`${STAGES}a:\n  script: x\n  needs: [b]\nb:\n  script: x\n  needs: [a]\n`, ['The pipeline has circular dependencies: topological sort failed: ["a", "b"]']],
      [`${STAGES}job_a:\n  script: x\n  needs: [job_c]\njob_b:\n  script: x\n  needs: [job_a]\njob_c:\n  script: x\n  needs: [job_b]\n`, ['The pipeline has circular dependencies: topological sort failed: ["job_a", "job_c", "job_b"]']],
      [`${STAGES}job:\n  script: x\n  needs: [job]\n`, ['The pipeline has circular dependencies: self-dependency: job']],
      [`${STAGES}a:\n  stage: build\n  script: x\n  parallel: 51\nb:\n  script: x\n  needs: [a]\n`, ['b: one job can only need 50 others, but you have listed 51. See needs keyword documentation for more details']],
      [`${STAGES}b:\n  script: x\n  needs: [{job: a, project: other/p, ref: main, artifacts: true}]\n`, ['jobs:b:needs uses needs:project (another project), which Baton does not support: a job can only need jobs of its own pipeline']],
      [`${STAGES}b:\n  script: x\n  needs: [{pipeline: "$PARENT_PIPELINE_ID", job: a}]\n`, ['jobs:b:needs uses needs:pipeline (another pipeline), which Baton does not support: a job can only need jobs of its own pipeline']],
      [`${STAGES}b:\n  script: x\n  needs: [{job: a, artefacts: true}]\n`, ['jobs:b:needs:need config contains unknown keys: artefacts']],
      [`${STAGES}a:\n  stage: build\n  script: x\nb:\n  script: x\n  needs: [a]\n  dependencies: [c]\nc:\n  stage: build\n  script: x\n`, ['jobs:b dependencies the c should be part of needs']],
    ]);
  });
});

describe('rules:needs (checked with the configuration, as yaml_processor.rb checks each rule\'s needs)', () => {
  const R = (needs: string) => `  rules:\n    - if: $CI_COMMIT_BRANCH\n      needs: ${needs}\n`;

  test('configuration errors, whether or not the rule matches', async () => {
    await expectErrors([
      [`${STAGES}t:\n  stage: test\n  script: x\n${R('[unknown_job]')}`, ['t job: undefined need: unknown_job']],
      [`${STAGES}t:\n  stage: test\n  script: x\n  rules:\n    - if: $NOPE\n      needs: [unknown_job]\n    - when: on_success\n`, ['t job: undefined need: unknown_job']],
      [`${STAGES}early:\n  stage: build\n  script: x\n${R('[t]')}t:\n  stage: test\n  script: x\n`, ['early job: need t is not defined in current or prior stages']],
      [`${STAGES}early:\n  stage: build\n  script: x\n${R('[{job: t, artifacts: false, optional: false}]')}t:\n  stage: test\n  script: x\n`, ['early job: need t is not defined in current or prior stages']],
      [`${STAGES}a:\n  stage: build\n  script: x\nt:\n  script: x\n${R('[a, {job: a}]')}`, ['t has the following needs duplicated: a.']],
      [`${STAGES}a:\n  stage: build\n  script: x\nb:\n  stage: build\n  script: x\nt:\n  script: x\n${R('[a, b, b, a]')}`, ['t has the following needs duplicated: a, b.']],
      // each need is checked before the duplicates are
      [`${STAGES}t:\n  script: x\n${R('[ghost, ghost]')}`, ['t job: undefined need: ghost']],
      // an optional need may be missing, but still counts as a duplicate
      [`${STAGES}t:\n  script: x\n${R('[{job: ghost, optional: true}, {job: ghost, optional: true}]')}`, ['t has the following needs duplicated: ghost.']],
      // the normalizer expands job-level needs only: a rule need names jobs as written
      [`${STAGES}a:\n  stage: build\n  script: x\n  parallel: 2\nt:\n  script: x\n${R('[a]')}`, ['t job: undefined need: a']],
      [`${STAGES}build:\n  stage: build\n  script: x\n  parallel:\n    matrix:\n      - OS: [linux, mac]\nt:\n  script: x\n${R('[{job: build, parallel: {matrix: [{OS: linux}]}}]')}`, ['t job: undefined need: build']],
      // every instance of a parallel job carries the rules; the first reports
      [`${STAGES}t:\n  script: x\n  parallel: 2\n${R('[ghost]')}`, ['t 1/2 job: undefined need: ghost']],
      // the job's own needs are checked first, then each rule's in order
      [`${STAGES}t:\n  script: x\n  needs: [nope1]\n${R('[nope2]')}`, ['t job: undefined need: nope1']],
      [`${STAGES}t:\n  script: x\n  rules:\n    - if: $A\n      needs: [nope1]\n    - needs: [nope2]\n`, ['t job: undefined need: nope1']],
      // after the job's dependencies, before the next job
      [`${STAGES}t:\n  script: x\n  dependencies: [nodep]\n${R('[nope]')}u:\n  script: x\n  needs: [nope3]\n`, ['t job: undefined dependency: nodep']],
      [`${STAGES}t:\n  script: x\n${R('[nope]')}u:\n  script: x\n  needs: [nope3]\n`, ['t job: undefined need: nope']],
    ]);
  });

  test('a static lint (no dry run) reports them', async () => {
    const c = await checkConfig(`${STAGES}t:\n  stage: test\n  script: x\n${R('[unknown_job]')}`, contextOf());
    expect(c.errors).toEqual(['t job: undefined need: unknown_job']);
  });

  test('what is allowed: optional needs of missing jobs, artifacts:, an instance by name, the same need as the job, more than 50', async () => {
    const p = await plan(`${STAGES}a:\n  stage: build\n  script: x\n  parallel: 2\nb:\n  stage: build\n  script: x\nt:\n  script: x\n  needs: [b]\n${R('[b, {job: ghost, optional: true}, {job: "a 1/2", artifacts: false}]')}`);
    expect(job(p, 't').needs).toEqual([{ job: 'b', artifacts: true, optional: false }, { job: 'a 1/2', artifacts: false, optional: false }]);
    const only = await plan(`${STAGES}t:\n  script: x\n${R('[{job: ghost, optional: true}]')}`);
    expect(job(only, 't').needs).toEqual([]);
    // GitLab counts needs against the limit at creation, and only the job's own (Seed::Build reads them before rules)
    const many = Array.from({ length: 51 }, (_, i) => `j${i}`);
    const big = await plan(`${STAGES}${many.map((n) => `${n}:\n  stage: build\n  script: x\n`).join('')}t:\n  script: x\n${R(`[${many.join(', ')}]`)}`);
    expect(job(big, 't').needs?.length).toBe(51);
  });
});

describe('job needs: checked in GitLab\'s order, on the names the normalizer gives', () => {
  test('errors', async () => {
    await expectErrors([
      [`${STAGES}b:\n  script: x\n  needs: [nope, nope]\n`, ['b job: undefined need: nope']],
      [`${STAGES}a:\n  stage: deploy\n  script: x\nb:\n  script: x\n  needs: [a, a]\n`, ['b job: need a is not defined in current or prior stages']],
      [`${STAGES}a:\n  stage: build\n  script: x\n  parallel: 2\nb:\n  script: x\n  needs: [a, a]\n`, ['b has the following needs duplicated: a 1/2, a 2/2.']],
      [`${STAGES}a:\n  stage: build\n  script: x\nc:\n  stage: build\n  script: x\nb:\n  script: x\n  needs: [a, c, c, a]\n`, ['b has the following needs duplicated: a, c.']],
      [`${STAGES}a:\n  stage: deploy\n  script: x\n  parallel: 2\nb:\n  script: x\n  needs: [a]\n`, ['b job: need a 1/2 is not defined in current or prior stages']],
      [`${STAGES}build:\n  stage: build\n  script: x\n  parallel:\n    matrix:\n      - OS: [linux]\ntest:\n  script: x\n  needs:\n    - job: build\n      parallel:\n        matrix:\n          - OS: [linux, windows]\n`, ['test job: undefined need: build: [windows]']],
      [`${STAGES}test:\n  script: x\n  needs:\n    - job: build\n      parallel:\n        matrix:\n          - OS: [linux]\n`, ['test job: undefined need: build']],
      // dependencies are checked before needs
      [`${STAGES}b:\n  script: x\n  needs: [x]\n  dependencies: [x]\n`, ['b job: undefined dependency: x']],
      // a needed job whose stage does not exist fails the stage comparison, as GitLab's nil index does
      [`${STAGES}b:\n  script: x\n  needs: [a]\na:\n  stage: nowhere\n  script: x\n`, ['b job: need a is not defined in current or prior stages']],
      // the 50 limit is a creation error in GitLab: every configuration error comes first
      [`${STAGES}a:\n  stage: build\n  script: x\n  parallel: 51\nb:\n  script: x\n  needs: [a]\nc:\n  script: x\n  needs: [nope]\n`, ['c job: undefined need: nope']],
    ]);
  });

  test('needs:parallel:matrix on a job that is not parallel names the job as written (the normalizer expands parallel jobs only)', async () => {
    const p = await plan(`${STAGES}build:\n  stage: build\n  script: x\ntest:\n  script: x\n  needs:\n    - job: build\n      parallel:\n        matrix:\n          - OS: [linux]\n`);
    expect(job(p, 'test').needs).toEqual([{ job: 'build', artifacts: true, optional: false }]);
  });
});

describe('dependencies', () => {
  test('earlier stages only; [] = none; names of jobs rules left out are dropped', async () => {
    const p = await plan(`${STAGES}a:\n  stage: build\n  script: x\nz:\n  stage: build\n  script: x\n  rules: [{if: $NOPE}]\nb:\n  script: x\n  dependencies: [a, z]\nc:\n  script: x\n  dependencies: []\n`);
    expect([job(p, 'b').dependencies, job(p, 'c').dependencies]).toEqual([['a'], []]);
  });
  test('a dependency may be a job of the same stage (GitLab compares stage indexes with <=)', async () => {
    const p = await plan(`${STAGES}build-image:\n  script: x\npublish:\n  script: x\n  dependencies: [build-image]\n`);
    expect(job(p, 'publish').dependencies).toEqual(['build-image']);
  });
  test('errors', async () => {
    await expectErrors([
      [`${STAGES}b:\n  script: x\n  dependencies: [nope]\n`, ['b job: undefined dependency: nope']],
      [`${STAGES}a:\n  stage: deploy\n  script: x\nb:\n  script: x\n  dependencies: [a]\n`, ['b job: dependency a is not defined in current or prior stages']],
      [`${STAGES}b:\n  script: x\n  dependencies: a\n`, ['jobs:b dependencies should be an array of strings']],
    ]);
  });
});

describe('parallel', () => {
  test('parallel: N names and numbers the copies', async () => {
    const p = await plan('t:\n  script: x\n  parallel: 3\n');
    expect(p.jobs.map((j) => [j.name, j.parallel])).toEqual([
      ['t 1/3', { index: 1, total: 3, group: 't' }], ['t 2/3', { index: 2, total: 3, group: 't' }], ['t 3/3', { index: 3, total: 3, group: 't' }],
    ]);
  });

  test('matrix: first key varies slowest, values stringified as GitLab does, equal names overwrite', async () => {
    const p = await plan('t:\n  script: x\n  parallel:\n    matrix:\n      - RUBY: [0x1F, "3.2"]\n        DB: [pg, mysql]\n      - RUBY: jruby\n      - RUBY: "3.2"\n        DB: pg\n      - MY-KEY: [a]\n');
    expect(names(p)).toEqual(['t: [31, pg]', 't: [31, mysql]', 't: [3.2, pg]', 't: [3.2, mysql]', 't: [jruby]', 't: [a]']);
    expect(job(p, 't: [3.2, pg]').parallel?.index).toBe(6);
    expect(job(p, 't: [31, mysql]')).toMatchObject({ variables: { RUBY: '31', DB: 'mysql' }, parallel: { index: 2, total: 7, group: 't', matrix: { RUBY: '31', DB: 'mysql' } } });
    // any key is a key (GitLab's validator takes every string)
    expect(job(p, 't: [a]').variables).toMatchObject({ 'MY-KEY': 'a' });
  });

  test('matrix values are job variables: they win over YAML variables of the same name, and rules, tags, environment and resource_group see them', async () => {
    // GNOME's gimp: `.default` sets RUNNER, the matrix picks the runner per instance
    const p = await plan(`
variables: {ARCH: any}
build:
  variables: {RUNNER: x86_64_v3, KEEP: k}
  parallel:
    matrix:
      - RUNNER: [aarch64, x86_64_v3]
        ARCH: [arm64, amd64]
  tags: [$RUNNER]
  environment: {name: env-$ARCH}
  resource_group: rg-$RUNNER
  rules:
    - if: $ARCH == "arm64" && $RUNNER == "aarch64"
      when: manual
    - if: $ARCH == "amd64" && $RUNNER == "aarch64"
      when: never
    - when: on_success
  script: make
`);
    expect(p.jobs.map((j) => [j.name, j.when, j.tags, j.environment?.name, j.resourceGroup, j.variables])).toEqual([
      ['build: [aarch64, arm64]', 'manual', ['aarch64'], 'env-arm64', 'rg-aarch64', { RUNNER: 'aarch64', KEEP: 'k', ARCH: 'arm64' }],
      ['build: [x86_64_v3, arm64]', 'on_success', ['x86_64_v3'], 'env-arm64', 'rg-x86_64_v3', { RUNNER: 'x86_64_v3', KEEP: 'k', ARCH: 'arm64' }],
      ['build: [x86_64_v3, amd64]', 'on_success', ['x86_64_v3'], 'env-amd64', 'rg-x86_64_v3', { RUNNER: 'x86_64_v3', KEEP: 'k', ARCH: 'amd64' }],
    ]);
  });

  test('rules:changes sees matrix values; rules:variables win over them and keep their place', async () => {
    const p = await plan('t:\n  script: x\n  variables: {A: a, F: none}\n  parallel:\n    matrix:\n      - F: [Dockerfile, README.md]\n  rules:\n    - changes: [$F]\n      variables: {A: from-rule, F: Dockerfile.ci}\n', { changedPaths: ['Dockerfile'] });
    expect(p.jobs.map((j) => [j.name, Object.entries(j.variables)])).toEqual([['t: [Dockerfile]', [['A', 'from-rule'], ['F', 'Dockerfile.ci']]]]);
  });

  test('errors', async () => {
    await expectErrors([
      ['t:\n  script: x\n  parallel: 201\n', ['jobs:t:parallel config must be less than or equal to 200']],
      ['t:\n  script: x\n  parallel: 0\n', ['jobs:t:parallel config must be greater than or equal to 1']],
      ['t:\n  script: x\n  parallel: many\n', ['jobs:t:parallel should be an integer or a hash']],
      // matrix values: strings and integers only (Psych reads 3.10 as a float, true as a boolean); present
      ['t:\n  script: x\n  parallel:\n    matrix:\n      - PY: [3.8, "3.10"]\n', ['jobs:t:parallel:matrix:variables config should be a hash of key value pairs, value can be an array']],
      ['t:\n  script: x\n  parallel:\n    matrix:\n      - DEBUG: [true, false]\n', ['jobs:t:parallel:matrix:variables config should be a hash of key value pairs, value can be an array']],
      ['t:\n  script: x\n  parallel:\n    matrix:\n      - A: []\n', ['jobs:t:parallel:matrix:variables config should be a hash of key value pairs, value can be an array']],
      ['t:\n  script: x\n  parallel:\n    matrix:\n      - A: [[x]]\n', ['jobs:t:parallel:matrix:variables config should be a hash of key value pairs, value can be an array']],
      ['t:\n  script: x\n  parallel: {matrix: {A: [1]}}\n', ['jobs:t:parallel:matrix config should be an array of hashes']],
      [`t:\n  script: x\n  parallel:\n    matrix:\n      - A: [${Array.from({ length: 15 }, (_, i) => i).join(', ')}]\n        B: [${Array.from({ length: 14 }, (_, i) => i).join(', ')}]\n`, ['jobs:t:parallel:matrix config generates too many jobs (maximum is 200)']],
    ]);
  });
});
