/** `trigger` (bridge jobs): child pipelines (`include`) and other projects (`project`). */
import { describe, test } from 'bun:test';
import { expectErrors, expectJob } from './helpers';

describe('trigger', () => {
  test('forms', async () => {
    await expectJob([
      ['j:\n  trigger: group/other\n', { trigger: { kind: 'project', project: 'group/other', forward: { yaml_variables: true, pipeline_variables: false } }, script: [] }],
      ['j:\n  trigger: {project: "group/$NAME", branch: "$CI_COMMIT_BRANCH", strategy: depend}\n  variables: {NAME: lib}\n', { trigger: { kind: 'project', project: 'group/lib', branch: 'main', strategy: 'depend' } }],
      ['j:\n  stage: deploy\n  trigger:\n    include: [child.yml, {local: other.yml, inputs: {a: 1}}]\n    strategy: depend\n    forward: {pipeline_variables: true}\n  rules: [{when: manual}]\n',
        { stage: 'deploy', when: 'manual', trigger: { kind: 'child', include: [{ local: 'child.yml' }, { local: 'other.yml', inputs: { a: 1 } }], strategy: 'depend', forward: { yaml_variables: true, pipeline_variables: true } } }],
      ['j:\n  trigger:\n    include:\n      - artifact: generated.yml\n        job: generate\n', { trigger: { kind: 'child', include: [{ artifact: 'generated.yml', job: 'generate' }] } }],
    ]);
  });
  test('errors', async () => {
    await expectErrors([
      ['j:\n  trigger: {project: a/b, include: c.yml}\n', ['jobs:j:trigger config these keys cannot be used together: project, include']],
      ['j:\n  trigger: {strategy: depend}\n', ['jobs:j:trigger config must specify either project or include']],
      // GitLab's include entry checks these before anything is fetched
      ['j:\n  trigger:\n    include: [{project: group/other}]\n', ['jobs:j:trigger:include config must specify the file where to fetch the config from']],
      ['j:\n  trigger:\n    include: [{artifact: gen.yml}]\n', ['jobs:j:trigger:include config must specify the job where to fetch the artifact from']],
      ['j:\n  trigger: {project: a/b, strategy: wait}\n', ['jobs:j:trigger strategy should be depend or mirror']],
      ['j:\n  trigger: {include: [{template: Jobs/SAST.gitlab-ci.yml}]}\n', ["Template file `Jobs/SAST.gitlab-ci.yml` cannot be included: Baton does not have GitLab's template library"]],
      ['j:\n  trigger: a/b\n  image: ruby\n', ['jobs:j config contains unknown keys: image']],
      ['j:\n  trigger: a/b\n  when: delayed\n', ['jobs:j when should be one of: on_success, on_failure, always, manual']],
    ]);
  });
});
