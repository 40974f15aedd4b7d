/** `include` (spec ci-yaml.md §2): forms, rules, wildcards, nesting, limits, merge order, inputs; `extends`; `!reference`. */
import { describe, expect, test } from 'bun:test';
import { compileCiConfig } from '../../../src/core/ci-config';
import { contextOf } from '../../support/compile';
import { compile, errors, expectErrors, job, names, plan } from './helpers';

describe('include', () => {
  const files = {
    'ci/build.yml': 'build:\n  stage: build\n  script: [make]\n  variables: {A: from-include, B: b}\n',
    'ci/test.yml': 'include: ci/lint.yml\ntest:\n  script: [make test]\n',
    'ci/lint.yml': 'lint:\n  script: [lint]\n',
    'ci/jobs/a.yml': 'a:\n  script: [a]\n',
    'ci/jobs/b.yaml': 'b:\n  script: [b]\n',
    'ci/jobs/deep/c.yml': 'c:\n  script: [c]\n',
    'templates/deploy.yml': 'spec:\n  inputs:\n    env:\n    replicas: {type: number, default: 1}\n---\n"deploy-$[[ inputs.env ]]":\n  script: ["deploy $[[ inputs.env ]] x$[[ inputs.replicas ]]"]\n  parallel: $[[ inputs.replicas ]]\n',
  };

  test('local (string, hash, leading /), nested, merged with the including file winning', async () => {
    const p = await plan('include:\n  - ci/build.yml\n  - local: /ci/test.yml\nbuild:\n  variables: {A: main-file}\n', { files });
    expect(names(p)).toEqual(['build', 'lint', 'test']);
    expect(job(p, 'build').variables).toEqual({ A: 'main-file', B: 'b' });
    const r = await compile('include: [ci/build.yml, {local: ci/test.yml}]\n', { files });
    expect(r.includes.map((i) => [i.type, i.location, i.context_project])).toEqual([['local', 'ci/build.yml', 'baton/demo'], ['local', 'ci/test.yml', 'baton/demo'], ['local', 'ci/lint.yml', 'baton/demo']]);
  });

  test('wildcards: * within a directory, ** across directories', async () => {
    expect(names(await plan('include: "ci/jobs/*.yml"\n', { files }))).toEqual(['a']);
    expect(names(await plan('include: "ci/jobs/**.y*ml"\n', { files }))).toEqual(['a', 'b', 'c']);
    // GitLab's order: a string's variables are expanded first (Normalizer); a hash's wildcard is
    // matched as written (LocationExpander before VariablesExpander), so its $DIR stays literal
    expect(names(await plan('include: "$DIR/*.yml"\n', { files, variables: { DIR: 'ci/jobs' } }))).toEqual(['a']);
    expect(names(await plan('include:\n  - local: "$DIR/*.yml"\nj:\n  script: x\n', { files, variables: { DIR: 'ci/jobs' } }))).toEqual(['j']);
    // each match of a wildcard is `{local: path}` alone: inputs given with it do not reach the files
    expect(await errors('include:\n  - local: "templates/*.yml"\n    inputs: {env: prod}\n', { files })).toEqual(['`templates/deploy.yml`: `env` input: required value has not been provided']);
    // null entries are dropped (the Mapper's compact)
    expect(names(await plan('include: [ci/jobs/a.yml, null]\n', { files }))).toEqual(['a']);
  });

  test('variables in locations (undefined → empty); include:rules', async () => {
    const yaml = 'include:\n  - local: ci/$KIND.yml\n  - local: ci/lint.yml\n    rules:\n      - if: $CI_COMMIT_TAG\n  - local: ci/jobs/a.yml\n    rules:\n      - exists: [ci/build.yml]\n';
    expect(names(await plan(yaml, { files, variables: { KIND: 'build' } }))).toEqual(['build', 'a']);
  });

  test('project and remote files', async () => {
    const p = await plan('include:\n  - project: group/shared\n    ref: v2\n    file: [/a.yml, b.yml]\n  - remote: https://example.com/ci/r.yml\n', {
      projects: { 'group/shared': { 'a.yml': 'include: nested.yml\npa:\n  script: x\n', 'nested.yml': 'pn:\n  script: x\n', 'b.yml': 'pb:\n  script: x\n' } },
      remote: { 'https://example.com/ci/r.yml': 'r:\n  script: x\n' },
    });
    expect(names(p)).toEqual(['pn', 'pa', 'pb', 'r']);
  });

  test('inputs interpolated into an included file', async () => {
    const p = await plan('include:\n  - local: templates/deploy.yml\n    inputs: {env: prod, replicas: 2}\n', { files });
    expect(names(p)).toEqual(['deploy-prod 1/2', 'deploy-prod 2/2']);
    expect(job(p, 'deploy-prod 1/2').script).toEqual(['deploy prod x2']);
  });

  test('errors', async () => {
    await expectErrors([
      ['include: ci/nope.yml\n', ['Local file `ci/nope.yml` does not exist!']],
      ['include:\n  - local: ci/build.yml\n    rules: []\nj:\n  script: x\n', ["include:rules config can't be blank"]],
      // the extension is read off the whole location, as GitLab does
      ['include: "https://example.com/ci.yml?ref=main"\nj:\n  script: x\n', ['Included file `https://example.com/ci.yml?ref=main` does not have YAML extension!']],
      // GitLab's Mapper::Normalizer
      ['include: [[local: a.yml]]\nj:\n  script: x\n', ['Each include must be a hash or a string']],
      ['include: true\nj:\n  script: x\n', ['Each include must be a hash or a string']],
      ['include: ci/build.txt\n', ['Included file `ci/build.txt` does not have YAML extension!']],
      ['include: [{yolo: x.yml}]\n', ['`{"yolo":"x.yml"}` does not have a valid subkey for include. Valid subkeys are: `local`, `project`, `remote`, `template`, `artifact`, `component`']],
      ['include: [{local: a.yml, remote: "https://x/a.yml"}]\n', ['Each include must use only one of: `local`, `project`, `remote`, `template`, `artifact`, `component`']],
      ['include: [{template: Auto-DevOps.gitlab-ci.yml}]\n', ["Template file `Auto-DevOps.gitlab-ci.yml` cannot be included: Baton does not have GitLab's CI/CD template library"]],
      ['include: [{template: Foo.yml}]\n', ['Template file `Foo.yml` is not a valid location!']],
      ['include: [{component: gitlab.com/comp/sast@1.0}]\n', ["Component `gitlab.com/comp/sast@1.0` cannot be included: Baton does not have GitLab's CI/CD catalog of components"]],
      ['include: [{project: other/p, file: a.yml}]\n', ['Project `other/p` not found or access denied! Make sure any includes in the pipeline configuration are correctly defined.']],
      ['include: https://example.com/missing.yml\n', ['Remote file `https://example.com/missing.yml` could not be fetched because of HTTP code `404` error!']],
      ['include: [{local: templates/deploy.yml}]\n', ['`templates/deploy.yml`: `env` input: required value has not been provided']],
      ['include: [{local: templates/deploy.yml, inputs: {env: a, replicas: many}}]\n', ['`templates/deploy.yml`: `replicas` input: provided value is not a number']],
      ['include: [{local: ci/lint.yml, inputs: {x: 1}}]\n', ['`ci/lint.yml`: Given inputs not defined in the `spec` section of the included configuration file']],
      ['include: [{local: ci/lint.yml, rules: [{if: "$A =="}]}]\n', ['include:rules:rule if invalid expression syntax']],
      ['include: [{local: ci/lint.yml, foo: bar}]\n', ['include config contains unknown keys: foo']],
    ], { files });
    expect(await errors('include: a.yml\nj:\n  script: x\n')).toEqual(['Local file `a.yml` does not have project!']);
  });

  test('masked variables never show in messages', async () => {
    const ctx = contextOf({ variables: { TOKEN: 's3cr3t-value' } });
    ctx.maskedVariables = ['TOKEN'];
    expect((await compileCiConfig('include: https://example.com/$TOKEN/ci.yml\n', ctx)).errors).toEqual(['Remote file `https://example.com/[MASKED]/ci.yml` could not be fetched because of HTTP code `404` error!']);
  });

  test('at most 150 files, counting repeats (an include loop ends there)', async () => {
    expect(await errors('include: loop.yml\n', { files: { 'loop.yml': 'include: loop.yml\nj:\n  script: x\n' } })).toEqual(['Maximum of 150 nested includes are allowed!']);
  });
});

describe('header spec:inputs in the main file', () => {
  test('inputs given to the pipeline; a file without header keeps $[[ ]] literally', async () => {
    const yaml = 'spec:\n  inputs:\n    stage: {default: test}\n    tags: {type: array, default: [a]}\n    mode: {options: [fast, slow], default: fast}\n---\nj:\n  stage: $[[ inputs.stage ]]\n  tags: $[[ inputs.tags ]]\n  script: ["run $[[ inputs.mode | truncate(0,2) ]]"]\n';
    expect(job(await plan(yaml, { inputs: { tags: ['x', 'y'] } }), 'j')).toMatchObject({ stage: 'test', tags: ['x', 'y'], script: ['run fa'] });
    expect(await errors(yaml, { inputs: { mode: 'medium' } })).toEqual(['`mode` input: `medium` cannot be used because it is not in the list of allowed options']);
    expect(job(await plan('j:\n  script: ["echo $[[ inputs.x ]]"]\n'), 'j').script).toEqual(['echo $[[ inputs.x ]]']);
    expect(await errors('spec:\n  inputs:\n    a: {default: x}\n---\nj:\n  script: ["$[[ inputs.b ]]"]\n')).toEqual(['unknown interpolation key: `b`']);
  });

  test('expand_vars expands the variables that exist and leaves the others as written; a masked one is refused (GitLab: expand_existing, fail_on_masked)', async () => {
    const yaml = 'spec:\n  inputs:\n    v: {default: "known=$KNOWN ${KNOWN} unknown=$UNKNOWN ${NOPE}"}\n---\nj:\n  script: ["echo $[[ inputs.v | expand_vars ]]"]\n';
    expect(job(await plan(yaml, { variables: { KNOWN: 'k' } }), 'j').script).toEqual(['echo known=k k unknown=$UNKNOWN ${NOPE}']);
    const masked = contextOf({ variables: { KNOWN: 'k', TOKEN: 's3cr3t-value' } });
    masked.maskedVariables = ['TOKEN'];
    const r = await compileCiConfig('spec:\n  inputs:\n    v: {default: "t=$TOKEN"}\n---\nj:\n  script: ["echo $[[ inputs.v | expand_vars ]]"]\n', masked);
    expect(r.errors).toEqual(['error in `expand_vars` function: variable expansion error: masked variables cannot be expanded']);
  });
});

describe('extends and !reference', () => {
  test('extends: parents merged left to right, hashes deep, arrays replaced; across included files', async () => {
    const p = await plan(`
include: base.yml
.two:
  variables: {B: two, C: two}
  script: [two]
j:
  extends: [.base, .two]
  variables: {C: job}
`, { files: { 'base.yml': '.base:\n  image: ruby\n  variables: {A: base, B: base}\n  script: [base]\n  tags: [t]\n' } });
    expect(job(p, 'j')).toMatchObject({ image: { name: 'ruby' }, variables: { A: 'base', B: 'two', C: 'job' }, script: ['two'], tags: ['t'] });
  });

  test('!reference: lists spliced into scripts, rules reused, values from extended jobs', async () => {
    const p = await plan(`
.setup:
  script: [a, b]
  rules:
    - if: $CI_COMMIT_BRANCH
.vars:
  variables: {X: "1"}
.child:
  extends: .setup
  after_script: [after]
j:
  script:
    - !reference [.setup, script]
    - c
  after_script: !reference [.child, after_script]
  rules:
    - !reference [.setup, rules]
  variables: !reference [.vars, variables]
`);
    expect(job(p, 'j')).toMatchObject({ script: ['a', 'b', 'c'], afterScript: ['after'], variables: { X: '1' } });
  });

  test('errors', async () => {
    await expectErrors([
      ['j:\n  extends: .nope\n  script: x\n', ['j: unknown keys in `extends` (.nope)']],
      ['.a: [1]\nj:\n  extends: .a\n  script: x\n', ['j: invalid base hashes in `extends` (.a)']],
      ['.a:\n  extends: .b\n.b:\n  extends: .a\nj:\n  extends: .a\n  script: x\n', ['.a: circular dependency detected in `extends`']],
      // every chain is checked, whatever the key order (GitLab walks it again from each entry)
      ['.t1: {script: [x]}\n.t2: {extends: .t1}\n.t3: {extends: .t2}\n.t4: {extends: .t3}\n.t5: {extends: .t4}\n.t6: {extends: .t5}\n.t7: {extends: .t6}\n.t8: {extends: .t7}\n.t9: {extends: .t8}\n.t10: {extends: .t9}\n.t11: {extends: .t10}\n.t12: {extends: .t11}\njob: {extends: .t12}\n', ['.t2: nesting too deep in `extends`']],
      ['job: {extends: .t12}\n.t1: {script: [x]}\n.t2: {extends: .t1}\n.t3: {extends: .t2}\n.t4: {extends: .t3}\n.t5: {extends: .t4}\n.t6: {extends: .t5}\n.t7: {extends: .t6}\n.t8: {extends: .t7}\n.t9: {extends: .t8}\n.t10: {extends: .t9}\n.t11: {extends: .t10}\n.t12: {extends: .t11}\n', ['.t2: nesting too deep in `extends`']],
      [Array.from({ length: 12 }, (_, i) => `.l${i}:\n  extends: .l${i + 1}\n`).join('') + '.l12:\n  script: x\nj:\n  extends: .l0\n', ['.l11: nesting too deep in `extends`']],
      ['j:\n  script: !reference [.nope, script]\n', ['!reference ["\.nope", "script"] could not be found'.replace('\\', '')]],
      ['j:\n  script: !reference [1, script]\n', ['!reference [1, "script"] is not valid']],
      // GitLab's Tags::Base#validation_error_message and Reference#_resolve
      ['.a: {script: [x]}\nj:\n  script: !reference .a\n', ['!reference ".a" is not valid']],
      ['j:\n  script: x\n  variables: !reference\n', ['!reference [] is not valid']],
      ['j:\n  script: x\n  variables: !reference {b: c}\n', ['!reference {"b"=>"c"} is not valid']],
      ['.b: {allow_failure: false}\nj:\n  script: x\n  allow_failure: !reference [.b, allow_failure]\n', ['!reference [".b", "allow_failure"] could not be found']],
      ['.b: {variables: }\nj:\n  script: x\n  variables: !reference [.b, variables]\n', ['!reference [".b", "variables"] could not be found']],
      ['.a:\n  script: !reference [.b, script]\n.b:\n  script: !reference [.a, script]\nj:\n  script: !reference [.a, script]\n', ['!reference [".b", "script"] is part of a circular chain']],
    ]);
  });
});

describe('spec:inputs and $[[ ]] as GitLab checks them (header entries, Inputs, FunctionsStack, Access)', () => {
  const header = (inputs: string) => `spec:\n  inputs:\n${inputs}---\n`;

  test('functions: split() is off (ci_interpolation_split_function defaults to false), every function is matched before any runs, errors carry `error in `name` function:`', async () => {
    const s = header('    s: {default: "abcdef"}\n    n: {type: number, default: 5}\n');
    await expectErrors([
      [`${s}j:\n  script: x\n  tags: $[[ inputs.s | split(',') ]]\n`, ["no function matching `split(',')`: check that the function name, arguments, and types are correct"]],
      [`${s}j:\n  script: echo $[[ inputs.n | truncate(0,1) ]]\n`, ['error in `truncate` function: invalid input type: truncate can only be used with string inputs']],
      [`${s}j:\n  script: echo $[[ inputs.n | posix_escape ]]\n`, ['error in `posix_escape` function: invalid input type: posix_escape can only be used with string inputs']],
      [`${s}j:\n  script: echo $[[ inputs.n | expand_vars ]]\n`, ['error in `expand_vars` function: invalid input type: expand_vars can only be used with string inputs']],
      [`${s}j:\n  script: echo $[[ inputs.n | bogus ]]\n`, ['no function matching `bogus`: check that the function name, arguments, and types are correct']],
      [`${s}j:\n  script: echo $[[ inputs.n | truncate(0,1) | bogus ]]\n`, ['no function matching `bogus`: check that the function name, arguments, and types are correct']],
      [`${s}j:\n  script: echo $[[ inputs.s | expand_vars() ]]\n`, ['no function matching `expand_vars()`: check that the function name, arguments, and types are correct']],
    ]);
    // Truncate's pattern leaves the closing parenthesis optional
    expect(job(await plan(`${s}j:\n  script: echo $[[ inputs.s | truncate(1,2 ]] $[[ inputs.s | truncate( 4 , 9 ) ]]\n`), 'j').script).toEqual(['echo bc ef']);
    const masked = contextOf({ variables: { TOKEN: 's3cr3t-value' } });
    masked.maskedVariables = ['TOKEN'];
    const r = await compileCiConfig(`${header('    v: {default: "t=$TOKEN"}\n')}j:\n  script: ["echo $[[ inputs.v | expand_vars ]]"]\n`, masked);
    expect(r.errors).toEqual(['error in `expand_vars` function: variable expansion error: masked variables cannot be expanded']);
  });

  test('an array inside a longer string is Ruby\'s Array#to_s; posix_escape is Shellwords.shellescape (empty → \'\', one backslash per character)', async () => {
    const arr = header('    arr: {type: array, default: [a, b, 1, 1.5, true, null, {k: v}, \'q"#{x}\', "t\\tab"]}\n    none: {type: array, default: []}\n');
    expect(job(await plan(`${arr}j:\n  script: ['echo "$[[ inputs.arr ]]" $[[ inputs.none ]]']\n`), 'j').script).toEqual(['echo "["a", "b", 1, 1.5, true, nil, {"k"=>"v"}, "q\\"\\#{x}", "t\\tab"]" []']);
    const s = header('    e: {default: ""}\n    u: {default: "é😀 a"}\n    nl: {default: "a\\nb"}\n');
    expect(job(await plan(`${s}j:\n  script: ["x$[[ inputs.e | posix_escape ]]x $[[ inputs.u | posix_escape ]] $[[ inputs.nl | posix_escape ]]"]\n`), 'j').script).toEqual(["x''x \\é\\😀\\ a a'\n'b"]);
  });

  test('access: the first key that is not there is named', async () => {
    const s = header('    name: {default: x}\n    arr: {type: array, default: [a]}\n');
    await expectErrors([
      [`${s}j:\n  script: echo $[[ input.name ]]\n`, ['unknown interpolation key: `input`']],
      [`${s}j:\n  script: echo $[[ inputs.name.x ]]\n`, ['unknown interpolation key: `x`']],
      [`${s}j:\n  script: echo $[[ inputs.arr.first ]]\n`, ['unknown interpolation key: `first`']],
      [`${s}j:\n  script: echo $[[ inputs.nope ]]\n`, ['unknown interpolation key: `nope`']],
    ]);
  });

  test('header entries: unknown spec keys, description, regex, options (all of an input\'s problems, the first three joined, lower-cased as entry messages are)', async () => {
    await expectErrors([
      ['spec:\n  description: hello\n  inputs:\n    b: {default: x}\n---\nj:\n  script: x\n', ['header:spec config contains unknown keys: description']],
      [`${header('    b: {default: x, description: true}\n')}j:\n  script: x\n`, ['header:spec:inputs:b input description must be an alphanumeric string']],
      [`${header('    b: {default: x, options: x}\n')}j:\n  script: x\n`, ['header:spec:inputs:b input options should be a array']],
      [`${header(`    b: {default: x, options: [x${',1'.repeat(50)}]}\n`)}j:\n  script: x\n`, ['header:spec:inputs:b config cannot define more than 50 options']],
      [`${header('    b: {default: x, options: [x, null]}\n')}j:\n  script: x\n`, ['header:spec:inputs:b config options array cannot contain null values']],
      [`${header('    b: {default: x, regex: 5}\n')}j:\n  script: x\n`, ['header:spec:inputs:b input regex should be a string']],
      [`${header('    a: {regex: 5}\n    B: {options: x}\n')}j:\n  script: x\n`, ['header:spec:inputs:a input regex should be a string, header:spec:inputs:b input options should be a array']],
    ]);
    // an Integer passes the alphanumeric check
    expect(names(await plan(`${header('    b: {default: x, description: 5}\n')}j:\n  script: x\n`))).toEqual(['j']);
  });

  test('inputs: regex only on strings, options only on strings and numbers, a number not in its options, every unknown name, inputs without a header', async () => {
    await expectErrors([
      [`${header('    n: {type: number, default: 5, regex: ^\\d+$}\n')}j:\n  script: x\n`, ['`n` input: RegEx validation can only be used with string inputs']],
      [`${header('    b: {type: boolean, default: true, options: [true, false]}\n')}j:\n  script: x\n`, ['`b` input: Options can only be used with string and number inputs']],
      [`${header('    a: {type: array, default: [x], options: [x, y]}\n')}j:\n  script: x\n`, ['`a` input: Options can only be used with string and number inputs']],
    ]);
    expect(await errors(`${header('    n: {type: number, default: 1, options: [1, 2]}\n')}j:\n  script: x\n`, { inputs: { n: 7 } })).toEqual(['`n` input: `7` cannot be used because it is not in the list of the allowed options']);
    const files = {
      't.yml': `${header('    s: {default: x}\n')}t:\n  script: x\n`,
      'plain.yml': 'p:\n  script: x\n',
    };
    await expectErrors([
      ['include: [{local: t.yml, inputs: {a: 1, b: 2, c: 3, d: 4}}]\n', ['`t.yml`: unknown input arguments: a, b, c, d']],
      ['include: [{local: plain.yml, inputs: {x: 1}}]\n', ['`plain.yml`: Given inputs not defined in the `spec` section of the included configuration file']],
    ], { files });
    // empty inputs are no inputs
    expect(names(await plan('include: [{local: plain.yml, inputs: {}}]\n', { files }))).toEqual(['p']);
  });
});
