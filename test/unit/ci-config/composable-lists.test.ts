/**
 * Lists GitLab composes as a ComposableArray (needs, cache, services, rules): a nested list —
 * from an anchor or a `!reference` to a list — is spliced in (Ruby's `flatten`), as real
 * files rely on (DataDog's agent needs, gwpy's caches, service anchors).
 */
import { describe, test } from 'bun:test';
import { expectErrors, expectJob } from './helpers';

describe('nested lists are flattened', () => {
  test('needs, services and cache', async () => {
    await expectJob([
      ['a:\n  stage: build\n  script: x\nb:\n  stage: build\n  script: x\nc:\n  stage: build\n  script: x\n.n: {needs: [a, b]}\nj:\n  script: x\n  needs: [!reference [.n, needs], c]\n',
        { needs: [{ job: 'a', artifacts: true, optional: false }, { job: 'b', artifacts: true, optional: false }, { job: 'c', artifacts: true, optional: false }] }],
      ['a:\n  stage: build\n  script: x\n.n: &n [a]\nj:\n  script: x\n  needs: [*n]\n', { needs: [{ job: 'a', artifacts: true, optional: false }] }],
      ['.s: &s [postgres:16, redis:7]\nj:\n  script: x\n  services: [*s, mysql:8]\n', { services: [{ name: 'postgres:16' }, { name: 'redis:7' }, { name: 'mysql:8' }] }],
      ['.c: {cache: [{key: a, paths: [a]}]}\nj:\n  script: x\n  cache: [!reference [.c, cache], {key: b, paths: [b]}]\n', { cache: [{ key: 'a', paths: ['a'] }, { key: 'b', paths: ['b'] }] }],
    ]);
  });

  test('what is still refused', async () => {
    await expectErrors([
      // GitLab's Needs entry: a hash or a list
      ['a:\n  stage: build\n  script: x\nj:\n  script: x\n  needs: a\n', ['jobs:j:needs config can only be a hash or an array']],
      ['j:\n  script: x\n  needs: [[1]]\n', ['jobs:j:needs:need has an unsupported type']],
      ['j:\n  script: x\n  services: [[{name: a, alias: [b]}]]\n', ['jobs:j:services:service alias should be a string']],
    ]);
  });
});
