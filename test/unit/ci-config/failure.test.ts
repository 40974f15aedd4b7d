/** `when`, `start_in`, `allow_failure`, `retry`, `timeout`, `interruptible`, `resource_group`, `coverage`, `tags`. */
import { describe, expect, test } from 'bun:test';
import { expectErrors, expectJob, plan } from './helpers';

describe('when, allow_failure, retry, timeout and the small keys', () => {
  test('values', async () => {
    await expectJob([
      ['j:\n  script: x\n  when: manual\n', { when: 'manual', allowFailure: true }],
      ['j:\n  script: x\n  when: manual\n  allow_failure: false\n', { when: 'manual', allowFailure: false }],
      ['j:\n  script: x\n  when: delayed\n  start_in: 30 minutes\n', { when: 'delayed', startIn: 1800 }],
      ['j:\n  script: x\n  allow_failure: {exit_codes: [137, 255]}\n', { allowFailure: false, allowFailureExitCodes: [137, 255] }],
      ['j:\n  script: x\n  allow_failure: {exit_codes: 1}\n', { allowFailureExitCodes: [1] }],
      ['j:\n  script: x\n  retry: {max: 2, when: [runner_system_failure, stuck_or_timeout_failure], exit_codes: 137}\n', { retry: { max: 2, when: ['runner_system_failure', 'stuck_or_timeout_failure'], exit_codes: [137] } }],
      ['j:\n  script: x\n  retry: {when: script_failure}\n', { retry: { max: 0, when: ['script_failure'], exit_codes: [] } }],
      ['j:\n  script: x\n  retry: {max: 2, when: [runner_external_dependency_failure, runner_interrupted, runner_configuration_error, no_updates_running, server_timeout_running]}\n',
        { retry: { max: 2, when: ['runner_external_dependency_failure', 'runner_interrupted', 'runner_configuration_error', 'no_updates_running', 'server_timeout_running'], exit_codes: [] } }],
      ['j:\n  script: x\n  timeout: 1h 30m\n', { timeout: 5400 }],
      ['j:\n  script: x\n  timeout: "3600"\n', { timeout: 3600 }],
      ['j:\n  script: x\n  interruptible: true\n  resource_group: production\n  coverage: /Total.*?(\\d+\\.\\d+)%/\n  tags: [docker, linux]\n',
        { interruptible: true, resourceGroup: 'production', coverage: '/Total.*?(\\d+\\.\\d+)%/', tags: ['docker', 'linux'] }],
      ['j:\n  script: x\n  resource_group: deploy-$CI_COMMIT_REF_SLUG\n  tags: ["$CI_COMMIT_BRANCH-runner"]\n', { resourceGroup: 'deploy-main', tags: ['main-runner'] }],
      ['j:\n  script: x\n  manual_confirmation: Are you sure?\n  when: manual\n', { manualConfirmation: 'Are you sure?' }],
    ]);
  });
  test('tags are read as GitLab reads a tag list: split on commas (a quoted tag keeps its commas), trimmed, blanks and repeats dropped', async () => {
    // QEMU's file: `default: tags: [$RUNNER_TAG]` with RUNNER_TAG "" means no tag at all
    const p = await plan('variables: {RUNNER_TAG: "", TWO: "x, y"}\ndefault: {tags: [$RUNNER_TAG]}\nj: {script: x}\nk: {script: x, tags: [" docker ", "a,b", docker, $TWO, \'"c,d"\']}\n');
    expect(p.jobs.map((j) => [j.name, j.tags])).toEqual([['j', []], ['k', ['c,d', 'docker', 'a', 'b', 'x', 'y']]]);
  });

  test('tags are expanded as GitLab\'s evaluate_runner_tags does: one level, with the job\'s variables from before its rules', async () => {
    const p = await plan('variables: {A: "$B", B: x}\nj:\n  script: x\n  tags: [$A, $B, $Z, $CI_JOB_NAME]\n  rules:\n    - variables: {Z: from-rule, B: rule-b}\n');
    expect(p.jobs[0].tags).toEqual(['$B', 'x', '$Z', 'j']);
  });

  test('errors', async () => {
    await expectErrors([
      ['j:\n  script: x\n  when: later\n', ['jobs:j when should be one of: on_success, on_failure, always, manual, delayed']],
      ['j:\n  script: x\n  when: 1\n', ['jobs:j when should be one of: on_success, on_failure, always, manual, delayed']],
      // a duration is a string (GitLab's validate_duration refuses a bare number)
      ['j:\n  script: x\n  timeout: 3600\n', ['jobs:j:timeout config should be a duration']],
      ['default:\n  timeout: 60\nj:\n  script: x\n', ['default:timeout config should be a duration']],
      ['j:\n  script: x\n  when: delayed\n', ['jobs:j start in should be a duration']],
      ['j:\n  script: x\n  when: delayed\n  start_in: 2 weeks\n', ['jobs:j start in should not exceed the limit']],
      ['j:\n  script: x\n  start_in: 1 minute\n', ['jobs:j start in must be blank']],
      ['j:\n  script: x\n  allow_failure: sometimes\n', ['jobs:j allow failure should be a hash or a boolean value']],
      ['j:\n  script: x\n  allow_failure: {exit_codes: [a]}\n', ['jobs:j:allow_failure exit codes should be an array of integers or an integer']],
      ['j:\n  script: x\n  retry: 3\n', ['retry config must be less than or equal to 2']],
      ['j:\n  script: x\n  retry: always\n', ['retry config has to be either an integer or a hash']],
      ['j:\n  script: x\n  retry: {max: 1, when: [oops]}\n', ['retry when contains unknown values: oops']],
      ['j:\n  script: x\n  retry: {tries: 1}\n', ['retry config contains unknown keys: tries']],
      ['j:\n  script: x\n  timeout: forever\n', ['jobs:j:timeout config should be a duration']],
      ['j:\n  script: x\n  timeout: 2 months\n', ['jobs:j:timeout config should not exceed the limit']],
      ['j:\n  script: x\n  interruptible: maybe\n', ['jobs:j:interruptible config should be a boolean value']],
      ['j:\n  script: x\n  coverage: "Total: (\\\\d+)"\n', ['jobs:j:coverage config must be a regular expression with re2 syntax']],
      ['j:\n  script: x\n  coverage: /(?<=Total )\\d+/\n', ['jobs:j:coverage config must be a regular expression with re2 syntax']],
      ['j:\n  script: x\n  tags: docker\n', ['jobs:j:tags config should be an array of strings']],
      [`j:\n  script: x\n  tags: [${Array.from({ length: 50 }, (_, i) => `t${i}`).join(', ')}]\n`, ['jobs:j:tags config must be less than the limit of 50 tags']],
      // GitLab's job entry checks only the type; the key's format is checked once expanded (environment.test.ts)
      ['j:\n  script: x\n  resource_group: [prod]\n', ['jobs:j resource group should be a string']],
    ]);
  });
});
