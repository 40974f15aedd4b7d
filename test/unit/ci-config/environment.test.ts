/** `environment` (all forms; name/url expanded GitLab-side; on_stop checked); resource_group and trigger:project expansion. */
import { describe, expect, test } from 'bun:test';
import { expectErrors, expectJob, job, plan } from './helpers';

describe('environment', () => {
  test('forms and expansion', async () => {
    await expectJob([
      ['j:\n  script: x\n  environment: production\n', { environment: { name: 'production', action: 'start' } }],
      ['j:\n  script: x\n  variables: {APP: web}\n  environment:\n    name: review/$CI_COMMIT_REF_SLUG\n    url: https://$APP-$CI_COMMIT_REF_SLUG.example.com\n    auto_stop_in: 1 day\n    deployment_tier: development\n',
        // the url stays as written: the runner and the deployment expand it with the job's variables
        { environment: { name: 'review/main', url: 'https://$APP-$CI_COMMIT_REF_SLUG.example.com', auto_stop_in: '1 day', deployment_tier: 'development', action: 'start' } }],
      // GitLab's ExpandVariables.expand: an unset variable is nothing
      ['j:\n  script: x\n  environment: {name: "review/$UNKNOWN-x", action: prepare}\n', { environment: { name: 'review/-x', action: 'prepare' } }],
      // resource_group sees the environment's name and slug, as GitLab's resource group does
      ['j:\n  script: x\n  environment: {name: review/$CI_COMMIT_REF_SLUG, url: "https://$CI_ENVIRONMENT_SLUG.example.com/$UNSET"}\n  resource_group: deploy-$CI_ENVIRONMENT_NAME-$UNSET\n',
        { environment: { name: 'review/main', url: 'https://$CI_ENVIRONMENT_SLUG.example.com/$UNSET' }, resourceGroup: 'deploy-review/main-' }],
      ['j:\n  trigger: {project: group/$UNSET_VAR}\n', { trigger: { project: 'group/' } }],
      // gitlab-docs' review_stop: a stop job with auto_stop_in (from the template it extends)
      ['j:\n  script: x\n  when: manual\n  environment: {name: review/x, action: stop, auto_stop_in: 1 week}\n', { environment: { name: 'review/x', action: 'stop', auto_stop_in: '1 week' } }],
      // a name GitLab's Environment model refuses once expanded is kept: the job fails as it is created (test/http/ci-config.test.ts)
      ['j:\n  script: x\n  environment: review/$UNSET\n', { environment: { name: 'review/', action: 'start' } }],
    ]);
    await expectJob([
      ['deploy:\n  script: x\n  environment: {name: review, on_stop: stop}\nstop:\n  script: x\n  when: manual\n  environment: {name: review, action: stop}\n', { environment: { name: 'review', on_stop: 'stop', action: 'start' } }],
    ], 'deploy');
  });
  test('a resource group key GitLab\'s ResourceGroup model refuses once expanded (blank, other characters, a slash at an end, over 255) leaves the job without one', async () => {
    for (const [key, want] of [['"deploy:prod"', undefined], ['$UNSET', undefined], ['/prod', undefined], ['prod/', undefined], [`${'k'.repeat(256)}`, undefined],
      ['production', 'production'], ['"review/a b.c-d_${X}"', 'review/a b.c-d_$'], [`${'k'.repeat(255)}`, 'k'.repeat(255)]] as const) {
      const p = await plan(`j:\n  script: x\n  variables: {X: $}\n  resource_group: ${key}\n`);
      expect({ key, group: job(p, 'j').resourceGroup }).toEqual({ key, group: want });
    }
  });

  test('errors', async () => {
    await expectErrors([
      ['j:\n  script: x\n  environment: [a]\n', ['jobs:j:environment config should be a hash or a string']],
      ['j:\n  script: x\n  environment: {url: https://x}\n', ["jobs:j:environment name can't be blank"]],
      ['j:\n  script: x\n  environment: {name: a, action: deploy}\n', ['jobs:j:environment action should be start, stop, prepare, verify, or access']],
      ['j:\n  script: x\n  environment: "  "\n', ["jobs:j:environment name can't be blank"]],
      ['j:\n  script: x\n  environment: {name: a, auto_stop_in: 1}\n', ['jobs:j:environment auto stop in should be a string']],
      // GitLab's environment_name_regex is ASCII (a-zA-Z0-9)
      ['j:\n  script: x\n  environment: prüfung\n', ["jobs:j:environment name can contain only letters, digits, '-', '_', '/', '$', '{', '}', '.', and spaces, but it cannot start or end with '/'"]],
      ['j:\n  script: x\n  environment: "a!b"\n', ["jobs:j:environment name can contain only letters, digits, '-', '_', '/', '$', '{', '}', '.', and spaces, but it cannot start or end with '/'"]],
      ['j:\n  script: x\n  environment: {name: a, on_stop: nope}\n', ['j job: on_stop job nope is not defined']],
      ['j:\n  script: x\n  environment: {name: a, on_stop: s}\ns:\n  script: x\n', ['j job: on_stop job s does not have environment defined']],
      ['j:\n  script: x\n  environment: {name: a, on_stop: s}\ns:\n  script: x\n  environment: {name: b, action: stop}\n', ['j job: on_stop job s have different environment name']],
      ['j:\n  script: x\n  environment: {name: a, on_stop: s}\ns:\n  script: x\n  environment: {name: a}\n', ['j job: on_stop job s needs to have action stop defined']],
    ]);
  });
});
