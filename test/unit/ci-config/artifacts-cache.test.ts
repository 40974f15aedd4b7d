/** `artifacts` and `cache` (spec ci-yaml.md §8, §9). */
import { describe, expect, test } from 'bun:test';
import { expectErrors, expectJob } from './helpers';

describe('artifacts', () => {
  test('every key', async () => {
    await expectJob([
      ['j:\n  script: x\n  artifacts:\n    name: "$CI_JOB_NAME"\n    paths: [dist/, "*.log"]\n    exclude: [dist/**/*.map]\n    untracked: false\n    when: always\n    expire_in: 1 week\n    access: developer\n',
        { artifacts: { name: '$CI_JOB_NAME', paths: ['dist/', '*.log'], exclude: ['dist/**/*.map'], untracked: false, when: 'always', expire_in: '1 week', access: 'developer' } }],
      ['j:\n  script: x\n  artifacts: {paths: [out], expose_as: "Build output", public: false, expire_in: "3600"}\n', { artifacts: { paths: ['out'], expose_as: 'Build output', access: 'developer', expire_in: '3600' } }],
      ['j:\n  script: x\n  artifacts:\n    expire_in: never\n    reports:\n      junit: [a.xml, b.xml]\n      dotenv: build.env\n      coverage_report: {coverage_format: cobertura, path: coverage.xml}\n',
        { artifacts: { expire_in: 'never', reports: [{ type: 'junit', paths: ['a.xml', 'b.xml'] }, { type: 'dotenv', paths: ['build.env'] }, { type: 'cobertura', paths: ['coverage.xml'] }] } }],
    ]);
  });
  test('errors', async () => {
    await expectErrors([
      ['j:\n  script: x\n  artifacts: [a]\n', ['jobs:j:artifacts config should be a hash']],
      ['j:\n  script: x\n  artifacts: {paths: [a], expire_in: 3600}\n', ['jobs:j:artifacts expire in should be a duration']],
      ['j:\n  script: x\n  artifacts: {path: [a]}\n', ['jobs:j:artifacts config contains unknown keys: path']],
      ['j:\n  script: x\n  artifacts: {paths: a}\n', ['jobs:j:artifacts paths should be an array of strings']],
      ['j:\n  script: x\n  artifacts: {when: sometimes}\n', ['jobs:j:artifacts when should be one of: on_success, on_failure, always']],
      ['j:\n  script: x\n  artifacts: {expire_in: soon}\n', ['jobs:j:artifacts expire in should be a duration']],
      ['j:\n  script: x\n  artifacts: {expose_as: "x!", paths: ["*.txt"]}\n', ["jobs:j:artifacts expose as can contain only letters, digits, '-', '_' and spaces", "jobs:j:artifacts paths can't contain '*' when used with 'expose_as'"]],
      // Ruby's \w is ASCII
      ['j:\n  script: x\n  artifacts: {expose_as: "Prüfbericht", paths: [out]}\n', ["jobs:j:artifacts expose as can contain only letters, digits, '-', '_' and spaces"]],
      ['j:\n  script: x\n  artifacts: {access: all, public: true}\n', ['jobs:j:artifacts config these keys cannot be used together: access, public']],
      ['j:\n  script: x\n  artifacts: {reports: {cobertura: c.xml}}\n', ['jobs:j:artifacts:reports config contains unknown keys: cobertura']],
      ['j:\n  script: x\n  artifacts: {reports: {junit: {a: 1}}}\n', ['jobs:j:artifacts:reports junit should be an array of strings or a string']],
    ]);
  });
});

describe('cache', () => {
  test('a hash or a list; key:files resolved from the files of the commit', async () => {
    await expectJob([
      ['j:\n  script: x\n  cache: {key: "$CI_COMMIT_REF_SLUG", paths: [.npm/], policy: pull, when: always, fallback_keys: [main]}\n',
        { cache: [{ key: '$CI_COMMIT_REF_SLUG', paths: ['.npm/'], policy: 'pull', when: 'always', fallback_keys: ['main'] }] }],
      ['j:\n  script: x\n  cache: [{key: a, paths: [a]}, {key: b, untracked: true}]\n', { cache: [{ key: 'a', paths: ['a'] }, { key: 'b', untracked: true }] }],
      ['j:\n  script: x\n  cache: {key: {files: [missing.lock], prefix: deps}, paths: [vendor]}\n', { cache: [{ key: 'deps-default', paths: ['vendor'] }] }],
    ]);
    await expectJob([
      ['j:\n  script: x\n  cache: {key: {files: [package-lock.json]}, paths: [node_modules]}\n', { cache: [{ key: expect.stringMatching(/^[0-9a-f]{40}$/), paths: ['node_modules'] }] }],
    ], 'j', { files: { 'package-lock.json': '{}' } });
    // GitLab's Caches entry flattens nested lists (anchors, !reference)
    await expectJob([
      ['.c: &c [{key: a, paths: [a]}]\n.d: {cache: {key: b, paths: [b]}}\nj:\n  script: x\n  cache: [*c, !reference [.d, cache], [[{key: e, paths: [e]}]]]\n',
        { cache: [{ key: 'a', paths: ['a'] }, { key: 'b', paths: ['b'] }, { key: 'e', paths: ['e'] }] }],
      // the list is counted as written, before it is flattened
      ['j:\n  script: x\n  cache: [[{key: a}, {key: b}, {key: c}], {key: d}, {key: e}]\n', { cache: [{ key: 'a' }, { key: 'b' }, { key: 'c' }, { key: 'd' }, { key: 'e' }] }],
    ]);
  });
  test('errors', async () => {
    await expectErrors([
      ['j:\n  script: x\n  cache: {key: a/b}\n', ['jobs:j:cache:key config cannot contain the "/" character']],
      ['j:\n  script: x\n  cache: {key: "%2e%2e"}\n', ['jobs:j:cache:key config cannot be "." or ".."']],
      // GitLab's Key entry: no "config", and a number is not a key
      ['j:\n  script: x\n  cache: {key: [a]}\n', ['jobs:j:cache:key should be a hash, a string or a symbol']],
      ['j:\n  script: x\n  cache: {key: 1}\n', ['jobs:j:cache:key should be a hash, a string or a symbol']],
      ['j:\n  script: x\n  cache: {key: {files: [a], prefix: 1}}\n', ['jobs:j:cache:key:prefix config should be a string or symbol']],
      ['j:\n  script: x\n  cache: x\n', ['jobs:j:cache config can only be a hash or an array']],
      ['j:\n  script: x\n  cache: {paths: [a], policy: always}\n', ['jobs:j:cache policy should be pull-push, push, or pull']],
      ['j:\n  script: x\n  cache: {paths: [a], when: never}\n', ['jobs:j:cache when should be on_success, on_failure or always']],
      ['j:\n  script: x\n  cache: {path: [a]}\n', ['jobs:j:cache config contains unknown keys: path']],
      ['j:\n  script: x\n  cache: [{key: a}, {key: b}, {key: c}, {key: d}, {key: e}]\n', ['jobs:j:cache config no more than 4 caches can be created']],
    ]);
  });
});
