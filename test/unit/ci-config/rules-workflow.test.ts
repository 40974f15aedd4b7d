/** `rules` (job), `only`/`except`, `workflow` (spec ci-yaml.md §3): evaluation and validation. */
import { describe, expect, test } from 'bun:test';
import { compile, errors, expectErrors, job, names, plan } from './helpers';

describe('job rules', () => {
  test('first match wins; no match → not created; attributes of the matching rule', async () => {
    const yaml = `
a:
  script: x
  rules:
    - if: $CI_COMMIT_TAG
      when: never
    - if: $CI_COMMIT_BRANCH == "main"
      when: manual
      allow_failure: true
      variables: {DEPLOY: "yes"}
      interruptible: true
    - when: on_success
b:
  script: x
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
c:
  script: x
  when: manual
  rules:
    - if: $CI_COMMIT_BRANCH
d:
  script: x
  rules:
    - if: $CI_COMMIT_BRANCH
      when: manual
e:
  script: x
  rules:
    - if: $CI_COMMIT_BRANCH
      when: delayed
      start_in: 10 minutes
`;
    const p = await plan(yaml);
    expect(names(p)).toEqual(['a', 'c', 'd', 'e']);
    expect(job(p, 'a')).toMatchObject({ when: 'manual', allowFailure: true, variables: { DEPLOY: 'yes' }, interruptible: true });
    expect(job(p, 'c')).toMatchObject({ when: 'manual', allowFailure: true });
    expect(job(p, 'd')).toMatchObject({ when: 'manual', allowFailure: false });
    expect(job(p, 'e')).toMatchObject({ when: 'delayed', startIn: 600 });
    expect(await errors(yaml, { ref: 'v1.0', tag: true })).toEqual(['Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline.']);
  }, 10_000);

  test('rules see YAML variables (job over global) and project/pipeline variables over YAML', async () => {
    const yaml = 'variables: {ENV: staging}\na:\n  script: x\n  rules: [{if: $ENV == "production"}]\nb:\n  script: x\n  variables: {ENV: production}\n  rules: [{if: $ENV == "production"}]\n';
    expect(names(await plan(yaml))).toEqual(['b']);
    expect(names(await plan(yaml, { variables: { ENV: 'production' } }))).toEqual(['a', 'b']);
  });

  test('rules see the job\'s own predefined variables, as GitLab\'s variables builder gives them before the job exists', async () => {
    const yaml = `
variables: {TARGET: production}
deploy:
  script: x
  environment: {name: $TARGET, deployment_tier: production, url: "https://$TARGET.example"}
  rules: [{if: '$CI_ENVIRONMENT_NAME == "production" && $CI_ENVIRONMENT_ACTION == "start" && $CI_ENVIRONMENT_TIER == "production" && $CI_ENVIRONMENT_URL == "https://$TARGET.example"'}]
review:
  script: x
  environment: review/$UNSET_VAR
  rules: [{if: '$CI_ENVIRONMENT_NAME == "review/"'}]
shard:
  script: x
  parallel: 3
  rules: [{if: '$CI_NODE_INDEX == "2" && $CI_NODE_TOTAL == "3"'}]
by-hand:
  script: x
  when: manual
  rules: [{if: $CI_JOB_MANUAL}]
not-by-hand:
  script: x
  rules: [{if: $CI_JOB_MANUAL, when: manual}, {when: never}]
`;
    expect(names(await plan(yaml))).toEqual(['deploy', 'review', 'shard 2/3', 'by-hand']);
  });

  test('changes: true when the change set is unknown, else globs against it; compare_to', async () => {
    const yaml = 'docs:\n  script: x\n  rules: [{changes: ["docs/**/*", "*.md"]}]\nsrc:\n  script: x\n  rules: [{changes: {paths: ["src/**/*.ts"], compare_to: main}}]\nother:\n  script: x\n';
    expect(names(await plan(yaml, { changedPaths: null, changedSince: { main: [] } }))).toEqual(['docs', 'other']);
    expect(names(await plan(yaml, { changedPaths: ['README.md'], changedSince: { main: ['src/a/b.ts'] } }))).toEqual(['docs', 'src', 'other']);
    expect(names(await plan(yaml, { changedPaths: ['lib/x.rb'], changedSince: { main: ['lib/x.rb'] } }))).toEqual(['other']);
    expect(await errors(yaml, { changedSince: {} })).toEqual(['Failed to parse rule for src: rules:changes:compare_to is not a valid ref']);
  });

  test('exists: globs against the files of the commit', async () => {
    const yaml = 'docker:\n  script: x\n  rules: [{exists: [Dockerfile]}]\ngo:\n  script: x\n  rules: [{exists: ["**/*.go"]}]\nnode:\n  script: x\n  rules: [{exists: [package.json]}]\n';
    expect(names(await plan(yaml, { files: { Dockerfile: '', 'cmd/main.go': '', 'README.md': '' } }))).toEqual(['docker', 'go']);
    expect(await errors(yaml, { files: null })).toEqual(['Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline.']);
  });

  test('validation and the warning', async () => {
    await expectErrors([
      ['a:\n  script: x\n  rules: [{if: "$A ==", when: always}]\n', ['jobs:a:rules:rule if invalid expression syntax']],
      ['a:\n  script: x\n  rules: [{when: sometimes}]\n', ['jobs:a:rules:rule when unknown value: sometimes']],
      ['a:\n  script: x\n  rules: [{iff: $A}]\n', ['jobs:a:rules:rule config contains unknown keys: iff']],
      ['a:\n  script: x\n  rules: [{if: $A, start_in: 1 day}]\n', ['jobs:a:rules:rule config contains disallowed keys: start_in']],
      ['a:\n  script: x\n  rules: [{if: $A, when: delayed}]\n', ["jobs:a:rules:rule start in can't be blank"]],
      ['a:\n  script: x\n  rules: [a]\n', ['jobs:a rules should be an array containing hashes and arrays of hashes']],
      ['a:\n  script: x\n  only: [main]\n  rules: [{when: always}]\n', ['jobs:a config key may not be used with `rules`: only']],
      ['a:\n  script: x\n  rules: [{changes: {compare_to: main}}]\n', ["jobs:a:rules:rule:changes paths can't be blank"]],
    ]);
    const r = await compile('a:\n  script: x\n  rules:\n    - if: $CI_COMMIT_TAG\n    - when: always\n');
    expect(r.warnings).toEqual(['jobs:a may allow multiple pipelines to run for a single action due to `rules:when` clause with no `workflow:rules` - read more: https://docs.gitlab.com/ee/ci/jobs/job_troubleshooting.html#job-may-allow-multiple-pipelines-to-run-for-a-single-action-warning']);
    const quiet = await compile('workflow:\n  rules: [{when: always}]\na:\n  script: x\n  rules:\n    - when: always\n');
    expect(quiet.warnings).toEqual([]);
  });
});

describe('only / except', () => {
  test('refs, regexes, source keywords, variables, changes; the implicit only: [branches, tags]', async () => {
    const yaml = `
all:
  script: x
main_only:
  script: x
  only: [main]
release:
  script: x
  only: ['/^release-.*$/']
tags_only:
  script: x
  only: [tags]
not_main:
  script: x
  except: [main]
api_only:
  script: x
  only: [api, web]
scheduled:
  script: x
  only: {refs: [schedules], variables: [$NIGHTLY == "1"]}
with_vars:
  script: x
  only: {variables: [$DEPLOY]}
changed:
  script: x
  only: {changes: [src/**/*]}
exc_changes:
  script: x
  except: {changes: [docs/**/*]}
here_only:
  script: x
  only: [main@baton/demo]
elsewhere:
  script: x
  only: [main@other/project]
`;
    expect(names(await plan(yaml, { changedPaths: ['docs/a.md'] }))).toEqual(['all', 'main_only', 'here_only']);
    expect(names(await plan(yaml, { ref: 'release-1', source: 'api', variables: { DEPLOY: '1' } }))).toEqual(['all', 'release', 'not_main', 'api_only', 'with_vars', 'changed']);
    expect(names(await plan(yaml, { ref: 'v1', tag: true, source: 'schedule', variables: { NIGHTLY: '1' } }))).toEqual(['all', 'tags_only', 'not_main', 'scheduled', 'changed']);
  });

  test('errors', async () => {
    await expectErrors([
      ['a:\n  script: x\n  only: 1\n', ['jobs:a:only has to be either an array of conditions or a hash']],
      // GitLab's Policy takes a list or a hash, never a lone string
      ['a:\n  script: x\n  only: main\n', ['jobs:a:only has to be either an array of conditions or a hash']],
      ['a:\n  script: x\n  except: {refs: tags}\n', ['jobs:a:except refs should be an array of strings or regular expressions using re2 syntax']],
      ['a:\n  script: x\n  only: {changes: "*.md"}\n', ['jobs:a:only changes should be an array of strings']],
      ['a:\n  script: x\n  only: ["/(?<=x)y/"]\n', ['jobs:a:only config should be an array of strings or regular expressions using re2 syntax']],
      ['a:\n  script: x\n  only: {branches: true}\n', ['jobs:a:only config contains unknown keys: branches']],
      ['a:\n  script: x\n  except: {variables: ["$A =="]}\n', ['jobs:a:except variables invalid expression syntax']],
    ]);
  });
});

describe('workflow', () => {
  test('rules decide whether there is a pipeline, and add variables; name is expanded; auto_cancel', async () => {
    const yaml = `
variables: {TARGET: default}
workflow:
  name: "Pipeline for $CI_COMMIT_BRANCH to $TARGET"
  auto_cancel: {on_new_commit: interruptible}
  rules:
    - if: $CI_COMMIT_TAG
      when: never
    - if: $CI_COMMIT_BRANCH == "main"
      variables: {TARGET: production}
      auto_cancel: {on_job_failure: all}
    - if: $CI_COMMIT_BRANCH
a:
  script: x
`;
    const p = await plan(yaml);
    expect(p.variables).toEqual({ TARGET: 'production' });
    expect(p.workflow).toEqual({ name: 'Pipeline for main to production', autoCancel: { onNewCommit: 'interruptible', onJobFailure: 'all' } });
    expect((await plan(yaml, { ref: 'dev' })).workflow.name).toBe('Pipeline for dev to default');
    const r = await compile(yaml, { ref: 'v1', tag: true });
    expect([r.plan, r.errors, r.filteredOut]).toEqual([null, ['Pipeline filtered out by workflow rules.'], true]);
  });

  test('errors', async () => {
    await expectErrors([
      ['workflow:\n  rules: [{when: manual}]\na:\n  script: x\n', ['workflow:rules:rule when unknown value: manual']],
      ['workflow:\n  auto_cancel: {on_new_commit: always}\na:\n  script: x\n', ['workflow:auto_cancel on new commit must be one of: conservative, interruptible, none']],
      ['workflow:\n  rulez: []\na:\n  script: x\n', ['workflow config contains unknown keys: rulez']],
      // the name as expanded (GitLab's PipelineMetadata validation at creation)
      [`variables: {LONG: ${'x'.repeat(250)}}\nworkflow:\n  name: "Deploy $LONG"\na:\n  script: x\n`, ['Failed to build pipeline metadata! Name is too long (maximum is 255 characters)']],
    ]);
  });
});
