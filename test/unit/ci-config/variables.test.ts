/** `variables` (spec ci-yaml.md §1.7): strings and integers, `{value, description, expand, options}`, and where each is allowed. */
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
j:
  script: x
  variables:
    A: job wins
    G: {value: "1", expand: true}
`);
    expect(p.variables).toEqual({ A: 'hello', B: '10', C: '8', D: 'x', E: '$A-raw', F: '' });
    expect(p.rawVariables).toEqual(['E']);
    expect(job(p, 'j').variables).toEqual({ A: 'job wins', G: '1' });
  });

  test('errors', async () => {
    await expectErrors([
      ['variables: [a]\nj:\n  script: x\n', ['variables config should be a hash of key value pairs']],
      ['variables:\n  A: true\nj:\n  script: x\n', ['variable definition must be either a string or a hash']],
      ['variables:\n  A: 1.5\nj:\n  script: x\n', ['variable definition must be either a string or a hash']],
      ['j:\n  script: x\n  variables:\n    A: [a]\n', ['variable definition must be either a string or a hash']],
      ['j:\n  script: x\n  variables:\n    A: {value: x, description: y}\n', ['jobs:j:variables:a config uses invalid data keys: description']],
      ['variables:\n  A: {value: z, options: [x, y]}\nj:\n  script: x\n', ['variables:a config value must be present in options']],
      ['variables:\n  A: {value: x, expand: "no"}\nj:\n  script: x\n', ['variables:a config expand should be a boolean value']],
      ['variables:\n  A: {valeu: x}\nj:\n  script: x\n', ['variables:a config uses invalid data keys: valeu']],
    ]);
  });
});
