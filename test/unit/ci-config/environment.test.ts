/** `environment` (all forms; name/url expanded GitLab-side; on_stop checked); resource_group and trigger:project expansion. */
import { describe, test } from 'bun:test';
import { expectErrors, expectJob } from './helpers';

describe('environment', () => {
  test('forms and expansion', async () => {
    await expectJob([
      ['j:\n  script: x\n  environment: production\n', { environment: { name: 'production', action: 'start' } }],
      ['j:\n  script: x\n  variables: {APP: web}\n  environment:\n    name: review/$CI_COMMIT_REF_SLUG\n    url: https://$APP-$CI_COMMIT_REF_SLUG.example.com\n    auto_stop_in: 1 day\n    deployment_tier: development\n',
        { environment: { name: 'review/main', url: 'https://web-main.example.com', auto_stop_in: '1 day', deployment_tier: 'development', action: 'start' } }],
      // GitLab's ExpandVariables.expand: an unset variable is nothing
      ['j:\n  script: x\n  environment: {name: "review/$UNKNOWN-x", action: prepare}\n', { environment: { name: 'review/-x', action: 'prepare' } }],
      // the url (and resource_group) see the environment's name and slug, as GitLab's deployment does
      ['j:\n  script: x\n  environment: {name: review/$CI_COMMIT_REF_SLUG, url: "https://$CI_ENVIRONMENT_SLUG.example.com/$UNSET"}\n  resource_group: deploy-$CI_ENVIRONMENT_NAME-$UNSET\n',
        { environment: { name: 'review/main', url: 'https://review-main-yi2y9f.example.com/' }, resourceGroup: 'deploy-review/main-' }],
      ['j:\n  trigger: {project: group/$UNSET_VAR}\n', { trigger: { project: 'group/' } }],
    ]);
    await expectJob([
      ['deploy:\n  script: x\n  environment: {name: review, on_stop: stop}\nstop:\n  script: x\n  when: manual\n  environment: {name: review, action: stop}\n', { environment: { name: 'review', on_stop: 'stop', action: 'start' } }],
    ], 'deploy');
  });
  test('errors', async () => {
    await expectErrors([
      ['j:\n  script: x\n  environment: [a]\n', ['jobs:j:environment config should be a hash or a string']],
      ['j:\n  script: x\n  environment: {url: https://x}\n', ["jobs:j:environment name can't be blank"]],
      ['j:\n  script: x\n  environment: {name: a, action: deploy}\n', ['jobs:j:environment action should be start, stop, prepare, verify, or access']],
      ['j:\n  script: x\n  environment: "a!b"\n', ["jobs:j:environment name can contain only letters, digits, '-', '_', '/', '$', '{', '}', '.', and spaces, but it cannot start or end with '/'"]],
      ['j:\n  script: x\n  environment: {name: a, on_stop: nope}\n', ['j job: on_stop job nope is not defined']],
      ['j:\n  script: x\n  environment: {name: a, on_stop: s}\ns:\n  script: x\n', ['j job: on_stop job s does not have environment defined']],
      ['j:\n  script: x\n  environment: {name: a, on_stop: s}\ns:\n  script: x\n  environment: {name: b, action: stop}\n', ['j job: on_stop job s have different environment name']],
      ['j:\n  script: x\n  environment: {name: a, on_stop: s}\ns:\n  script: x\n  environment: {name: a}\n', ['j job: on_stop job s needs to have action stop defined']],
    ]);
  });
});
