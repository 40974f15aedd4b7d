/** The top level and job keys (spec ci-yaml.md §1.4): jobs, hidden jobs, scripts, stages, unknown keys, refused keywords. */
import { describe, expect, test } from 'bun:test';
import { expectErrors, expectJob, job, names, plan } from './helpers';

describe('what is a job', () => {
  test('a hash with script is a job, a name starting with . is hidden, every other key must be one', async () => {
    const p = await plan('.hidden:\n  script: x\nj:\n  script: x\ndefault:\n  tags: [a]\nworkflow:\n  name: n\n');
    expect(names(p)).toEqual(['j']);
  });

  test('errors', async () => {
    await expectErrors([
      ['stages: [a]\n', ['jobs config should contain at least one visible job']],
      ['.only_hidden:\n  script: x\n', ['jobs config should contain at least one visible job']],
      ['j:\n  script: x\ntypes: [build]\n', ['jobs types config should implement the script:, run:, or trigger: keyword']],
      ['build_image:\n  image: x\nj:\n  script: x\n', ['jobs build image config should implement the script:, run:, or trigger: keyword']],
      ['j:\n  script: x\n  scriptt: y\n', ['jobs:j config contains unknown keys: scriptt']],
      ['Build:\n  script: x\n  Stage: b\n  type: test\n', ['jobs:build config contains unknown keys: stage, type']],
      ['j:\n  script: x\n  trigger: other/project\n', ['jobs:j config these keys cannot be used together: script, trigger', 'jobs:j config contains unknown keys: trigger']],
      ['j:\n  script: []\n', ["jobs:j script can't be blank"]],
      ['j:\n  script: ""\n', ["jobs:j script can't be blank"]],
      ['j:\n  script: [1, 2]\n', ['jobs:j:script config should be a string or a nested array of strings up to 10 levels deep']],
      ['j:\n  script: x\n  stage: [a]\n', ['jobs:j:stage config should be a string']],
      ['j:\n  script: x\n  stage: nowhere\n', ['j job: chosen stage nowhere does not exist; available stages are .pre, build, test, deploy, .post']],
      ['stages: [a, b]\nj:\n  script: x\n', ['j job: chosen stage test does not exist; available stages are .pre, a, b, .post']],
      ['stages: {a: 1}\nj:\n  script: x\n', ['stages config should be an array of strings']],
      [`${'x'.repeat(256)}:\n  script: x\n`, [`jobs:${'x'.repeat(256)} name is too long (maximum is 255 characters)`]],
    ]);
  });
});

describe('scripts', () => {
  test('a string, a list, nested lists (flattened); before/after scripts', async () => {
    await expectJob([
      ['j:\n  script: make\n', { script: ['make'], beforeScript: [], afterScript: [] }],
      ['j:\n  script: [a, [b, [c]]]\n  before_script: [x]\n  after_script: y\n', { script: ['a', 'b', 'c'], beforeScript: ['x'], afterScript: ['y'] }],
      ['j:\n  script:\n    - |\n      multi\n      line\n', { script: ['multi\nline\n'] }],
    ]);
  });
});

describe('stages', () => {
  test('default stages; a job without stage is in test; .pre and .post wrap the list when used', async () => {
    const p = await plan('first:\n  stage: .pre\n  script: x\nj:\n  script: x\nlast:\n  stage: .post\n  script: x\n');
    expect(p.stages).toEqual(['.pre', 'build', 'test', 'deploy', '.post']);
    expect(p.jobs.map((j) => [j.name, j.stage, j.stageIdx])).toEqual([['first', '.pre', 0], ['j', 'test', 2], ['last', '.post', 4]]);
  });

  test('nested stage lists are flattened; duplicates kept once; order by stage then file order', async () => {
    const p = await plan('stages: [[a, b], c, a]\nz:\n  stage: c\n  script: x\ny:\n  stage: a\n  script: x\nx:\n  stage: a\n  script: x\n');
    expect(p.stages).toEqual(['a', 'b', 'c']);
    expect(names(p)).toEqual(['y', 'x', 'z']);
  });

  test('a pipeline of only .pre/.post jobs is not created', async () => {
    const { errors } = await import('./helpers');
    expect(await errors('a:\n  stage: .pre\n  script: x\n')).toEqual(['No stages / jobs for this pipeline.']);
  });
});

describe('keywords Baton refuses by name', () => {
  test('each says it is not supported and why', async () => {
    await expectErrors([
      ['j:\n  script: x\n  id_tokens:\n    T: {aud: x}\n', ['jobs:j config uses `id_tokens`, which Baton does not support: Baton cannot sign OIDC ID tokens (there is no GitLab OIDC issuer behind it)']],
      ['default:\n  id_tokens:\n    T: {aud: x}\nj:\n  script: x\n', ['default config uses `id_tokens`, which Baton does not support: Baton cannot sign OIDC ID tokens (there is no GitLab OIDC issuer behind it)']],
      ['j:\n  script: x\n  secrets:\n    S: {vault: a/b}\n', ['jobs:j config uses `secrets`, which Baton does not support: Baton has no external secrets integration (Vault, Azure Key Vault, GCP Secret Manager); use CI/CD variables']],
      ['j:\n  script: x\n  dast_configuration:\n    site_profile: a\n', ['jobs:j config uses `dast_configuration`, which Baton does not support: Baton has no DAST site and scanner profiles (a GitLab Ultimate feature)']],
      ['j:\n  run:\n    - name: a\n      script: x\n', ['jobs:j config uses `run`, which Baton does not support: CI/CD Steps (`run:`) are an experiment Baton does not run; use `script:`']],
    ]);
  });

  test('a job named pages runs as an ordinary job, with a warning', async () => {
    const { compile } = await import('./helpers');
    const r = await compile('pages:\n  script: [mkdir public]\n  artifacts: {paths: [public]}\n');
    expect(r.plan?.jobs.map((j) => j.name)).toEqual(['pages']);
    expect(r.warnings).toEqual(['jobs:pages runs as an ordinary job: Baton does not host GitLab Pages, so its `public` artifacts are kept but not published']);
  });

  test('pages: and publish: (GitLab 16.1+) are checked as GitLab checks them, and the job runs as an ordinary job', async () => {
    const { compile } = await import('./helpers');
    const warn = (job: string, dir: string) => `jobs:${job} runs as an ordinary job: Baton does not host GitLab Pages, so its \`${dir}\` artifacts are kept but not published`;
    const cases: [string, string[]][] = [
      ['site:\n  script: x\n  pages: true\n', [warn('site', 'public')]],
      ['site:\n  script: x\n  pages:\n    publish: dist\n    path_prefix: "$CI_COMMIT_BRANCH"\n    expire_in: 1 week\n', [warn('site', 'dist')]],
      ['pages:\n  script: x\n  publish: .output/public\n', [warn('pages', '.output/public')]],
      ['pages:\n  script: x\n  pages: false\n', []],
      ['site:\n  script: x\n  pages: false\n', []],
    ];
    for (const [yaml, warnings] of cases) {
      const r = await compile(yaml);
      expect(r.errors).toEqual([]);
      expect(r.warnings).toEqual(warnings);
    }
    await expectErrors([
      ['j:\n  script: x\n  pages: public\n', ['jobs:j:pages config should be a hash or a boolean value']],
      ['j:\n  script: x\n  pages: {publish: [a]}\n', ['jobs:j:pages publish should be a string']],
      ['j:\n  script: x\n  pages: {path_prefix: 1}\n', ['jobs:j:pages path prefix should be a string']],
      ['j:\n  script: x\n  pages: {expire_in: soon}\n', ['jobs:j:pages expire in should be a duration']],
      ['j:\n  script: x\n  pages: {root: a}\n', ['jobs:j:pages config contains unknown keys: root']],
      ['j:\n  script: x\n  publish: [a]\n', ['jobs:j:publish config should be a string']],
    ]);
  });
});

describe('the minimal job', () => {
  test('every field GitLab defaults', async () => {
    const p = await plan('build:\n  script: make\n');
    expect(p).toEqual({
      stages: ['build', 'test', 'deploy'], variables: {},
      jobs: [{
        name: 'build', stage: 'test', stageIdx: 1, beforeScript: [], script: ['make'], afterScript: [], services: [],
        variables: {}, tags: [], when: 'on_success', allowFailure: false, retry: { max: 0, when: ['always'], exit_codes: [] },
      }],
      workflow: { autoCancel: { onNewCommit: 'conservative', onJobFailure: 'none' } },
    });
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
    void job;
  });
});

describe('names GitLab does not reserve', () => {
  test('default: and workflow: holding a script are jobs', async () => {
    expect(names(await plan('default:\n  script: [x]\nworkflow:\n  script: [y]\n'))).toEqual(['default', 'workflow']);
  });
});
