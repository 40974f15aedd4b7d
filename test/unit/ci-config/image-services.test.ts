/** `image` and `services`. */
import { describe, test } from 'bun:test';
import { expectErrors, expectJob } from './helpers';

describe('image and services', () => {
  test('forms', async () => {
    await expectJob([
      ['j:\n  script: x\n  image: ruby:3.2\n', { image: { name: 'ruby:3.2' } }],
      ['j:\n  script: x\n  image: {name: "alpine", entrypoint: [""], pull_policy: if-not-present, docker: {platform: linux/arm64, user: dave}}\n',
        { image: { name: 'alpine', entrypoint: [''], pull_policy: ['if-not-present'], docker: { platform: 'linux/arm64', user: 'dave' } } }],
      ['j:\n  script: x\n  services: [postgres:16, {name: redis, alias: cache, command: [redis-server], variables: {A: 1}}]\n',
        { services: [{ name: 'postgres:16' }, { name: 'redis', alias: 'cache', command: ['redis-server'], variables: { A: '1' } }] }],
    ]);
  });
  test('errors', async () => {
    await expectErrors([
      ['j:\n  script: x\n  image: [a]\n', ['jobs:j:image config should be a hash or a string']],
      ['j:\n  script: x\n  image: {entrypoint: [""]}\n', ["jobs:j:image name can't be blank"]],
      ['j:\n  script: x\n  image: {name: a, tag: b}\n', ['jobs:j:image config contains unknown keys: tag']],
      ['j:\n  script: x\n  image: {name: a, pull_policy: sometimes}\n', ['jobs:j:image:pull_policy config should be one of: always, never, if-not-present']],
      // GitLab's TypeValidator wording
      ['j:\n  script: x\n  services: postgres\n', ['jobs:j:services config should be a array']],
      ['j:\n  script: x\n  services: [{name: a, alias: [b]}]\n', ['jobs:j:services:service alias should be a string']],
    ]);
  });
});
