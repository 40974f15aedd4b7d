/** Loading (spec ci-yaml.md §1.1): YAML 1.1 as Psych reads it, documents, limits, tags, anchors. */
import { describe, expect, test } from 'bun:test';
import { expectErrors, job, names, plan } from './helpers';
import { loadDocuments, tokenize } from '../../../src/core/ci-config/load';
import { RubyFloat, rubyFloatToS } from '../../../src/core/ci-config/values';

describe('YAML 1.1 scalars, as Psych types them', () => {
  const cases: [string, unknown][] = [
    ['on', true], ['yes', true], ['TRUE', true], ['off', false], ['No', false], ['y', 'y'], ['n', 'n'],
    ['~', null], ['null', null], ['', null], ['010', 8], ['0x1F', 31], ['0b101', 5], ['1_000', 1000], ['1,000', 1000],
    ['-010', -8], ['1e3', '1e3'], ['1.0.0', '1.0.0'], ['v1', 'v1'], [':foo', ':foo'], ['08', '08'], ['1:20:30', 4830],
    ['main', 'main'], ['hello world', 'hello world'], ['.inf', new RubyFloat(Infinity)],
  ];
  test.each(cases)('%p', (text, want) => expect(tokenize(text)).toEqual(want));

  test('floats keep Ruby\'s to_s: 3.10 → "3.1", 1.0 → "1.0", 1e20 → "1.0e+20"', () => {
    expect(tokenize('3.10')).toEqual(new RubyFloat(3.1));
    expect([3.1, 1, 0.0001, 0.00001, 1e15, 1e16, 1e20, -2.5].map(rubyFloatToS)).toEqual(['3.1', '1.0', '0.0001', '1.0e-05', '1000000000000000.0', '1.0e+16', '1.0e+20', '-2.5']);
  });

  test('quoted and block scalars stay strings; !!str and !!int tags are honoured', () => {
    expect(loadDocuments('a: "010"\nb: \'on\'\nc: |\n  on\nd: !!str 010\ne: !!int "010"\n')[0]).toEqual({ a: '010', b: 'on', c: 'on\n', d: '010', e: 8 });
  });
});

describe('documents and the top level', () => {
  test('errors', async () => {
    await expectErrors([
      ['', ['Please provide content of .gitlab-ci.yml']],
      // every document is blank, so GitLab's loader gives an empty config ({}), not an error
      ['# only a comment\n', ['jobs config should contain at least one visible job']],
      ['- a\n- b\n', ['Invalid configuration format']],
      ['just text', ['Invalid configuration format']],
      ['when: 2024-01-01\nj:\n  script: x\n', ['Tried to load unspecified class: Date']],
      ['j:\n  script: x\n  start: 2024-01-01 10:00:00\n', ['Tried to load unspecified class: Time']],
      ['lol: &a [x, x, x, x, x, x, x, x, x, x]\n' + Array.from({ length: 8 }, (_, i) => `l${i + 1}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${i === 0 ? 'a' : String.fromCharCode(97 + i)}`).join(', ')}]`).join('\n') + '\nj:\n  script: x\n', ['The parsed YAML is too big']],
    ]);
  });

  test('a syntax error carries the parser\'s message with its position', async () => {
    const { errors } = await import('./helpers');
    const e = await errors('j:\n  script: [\n');
    expect(e).toHaveLength(1);
    expect(e[0]).toMatch(/^\(<unknown>\): .+ at line \d+ column \d+$/);
  });

  test('a leading --- does not count as a document; a UTF-8 BOM is stripped', async () => {
    expect((await plan('---\nj:\n  script: x\n')).jobs).toHaveLength(1);
    expect((await plan('\uFEFFj:\n  script: x\n')).jobs).toHaveLength(1);
  });

  test('too big before parsing', async () => {
    const { errors } = await import('./helpers');
    expect(await errors(`j:\n  script: x\n# ${'x'.repeat(2 * 1024 * 1024)}\n`)).toEqual(['The provided YAML is too big']);
  });
});

describe('documents, split as GitLab splits them', () => {
  // GitLab cuts the text itself at lines that start with `---` and whitespace (three parts at
  // most; Psych reads the last one up to its first document), drops blank documents, and reads
  // the first as a `spec:` header only when another follows. The config is then the last
  // document, else the first.
  const plans: [string, string, string[]][] = [
    ['a trailing --- after the jobs', 'j:\n  script: x\n---\n', ['j']],
    ['a --- at the very end, with no newline', 'j:\n  script: x\n---', ['j']],
    ['a trailing --- in a CRLF file', 'j:\r\n  script: x\r\n---\r\n', ['j']],
    ['three documents without a header: the first', 'a:\n  script: a\n---\nb:\n  script: b\n---\nc:\n  script: c\n', ['a']],
    ['a header and two more documents: the last', 'spec:\n  inputs: {}\n---\na:\n  script: a\n---\nb:\n  script: b\n', ['b']],
    ['past the third part nothing is split, and Psych stops at its first document', 'spec:\n  inputs: {}\n---\na:\n  script: a\n---\nb:\n  script: b\n---\nnot: [valid\n', ['b']],
    ['a leading ---', '---\nj:\n  script: x\n', ['j']],
    ['a UTF-8 BOM before a leading ---', '\uFEFF---\nj:\n  script: x\n', ['j']],
    ['empty documents before the config', '---\n---\nj:\n  script: x\n', ['j']],
    ['a blank first document ({}) is dropped, not a header', '{}\n---\nj:\n  script: x\n', ['j']],
    ['--- with a comment', '--- # the jobs\nj:\n  script: x\n', ['j']],
    ['--- with the document on its line', '--- j:\n    script: x\n', ['j']],
    ['an unindented --- inside a block scalar splits there', 'j:\n  script: |\n    echo a\n---\nk:\n  script: y\n', ['j']],
    ['... then a document: Psych reads the first', 'j:\n  script: x\n...\nk:\n  script: y\n', ['j']],
    ['... then ---: the second document has no header before it', 'j:\n  script: x\n...\n---\nk:\n  script: y\n', ['j']],
  ];
  test.each(plans)('%s', async (_name, yaml, jobs) => expect(names(await plan(yaml))).toEqual(jobs));

  test('a header with a tag on its ---; an indented --- in a block scalar is text', async () => {
    const p = await plan('---\nspec:\n  inputs:\n    who:\n      default: me\n--- !body\nj:\n  script: echo $[[ inputs.who ]]\n');
    expect(job(p, 'j').script).toEqual(['echo me']);
    expect(job(await plan('j:\n  script: |\n    echo a\n    ---\n    echo b\n'), 'j').script).toEqual(['echo a\n---\necho b\n']);
  });

  test('errors', async () => {
    await expectErrors([
      // no `spec:` header, so the first document is the config and its `stages` are not a job
      ['stages: [build]\n---\nbuild:\n  script: x\n', ['jobs config should contain at least one visible job']],
      ['---\n', ['jobs config should contain at least one visible job']],
      ['---', ['jobs config should contain at least one visible job']],
      // every document is loaded, so one that is not a hash fails even when it is not used
      ['j:\n  script: x\n---\n- a\n', ['Invalid configuration format']],
      ['j:\n  script: |\n    echo a\n---\n    echo b\n', ['Invalid configuration format']],
    ]);
  });

  test('a syntax error in a later document is placed within that document, as Psych parses it alone', async () => {
    const { errors } = await import('./helpers');
    const e = await errors('j:\n  script: x\n---\nk: [\n');
    expect(e).toHaveLength(1);
    expect(e[0]).toMatch(/^\(<unknown>\): .+ at line 2 column 1$/);
  });

  test('included files go through the same loader', async () => {
    const files = (text: string) => ({ files: { 'ci/jobs.yml': text } });
    expect(names(await plan('include: ci/jobs.yml\n', files('j:\n  script: x\n---\n')))).toEqual(['j']);
    expect(names(await plan('include: ci/jobs.yml\n', files('a:\n  script: a\n---\nb:\n  script: b\n---\nc:\n  script: c\n')))).toEqual(['a']);
    // nothing but blank documents: GitLab's "blank hash" message for an include
    await expectErrors([
      ['include: ci/jobs.yml\nk:\n  script: y\n', ['Included file `ci/jobs.yml` does not have valid YAML syntax!']],
    ], files('# nothing\n'));
    await expectErrors([
      ['include: ci/jobs.yml\nk:\n  script: y\n', ['Included file `ci/jobs.yml` does not have valid YAML syntax!']],
    ], files('---\n'));
    await expectErrors([
      ['include: ci/jobs.yml\nk:\n  script: y\n', ['Included file `ci/jobs.yml` does not have valid YAML syntax!']],
    ], files('{}\n'));
  });
});

describe('anchors, merge keys, duplicate keys, tags', () => {
  test('<<: merges where it stands (later keys win), lists merge with earlier winning', async () => {
    const p = await plan(`
.a: &a { script: [a], stage: build, tags: [x] }
.b: &b { script: [b], tags: [y] }
before:
  stage: deploy
  <<: *a
after:
  <<: *a
  stage: deploy
both:
  <<: [*a, *b]
`);
    expect(job(p, 'before').stage).toBe('build');
    expect(job(p, 'after').stage).toBe('deploy');
    expect(job(p, 'both')).toMatchObject({ script: ['a'], tags: ['x'], stage: 'build' });
  });

  test('the last of duplicate keys wins; unknown tags are ignored', async () => {
    const p = await plan('j:\n  script: one\n  script: two\n  stage: !custom build\n');
    expect(job(p, 'j')).toMatchObject({ script: ['two'], stage: 'build' });
  });

  test('keys like __proto__ and constructor are ordinary keys', async () => {
    const p = await plan('j:\n  script: x\n  variables:\n    __proto__: polluted\n    constructor: c\n');
    expect(Object.entries(job(p, 'j').variables)).toEqual([['__proto__', 'polluted'], ['constructor', 'c']]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('what libyaml (Psych) accepts that a strict YAML parser does not', () => {
  // libyaml does not check the indentation of a quoted scalar's continuation lines (only
  // document markers end it); GNOME's 2019 files close multi-line shell `if`s at the item's
  // own indentation. The folded value is the same whatever the continuation's indentation.
  const cases: [string, string, unknown][] = [
    ['single-quoted, closing quote at the item\'s indentation',
      "j:\n  script:\n    - 'if [ -n \"$A\" ]; then\n         make;\n       fi\n    '\n    - echo done\n",
      { j: { script: ['if [ -n "$A" ]; then make; fi ', 'echo done'] } }],
    ['double-quoted with an escaped quote inside',
      'j:\n  script:\n    - "echo \\"a\\"\n    b"\n  stage: test\n',
      { j: { script: ['echo "a" b'], stage: 'test' } }],
    ['a continuation at the key\'s own indentation',
      "j:\n  name: 'a\n  b'\n  other: 1\n",
      { j: { name: 'a b', other: 1 } }],
    ['a rules:if continued at the list item\'s indentation, under its key (a Laravel API\'s file)',
      "j:\n  script: [x]\n  rules:\n    - if: '$CI_COMMIT_BRANCH\n    && $CI_COMMIT_TAG == null'\n      when: manual\n",
      { j: { script: ['x'], rules: [{ if: '$CI_COMMIT_BRANCH && $CI_COMMIT_TAG == null', when: 'manual' }] } }],
    ['a mapping value continued at its key\'s column',
      'a:\n  b: "x\n  y"\n  c: 1\n',
      { a: { b: 'x y', c: 1 } }],
    ['a flow sequence closed at the list item\'s indentation (cryptsetup\'s BACKENDS: [ … ])',
      'j:\n  script: x\n  parallel:\n    matrix:\n      - V: [\n          "a",\n          "b"\n      ]\n',
      { j: { script: 'x', parallel: { matrix: [{ V: ['a', 'b'] }] } } }],
    ['a flow mapping and sequences continued at their key\'s indentation, a quote with brackets and # inside',
      'j:\n  variables: {\n  A: "1"\n  }\n  tags: [\n    a,\n  b\n  ]\n  script: ["a # [not] a comment",\n  \'b]\', "multi\n  line"]\n',
      { j: { variables: { A: '1' }, tags: ['a', 'b'], script: ['a # [not] a comment', 'b]', 'multi line'] } }],
    ['doubled single quotes stay one quote',
      "j:\n  x: 'it''s\n  fine'\n",
      { j: { x: "it's fine" } }],
  ];
  test.each(cases)('%s', (_name, text, want) => expect(loadDocuments(text)[0]).toEqual(want));

  test('an unterminated quote is still an error', () => {
    expect(() => loadDocuments("j:\n  x: 'open\n")).toThrow(/^\(<unknown>\): Missing closing 'quote at line \d+ column \d+$/);
  });

  test('an alias names the latest anchor of that name before it (anchors may be redefined)', () => {
    const doc = loadDocuments('a: &x 1\nb: *x\nc: &x 2\nd: *x\ne: [*x, &x 3, *x]\n')[0];
    expect(doc).toEqual({ a: 1, b: 1, c: 2, d: 2, e: [2, 3, 3] });
  });

  test('a file with a thousand aliases loads in one walk (GitLab 2018-style alias jobs)', () => {
    const jobs = Array.from({ length: 1000 }, (_, i) => `rspec ${i} 1000: *base`).join('\n');
    const doc = loadDocuments(`.base: &base\n  script: [rspec]\n  tags: [docker]\n${jobs}\n`)[0] as Record<string, unknown>;
    expect(Object.keys(doc)).toHaveLength(1001);
    expect(doc['rspec 999 1000']).toEqual({ script: ['rspec'], tags: ['docker'] });
  });
});
