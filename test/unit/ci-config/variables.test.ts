/**
 * `variables` (spec ci-yaml.md §1.7): scalars, `{value, description, expand, options}`, and where
 * each is allowed. GitLab checks values with its ScalarValidator (strings, integers, floats,
 * booleans, stored as Ruby's `to_s`) since gitlab-org/gitlab!146503; before, only strings and
 * integers passed, and the spec of §1.7 still describes that.
 */
import { describe, expect, test } from 'bun:test';
import { expectErrors, job, plan } from './helpers';

describe('variables', () => {
  test('values are strings (integers and YAML 1.1 numbers as GitLab stringifies them), in file order', async () => {
    const p = await plan(`
variables:
  A: hello
  B: 10
  C: 010
  D: {value: "x", description: "shown in the run form", options: [x, y]}
  E: {value: "$A-raw", expand: false}
  F: {description: only a description}
  # nothing: an empty hash, so an empty value (GitLab's ComposableHash)
  H: null
  I:
j:
  script: x
  variables:
    A: job wins
    G: {value: "1", expand: true}
    DOCKER_HOST:
`);
    expect(p.variables).toEqual({ A: 'hello', B: '10', C: '8', D: 'x', E: '$A-raw', F: '', H: '', I: '' });
    expect(p.rawVariables).toEqual(['E']);
    expect(job(p, 'j').variables).toEqual({ A: 'job wins', G: '1', DOCKER_HOST: '' });
  });

  test('floats and booleans are values too, as Ruby writes them (YAML 1.1: yes/off are booleans, 3.10 is 3.1, 1e3 a string)', async () => {
    const p = await plan(`
variables:
  FLAG: true
  PY: 3.10
  ASK: yes
  SCI: 1e3
  ONE: 1.0
  BIG: 12345678901234567.0
  INF: .inf
  D: {value: false, description: a flag}
j:
  script: x
  variables:
    QUIET: off
  rules:
    - variables: {R: 2.5}
  services:
    - name: db
      variables: {S: true}
`);
    expect(p.variables).toEqual({ FLAG: 'true', PY: '3.1', ASK: 'true', SCI: '1e3', ONE: '1.0', BIG: '1.2345678901234568e+16', INF: 'Infinity', D: 'false' });
    expect(job(p, 'j').variables).toEqual({ QUIET: 'false', R: '2.5' });
    expect(job(p, 'j').services?.[0]).toMatchObject({ name: 'db', variables: { S: 'true' } });
  });

  test('a typed input interpolated into a value keeps its type until it is stored as text', async () => {
    const p = await plan('spec:\n  inputs:\n    debug: {type: boolean}\n    ratio: {type: number, default: 0.5}\n---\nvariables:\n  DEBUG: $[[ inputs.debug ]]\n  RATIO: $[[ inputs.ratio ]]\nj:\n  script: x\n', { inputs: { debug: true } });
    expect(p.variables).toEqual({ DEBUG: 'true', RATIO: '0.5' });
  });

  test('errors', async () => {
    await expectErrors([
      ['variables: [a]\nj:\n  script: x\n', ['variables config should be a hash']],
      // nothing is an empty hash (GitLab's ComposableHash): no value data keys in rules:variables
      ['j:\n  script: x\n  rules:\n    - variables: {A: null}\n', ['jobs:j:rules:rule:variables:a config must be a string']],
      ['j:\n  script: x\n  rules:\n    - variables: {A: {value: x}}\n', ['jobs:j:rules:rule:variables:a config must be a string']],
      ['workflow:\n  rules:\n    - variables: {A: {value: x}}\nj:\n  script: x\n', ['workflow:rules:rule:variables:a config must be a string']],
      ['variables:\n  A: {value: [a]}\nj:\n  script: x\n', ['variables:a config value must be a scalar']],
      ['variables:\n  A: {value: 1, options: ["1", "2"]}\nj:\n  script: x\n', ['variables:a config value must be present in options']],
      ['variables:\n  A: {value: true, options: ["true"]}\nj:\n  script: x\n', ['variables:a config value must be present in options']],
      ['variables:\n  A: {options: [x]}\nj:\n  script: x\n', ['variables:a config value must be present in options']],
      ['j:\n  script: x\n  variables:\n    A: [a]\n', ['variable definition must be either a string or a hash']],
      ['j:\n  script: x\n  variables:\n    A: {value: x, description: y}\n', ['jobs:j:variables:a config uses invalid data keys: description']],
      ['variables:\n  A: {value: z, options: [x, y]}\nj:\n  script: x\n', ['variables:a config value must be present in options']],
      ['variables:\n  A: {value: x, expand: "no"}\nj:\n  script: x\n', ['variables:a config expand should be a boolean value']],
      ['variables:\n  A: {valeu: x}\nj:\n  script: x\n', ['variables:a config uses invalid data keys: valeu']],
    ]);
  });
});
