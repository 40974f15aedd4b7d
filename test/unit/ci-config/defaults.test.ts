/** `default:`, the deprecated globals and `inherit:` (spec ci-yaml.md §1.5). */
import { describe, expect, test } from 'bun:test';
import { expectErrors, job, plan } from './helpers';

describe('default and inherit', () => {
  test('a default is copied only where the job does not set the key (no merging)', async () => {
    const p = await plan(`
default:
  image: ruby:3.2
  before_script: [bundle install]
  after_script: [echo done]
  tags: [docker]
  retry: 2
  timeout: 30m
  interruptible: true
  artifacts: {expire_in: 1 day}
  cache: {key: gems, paths: [vendor]}
  services: [postgres]
  hooks: {pre_get_sources_script: [echo hi]}
a:
  script: x
b:
  script: x
  image: alpine
  tags: [linux]
  cache: []
c:
  script: x
  inherit:
    default: [image, tags]
d:
  script: x
  inherit:
    default: false
`);
    expect(job(p, 'a')).toMatchObject({
      image: { name: 'ruby:3.2' }, beforeScript: ['bundle install'], afterScript: ['echo done'], tags: ['docker'],
      retry: { max: 2, when: ['always'], exit_codes: [] }, timeout: 1800, interruptible: true, artifacts: { expire_in: '1 day' },
      cache: [{ key: 'gems', paths: ['vendor'] }], services: [{ name: 'postgres' }], hooks: { pre_get_sources_script: ['echo hi'] },
    });
    expect(job(p, 'b')).toMatchObject({ image: { name: 'alpine' }, tags: ['linux'], cache: [] });
    const c = job(p, 'c');
    expect([c.image, c.tags, c.beforeScript, c.retry.max]).toEqual([{ name: 'ruby:3.2' }, ['docker'], [], 0]);
    const d = job(p, 'd');
    expect([d.image, d.tags, d.interruptible]).toEqual([undefined, [], undefined]);
  });

  test('the old top-level globals act as defaults', async () => {
    const p = await plan('image: node:20\nbefore_script: [npm ci]\nservices: [redis]\ncache: {paths: [node_modules]}\nj:\n  script: x\n');
    expect(job(p, 'j')).toMatchObject({ image: { name: 'node:20' }, beforeScript: ['npm ci'], services: [{ name: 'redis' }], cache: [{ paths: ['node_modules'] }] });
  });

  test('inherit:variables', async () => {
    const p = await plan('variables: {A: a, B: b}\nall:\n  script: x\nnone:\n  script: x\n  inherit: {variables: false}\nsome:\n  script: x\n  inherit: {variables: [B]}\n');
    expect([job(p, 'all').globalVariables, job(p, 'none').globalVariables, job(p, 'some').globalVariables]).toEqual([undefined, [], ['B']]);
  });

  test('errors', async () => {
    await expectErrors([
      ['default:\n  stage: build\nj:\n  script: x\n', ['default config contains unknown keys: stage']],
      ['image: a\ndefault:\n  image: b\nj:\n  script: x\n', ['image is defined in top-level and `default:` entry']],
      ['j:\n  script: x\n  inherit: {default: [stage]}\n', ['jobs:j:inherit:default config contains unknown values: stage']],
      ['j:\n  script: x\n  inherit: {defaults: false}\n', ['jobs:j:inherit config contains unknown keys: defaults']],
      ['j:\n  script: x\n  inherit: {variables: yes please}\n', ['jobs:j:inherit:variables config should be a boolean value or an array of strings']],
    ]);
  });
});
