/**
 * Unit tests for src/core/ci-config.ts: `.gitlab-ci.yml` → pipeline plan.
 * Most cases build the config as a JS object and serialise it to JSON (which
 * is valid YAML) to keep the tables compact; YAML-only features (anchors,
 * merge keys, tags, syntax errors) use literal YAML.
 */
import { describe, test, expect, spyOn } from 'bun:test';
import {
  applyMergeKeys, parseCiConfig,
  type ArtifactsSpec, type CacheSpec, type JobPlan, type PipelinePlan, type RefInfo, type When,
} from '../../src/core/ci-config';

const MAIN: RefInfo = { name: 'main', tag: false };
const TAG: RefInfo = { name: 'v1.2.0', tag: true };

type Config = Record<string, unknown>;

function yamlOf(config: Config | string): string {
  return typeof config === 'string' ? config : JSON.stringify(config);
}

/** Parse and expect success. */
function plan(config: Config | string, ref: RefInfo = MAIN): PipelinePlan {
  const r = parseCiConfig(yamlOf(config), ref);
  if (!r.ok) throw new Error(`expected a plan, got errors:\n${r.errors.join('\n')}`);
  return r.plan;
}

/** Parse and expect failure. */
function errors(config: Config | string, ref: RefInfo = MAIN): string[] {
  const r = parseCiConfig(yamlOf(config), ref);
  if (r.ok) throw new Error(`expected errors, got a plan: ${JSON.stringify(r.plan)}`);
  return r.errors;
}

function job(p: PipelinePlan, name: string): JobPlan {
  const j = p.jobs.find((x) => x.name === name);
  if (j === undefined) throw new Error(`no job ${name} in plan: ${p.jobs.map((x) => x.name).join(', ')}`);
  return j;
}

/** A single job `j` with the given extra keys. */
function one(keys: Config, extra: Config = {}): Config {
  return { j: { script: 'true', ...keys }, ...extra };
}

function expectError(errs: string[], ...fragments: string[]): void {
  const hit = errs.some((e) => fragments.every((f) => e.includes(f)));
  if (!hit) throw new Error(`no error containing ${JSON.stringify(fragments)} in:\n${errs.join('\n')}`);
  expect(hit).toBe(true);
}

// ---------------------------------------------------------------------------

describe('a minimal pipeline', () => {
  test('produces a fully populated job with defaults', () => {
    const p = plan({ build: { script: 'make' } });
    expect(p).toEqual({
      stages: ['build', 'test', 'deploy'],
      variables: {},
      jobs: [{
        name: 'build', stage: 'test', stageIdx: 1,
        beforeScript: [], script: ['make'], afterScript: [],
        services: [], variables: {}, tags: [],
        when: 'on_success', allowFailure: false, retry: { max: 0, when: ['always'], exit_codes: [] },
      }],
      workflow: { autoCancel: { onNewCommit: 'conservative', onJobFailure: 'none' } },
    });
  });

  test('the plan survives a JSON round trip (it is stored as JSON)', () => {
    const p = plan({
      build: { script: 'x', only: ['/^ma/'], image: { name: 'a', entrypoint: [''] }, environment: { name: 'e', url: 'u' } },
    });
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
});

describe('YAML and root errors', () => {
  test('a YAML syntax error yields exactly the parser message', () => {
    const text = 'build:\n  script: [echo\n  stage: x: y\n';
    let message = '';
    try {
      Bun.YAML.parse(text);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).not.toBe('');
    expect(errors(text)).toEqual([message]);
  });

  const noJobs: Array<[string, string]> = [
    ['empty file', ''],
    ['comments only', '# nothing here\n'],
    ['only hidden jobs', '.tmpl:\n  script: x\n'],
    ['only globals', 'variables:\n  A: 1\nimage: ruby\n'],
  ];
  test.each(noJobs)('%s → no visible job', (_label, text) => {
    expectError(errors(text), 'root config', 'at least one visible job');
  });

  const notHash: Array<[string, string]> = [
    ['a list', '- a\n- b\n'],
    ['a scalar', 'hello'],
    ['several documents', 'a:\n  script: x\n---\nb:\n  script: y\n'],
  ];
  test.each(notHash)('root that is %s → error', (_label, text) => {
    expectError(errors(text), 'root config should be a hash');
  });

  test.each(['workflow', 'include', 'types', 'spec'])('unsupported global key %s → error naming it', (key) => {
    const errs = errors({ [key]: { rules: [] }, build: { script: 'x' } });
    expectError(errs, 'root config', `unsupported key: ${key}`);
  });

  const unknownRoot: Array<[string, unknown]> = [['string', 'echo hi'], ['list', ['echo']], ['number', 3], ['boolean', true]];
  test.each(unknownRoot)('non-hash top-level key (%s) → error naming it', (_label, value) => {
    const errs = errors({ build: value, test: { script: 'x' } });
    expectError(errs, 'root config', 'unknown key: build');
  });

  test('hidden keys may hold any value (anchor holders)', () => {
    const p = plan('.setup: &setup\n  - echo one\n  - echo two\n.n: 5\nbuild:\n  script: *setup\n');
    expect(job(p, 'build').script).toEqual(['echo one', 'echo two']);
  });

  test('!reference tags are rejected instead of being read as plain lists', () => {
    const text = '.a:\n  script: [x]\nb:\n  script:\n    - !reference [.a, script]\n';
    expectError(errors(text), 'root config', '!reference');
  });

  test('"!reference" inside a quoted script line is fine', () => {
    const p = plan('b:\n  script:\n    - echo "!reference [x]"\n');
    expect(job(p, 'b').script).toEqual(['echo "!reference [x]"']);
  });

  test('errors are collected across jobs, each naming its job', () => {
    const errs = errors({
      a: { script: 1 },
      b: { script: 'x', when: 'later' },
      c: { script: 'x', retry: 5 },
    });
    expect(errs.length).toBe(3);
    expectError(errs, 'jobs:a', 'script');
    expectError(errs, 'jobs:b', 'when');
    expectError(errs, 'jobs:c', 'retry');
  });

  test('job names that clash with Object.prototype members are ordinary jobs', () => {
    const p = plan({ constructor: { script: 'a' }, toString: { script: 'b', variables: { hasOwnProperty: 'x' } } });
    expect(p.jobs.map((j) => j.name)).toEqual(['constructor', 'toString']);
    expect(job(p, 'toString').variables).toEqual({ hasOwnProperty: 'x' });
  });
});

describe('anchors and merge keys', () => {
  test('aliases of scalars, lists and hashes', () => {
    const text = [
      '.vars: &vars',
      '  A: "1"',
      '.script: &script [make, make test]',
      'build:',
      '  image: &img ruby:3',
      '  variables: *vars',
      '  script: *script',
      'test:',
      '  image: *img',
      '  script: *script',
    ].join('\n');
    const p = plan(text);
    expect(job(p, 'build').variables).toEqual({ A: '1' });
    expect(job(p, 'test').image).toEqual({ name: 'ruby:3' });
    expect(job(p, 'test').script).toEqual(['make', 'make test']);
  });

  test('<<: *anchor merges a hash, explicit keys win', () => {
    const text = [
      '.base: &base',
      '  image: ruby',
      '  tags: [docker]',
      '  script: [base]',
      'build:',
      '  <<: *base',
      '  script: [own]',
    ].join('\n');
    const b = job(plan(text), 'build');
    expect(b.image).toEqual({ name: 'ruby' });
    expect(b.tags).toEqual(['docker']);
    expect(b.script).toEqual(['own']);
  });

  test('<<: [*a, *b] — earlier sources win over later ones', () => {
    const text = [
      '.a: &a {image: a, tags: [a]}',
      '.b: &b {image: b, stage: build}',
      'j:',
      '  <<: [*a, *b]',
      '  script: x',
    ].join('\n');
    const j = job(plan(text), 'j');
    expect(j.image).toEqual({ name: 'a' });
    expect(j.tags).toEqual(['a']);
    expect(j.stage).toBe('build');
  });

  test('merge keys inside nested hashes (variables)', () => {
    const text = [
      '.v: &v {A: 1, B: 2}',
      'j:',
      '  script: x',
      '  variables:',
      '    <<: *v',
      '    B: 3',
    ].join('\n');
    expect(job(plan(text), 'j').variables).toEqual({ A: '1', B: '3' });
  });

  test('works even when the YAML parser leaves "<<" keys in place', () => {
    // Simulate a parser without merge-key support.
    const base = { image: 'ruby', script: ['base'], variables: { A: 1 } };
    const raw = {
      '.base': base,
      build: { '<<': base, script: ['own'], variables: { '<<': { B: 2 }, C: 3 } },
      test: { '<<': [{ tags: ['first'] }, { tags: ['second'], stage: 'deploy' }], script: 'x' },
    };
    const spy = spyOn(Bun.YAML, 'parse').mockImplementation(() => raw);
    try {
      const p = plan('ignored');
      const b = job(p, 'build');
      expect(b.image).toEqual({ name: 'ruby' });
      expect(b.script).toEqual(['own']);
      expect(b.variables).toEqual({ B: '2', C: '3' });
      const t = job(p, 'test');
      expect(t.tags).toEqual(['first']);
      expect(t.stage).toBe('deploy');
    } finally {
      spy.mockRestore();
    }
  });

  test('a merge key pointing at a non-hash is an error', () => {
    const spy = spyOn(Bun.YAML, 'parse').mockImplementation(() => ({ j: { '<<': 'oops', script: 'x' } }));
    try {
      expectError(errors('ignored'), 'root config', '<<');
    } finally {
      spy.mockRestore();
    }
  });

  describe('applyMergeKeys', () => {
    const cases: Array<[string, unknown, unknown]> = [
      ['scalar', 5, 5],
      ['null', null, null],
      ['plain hash', { a: 1 }, { a: 1 }],
      ['single source', { '<<': { a: 1, b: 1 }, b: 2 }, { a: 1, b: 2 }],
      ['list of sources', { '<<': [{ a: 1 }, { a: 2, b: 2 }] }, { a: 1, b: 2 }],
      ['nested', { x: [{ '<<': { a: 1 } }] }, { x: [{ a: 1 }] }],
      ['source with its own merge', { '<<': { '<<': { deep: 1 }, a: 1 } }, { a: 1, deep: 1 }],
    ];
    test.each(cases)('%s', (_label, input, expected) => {
      expect(applyMergeKeys(input)).toEqual(expected);
    });

    test('does not mutate its input', () => {
      const input = { '<<': { a: 1 }, b: { '<<': { c: 1 } } };
      const copy = structuredClone(input);
      applyMergeKeys(input);
      expect(input).toEqual(copy);
    });

    test('preserves cycles and shared references', () => {
      const shared: Record<string, unknown> = { v: 1 };
      shared.self = shared;
      const out = applyMergeKeys({ a: shared, b: shared }) as Record<string, Record<string, unknown>>;
      expect(out.a).toBe(out.b);
      expect(out.a.self).toBe(out.a);
    });

    test('throws on a non-hash merge source', () => {
      expect(() => applyMergeKeys({ '<<': [1] })).toThrow();
    });
  });

  test('cyclic YAML aliases do not hang parsing', () => {
    const text = '.t: &t\n  variables: {}\n  self: *t\nj:\n  extends: .t\n  script: x\n';
    expectError(errors(text), 'jobs:j config contains unknown keys: self');
    // Both sides cyclic at the same key: the extends deep merge must stop.
    const both = '.t: &t\n  self: *t\nj:\n  extends: .t\n  self: *t\n  script: x\n';
    expectError(errors(both), 'jobs:j extends', 'nested too deeply');
  });
});

describe('stages', () => {
  test('default stages; job stage defaults to test', () => {
    const p = plan({ a: { script: 'x', stage: 'deploy' }, b: { script: 'x' }, c: { script: 'x', stage: 'build' } });
    expect(p.stages).toEqual(['build', 'test', 'deploy']);
    expect(p.jobs.map((j) => [j.name, j.stage, j.stageIdx])).toEqual([
      ['c', 'build', 0], ['b', 'test', 1], ['a', 'deploy', 2],
    ]);
  });

  test('jobs are ordered by stage, then file order; empty stages are kept', () => {
    const p = plan({
      stages: ['lint', 'compile', 'unused', 'ship'],
      ship2: { stage: 'ship', script: 'x' },
      c1: { stage: 'compile', script: 'x' },
      ship1: { stage: 'ship', script: 'x' },
      lint: { stage: 'lint', script: 'x' },
      c2: { stage: 'compile', script: 'x' },
    });
    expect(p.stages).toEqual(['lint', 'compile', 'unused', 'ship']);
    expect(p.jobs.map((j) => `${j.name}@${j.stageIdx}`)).toEqual(['lint@0', 'c1@1', 'c2@1', 'ship2@3', 'ship1@3']);
  });

  test('.pre and .post are implicit and always first/last', () => {
    const p = plan({
      stages: ['build', '.post', 'test', '.pre'],
      after: { stage: '.post', script: 'x' },
      t: { stage: 'test', script: 'x' },
      before: { stage: '.pre', script: 'x' },
    });
    expect(p.stages).toEqual(['.pre', 'build', 'test', '.post']);
    expect(p.jobs.map((j) => `${j.name}@${j.stageIdx}`)).toEqual(['before@0', 't@2', 'after@3']);
  });

  test('.pre is usable without being declared', () => {
    const p = plan({ setup: { stage: '.pre', script: 'x' }, b: { stage: 'build', script: 'x' } });
    expect(p.stages).toEqual(['.pre', 'build', 'test', 'deploy']);
    expect(job(p, 'setup').stageIdx).toBe(0);
    expect(job(p, 'b').stageIdx).toBe(1);
  });

  test('a pipeline of only .pre/.post jobs does not run', () => {
    expectError(errors({ a: { stage: '.pre', script: 'x' }, b: { stage: '.post', script: 'x' } }), 'root config', '.pre/.post');
  });

  const bad: Array<[string, Config, string[]]> = [
    ['unknown stage', { j: { script: 'x', stage: 'nope' } }, ['jobs:j stage parameter should be .pre, build, test, deploy, .post']],
    ['default stage missing from stages', { stages: ['build'], j: { script: 'x' } }, ['jobs:j stage parameter should be .pre, build, .post']],
    ['stage not a string', { j: { script: 'x', stage: ['build'] } }, ['jobs:j stage config should be a string']],
    ['stages not a list', { stages: 'build', j: { script: 'x' } }, ['stages config should be an array']],
    ['stages with a non-string', { stages: ['build', 3], j: { script: 'x' } }, ['stages config should be an array']],
    ['stages with an empty name', { stages: ['build', ''], j: { script: 'x' } }, ['stages config should be an array']],
    ['duplicate stage', { stages: ['build', 'test', 'build'], j: { script: 'x' } }, ['stages config', 'duplicate stage: build']],
  ];
  test.each(bad)('%s → error', (_label, config, fragments) => {
    expectError(errors(config), ...fragments);
  });
});

describe('scripts', () => {
  const ok: Array<[string, unknown, string[]]> = [
    ['a string', 'make', ['make']],
    ['a list', ['a', 'b'], ['a', 'b']],
    ['nested lists (flattened)', ['a', ['b', ['c', 'd']], 'e'], ['a', 'b', 'c', 'd', 'e']],
    ['multi-line string', 'line1\nline2', ['line1\nline2']],
    ['10 levels deep', [[[[[[[[[['deep']]]]]]]]]], ['deep']],
  ];
  test.each(ok)('script as %s', (_label, script, expected) => {
    expect(job(plan(one({ script })), 'j').script).toEqual(expected);
  });

  test.each(ok)('before_script/after_script as %s', (_label, value, expected) => {
    const j = job(plan(one({ before_script: value, after_script: value })), 'j');
    expect(j.beforeScript).toEqual(expected);
    expect(j.afterScript).toEqual(expected);
  });

  const badValues: Array<[string, unknown]> = [
    ['a number', 5],
    ['a boolean', true],
    ['a hash', { a: 1 }],
    ['a list with a number', ['a', 1]],
    ['a list with a hash', ['a', { b: 'c' }]],
    ['a list with null', ['a', null]],
    ['11 levels deep', [[[[[[[[[[['deep']]]]]]]]]]]],
  ];
  for (const key of ['script', 'before_script', 'after_script']) {
    test.each(badValues)(`${key} as %s → error`, (_label, value) => {
      expectError(errors(one({ [key]: value })), `jobs:j ${key} config should be a string or a nested array of strings up to 10 levels deep`);
    });
  }

  test('missing script → error', () => {
    expectError(errors({ j: { stage: 'test' } }), 'jobs:j', 'script');
  });

  test('null script → error', () => {
    expectError(errors({ j: { script: null } }), 'jobs:j', 'script');
  });

  test('empty script list → error', () => {
    expectError(errors({ j: { script: [] } }), 'jobs:j script', 'empty');
  });

  test('empty before_script is allowed', () => {
    expect(job(plan(one({ before_script: [] })), 'j').beforeScript).toEqual([]);
  });
});

describe('variables', () => {
  test('global variables live on the plan, job variables on the job', () => {
    const p = plan({
      variables: { G: 'g', N: 42, F: 1.5, T: true, FALSE_: false, D: { value: 'dv', description: 'described' }, E: { description: 'only' } },
      j: { script: 'x', variables: { J: 7, _under: 'u', mixedCase9: { value: false } } },
    });
    expect(p.variables).toEqual({ G: 'g', N: '42', F: '1.5', T: 'true', FALSE_: 'false', D: 'dv', E: '' });
    expect(job(p, 'j').variables).toEqual({ J: '7', _under: 'u', mixedCase9: 'false' });
  });

  test('a job without variables gets {} (not the globals)', () => {
    expect(job(plan({ variables: { A: 1 }, j: { script: 'x' } }), 'j').variables).toEqual({});
  });

  const bad: Array<[string, unknown, string]> = [
    ['not a hash', ['A=1'], 'variables config should be a hash of key value pairs'],
    ['a name starting with a digit', { '1A': 'x' }, 'invalid variable name'],
    ['a name with a dash', { 'A-B': 'x' }, 'invalid variable name'],
    ['a name with a space', { 'A B': 'x' }, 'invalid variable name'],
    ['a null value', { A: null }, 'variables:A'],
    ['a list value', { A: [1] }, 'variables:A'],
    ['a hash with unknown keys', { A: { value: 'x', expand: false } }, 'variables:A config contains unknown keys: expand'],
    ['a hash with a non-scalar value', { A: { value: [1] } }, 'variables:A value'],
    ['a hash with a non-string description', { A: { value: 'x', description: 5 } }, 'variables:A description'],
  ];
  test.each(bad)('global variables with %s → error', (_label, value, fragment) => {
    const errs = errors({ variables: value, j: { script: 'x' } });
    expectError(errs, fragment);
    expect(errs.every((e) => !e.includes('jobs:'))).toBe(true);
  });
  test.each(bad)('job variables with %s → error naming the job', (_label, value, fragment) => {
    expectError(errors(one({ variables: value })), 'jobs:j variables', fragment);
  });
});

describe('image and services', () => {
  test('image as a string and as a hash', () => {
    expect(job(plan(one({ image: 'ruby:3' })), 'j').image).toEqual({ name: 'ruby:3' });
    expect(job(plan(one({ image: { name: 'alpine', entrypoint: [''] } })), 'j').image).toEqual({ name: 'alpine', entrypoint: [''] });
  });

  test('services as strings and hashes', () => {
    const services = [
      'redis:7',
      { name: 'postgres:16', alias: 'db', entrypoint: ['docker-entrypoint.sh'], command: ['postgres', '-c', 'fsync=off'] },
      { name: 'mysql' },
    ];
    expect(job(plan(one({ services })), 'j').services).toEqual([
      { name: 'redis:7' },
      { name: 'postgres:16', alias: 'db', entrypoint: ['docker-entrypoint.sh'], command: ['postgres', '-c', 'fsync=off'] },
      { name: 'mysql' },
    ]);
  });

  const badImage: Array<[string, unknown, string]> = [
    ['a number', 5, 'image config should be a string or a hash'],
    ['a list', ['ruby'], 'image config should be a string or a hash'],
    ['an empty string', ' ', 'image config should not be empty'],
    ['a hash without name', { entrypoint: [''] }, 'image:name'],
    ['a hash with unknown keys', { name: 'a', pull_policy: 'always' }, 'image config contains unknown keys: pull_policy'],
    ['a non-list entrypoint', { name: 'a', entrypoint: 'sh' }, 'image:entrypoint config should be an array of strings'],
  ];
  test.each(badImage)('job image as %s → error', (_label, image, fragment) => {
    expectError(errors(one({ image })), `jobs:j ${fragment}`);
  });
  test.each(badImage)('global image as %s → error', (_label, image, fragment) => {
    expectError(errors({ image, j: { script: 'x' } }), fragment);
  });
  test.each(badImage)('default image as %s → error', (_label, image, fragment) => {
    expectError(errors({ default: { image }, j: { script: 'x' } }), `default:${fragment}`);
  });

  const badServices: Array<[string, unknown, string]> = [
    ['a string', 'redis', 'services config should be an array'],
    ['a list with a number', [1], 'services config should be an array'],
    ['a list with an empty string', [''], 'services config should be an array'],
    ['a hash without name', [{ alias: 'x' }], 'services:name'],
    ['a hash with unknown keys', [{ name: 'x', variables: {} }], 'services config contains unknown keys: variables'],
    ['a non-string alias', [{ name: 'x', alias: 1 }], 'services:alias config should be a string'],
    ['a non-list command', [{ name: 'x', command: 'run' }], 'services:command config should be an array of strings'],
    ['a non-list entrypoint', [{ name: 'x', entrypoint: 'run' }], 'services:entrypoint config should be an array of strings'],
  ];
  test.each(badServices)('job services as %s → error', (_label, services, fragment) => {
    expectError(errors(one({ services })), `jobs:j ${fragment}`);
  });
  test.each(badServices)('global services as %s → error', (_label, services, fragment) => {
    expectError(errors({ services, j: { script: 'x' } }), fragment);
  });
});

describe('artifacts', () => {
  test('all supported keys', () => {
    const artifacts: ArtifactsSpec = { name: 'bin-$CI_JOB_NAME', paths: ['out/', 'log.txt'], untracked: true, when: 'always', expire_in: '1 week' };
    expect(job(plan(one({ artifacts })), 'j').artifacts).toEqual(artifacts);
  });

  test.each(['never', 'Never', '30 days', '0', '3600'])('expire_in %p is accepted', (expire_in) => {
    expect(job(plan(one({ artifacts: { paths: ['a'], expire_in } })), 'j').artifacts?.expire_in).toBe(expire_in);
  });

  test('numeric expire_in is kept as a string of seconds', () => {
    expect(job(plan(one({ artifacts: { expire_in: 3600 } })), 'j').artifacts?.expire_in).toBe('3600');
  });

  test.each(['on_success', 'on_failure', 'always'])('when %p', (when) => {
    expect(job(plan(one({ artifacts: { when } })), 'j').artifacts?.when).toBe(when);
  });

  const bad: Array<[string, unknown, string]> = [
    ['a list', ['out/'], 'artifacts config should be a hash'],
    ['reports', { reports: { junit: 'r.xml' } }, 'artifacts config contains unknown keys: reports'],
    ['exclude and expose_as', { exclude: ['x'], expose_as: 'x' }, 'artifacts config contains unknown keys: exclude, expose_as'],
    ['public', { public: false }, 'artifacts config contains unknown keys: public'],
    ['a bad when', { when: 'manual' }, 'artifacts:when config should be on_success, on_failure or always'],
    ['a bad expire_in', { expire_in: 'someday' }, 'artifacts:expire_in config should be a duration'],
    ['a list expire_in', { expire_in: ['1d'] }, 'artifacts:expire_in config should be a duration'],
    ['string paths', { paths: 'out/' }, 'artifacts:paths config should be an array of strings'],
    ['non-boolean untracked', { untracked: 'yes' }, 'artifacts:untracked config should be a boolean'],
    ['non-string name', { name: 5 }, 'artifacts:name config should be a string'],
  ];
  test.each(bad)('artifacts with %s → error', (_label, artifacts, fragment) => {
    expectError(errors(one({ artifacts })), `jobs:j ${fragment}`);
  });
  test.each(bad)('default artifacts with %s → error', (_label, artifacts, fragment) => {
    expectError(errors({ default: { artifacts }, j: { script: 'x' } }), `default:${fragment}`);
  });
});

describe('cache', () => {
  test('all supported keys', () => {
    const cache: CacheSpec = { key: 'deps-$CI_COMMIT_REF_SLUG', paths: ['node_modules/'], untracked: false, policy: 'pull' };
    expect(job(plan(one({ cache })), 'j').cache).toEqual([cache]);
  });

  test.each(['pull', 'push', 'pull-push'])('policy %p', (policy) => {
    expect(job(plan(one({ cache: { policy } })), 'j').cache?.[0]?.policy).toBe(policy);
  });

  test('numeric key becomes a string', () => {
    expect(job(plan(one({ cache: { key: 42 } })), 'j').cache?.[0]?.key).toBe('42');
  });

  const bad: Array<[string, unknown, string]> = [
    ['a list of caches', [{ key: 'a' }], 'cache config should be a hash'],
    ['unknown keys', { key: 'a', when: 'always', fallback_keys: ['b'] }, 'cache config contains unknown keys: when, fallback_keys'],
    ['a files key', { key: { files: ['Gemfile.lock'] } }, 'cache:key config should be a string'],
    ['a key with /', { key: 'a/b' }, 'cache:key config cannot contain "/"'],
    ['a key with %2F', { key: 'a%2fb' }, 'cache:key config cannot contain "/"'],
    ['key "."', { key: '.' }, 'cache:key config cannot be "." or ".."'],
    ['key ".."', { key: '..' }, 'cache:key config cannot be "." or ".."'],
    ['a bad policy', { policy: 'pushpull' }, 'cache:policy config should be pull, push or pull-push'],
    ['string paths', { paths: 'x' }, 'cache:paths config should be an array of strings'],
    ['non-boolean untracked', { untracked: 1 }, 'cache:untracked config should be a boolean'],
  ];
  test.each(bad)('job cache with %s → error', (_label, cache, fragment) => {
    expectError(errors(one({ cache })), `jobs:j ${fragment}`);
  });
  test.each(bad)('global cache with %s → error', (_label, cache, fragment) => {
    const errs = errors({ cache, j: { script: 'x' } });
    expectError(errs, fragment);
    expect(errs.every((e) => !e.includes('jobs:'))).toBe(true);
  });
});

describe('dependencies', () => {
  const base = { stages: ['build', 'test', 'deploy'], b1: { stage: 'build', script: 'x' }, b2: { stage: 'build', script: 'x' } };

  test('undefined = all earlier jobs; [] = none; a list is kept', () => {
    const p = plan({
      ...base,
      all: { stage: 'test', script: 'x' },
      none: { stage: 'test', script: 'x', dependencies: [] },
      some: { stage: 'deploy', script: 'x', dependencies: ['b2', 'all'] },
    });
    expect(job(p, 'all').dependencies).toBeUndefined();
    expect('dependencies' in job(p, 'all')).toBe(false);
    expect(job(p, 'none').dependencies).toEqual([]);
    expect(job(p, 'some').dependencies).toEqual(['b2', 'all']);
  });

  test('a dependency that does not run for this ref is dropped from the list', () => {
    const p = plan({
      ...base,
      tagonly: { stage: 'build', script: 'x', only: ['tags'] },
      t: { stage: 'test', script: 'x', dependencies: ['b1', 'tagonly'] },
    });
    expect(job(p, 't').dependencies).toEqual(['b1']);
    expect(job(plan({
      ...base,
      tagonly: { stage: 'build', script: 'x', only: ['tags'] },
      t: { stage: 'test', script: 'x', dependencies: ['b1', 'tagonly'] },
    }, TAG), 't').dependencies).toEqual(['b1', 'tagonly']);
  });

  const bad: Array<[string, unknown, string]> = [
    ['a job of the same stage', ['peer'], 'jobs:t dependencies config refers to peer, which is not in an earlier stage'],
    ['a job of a later stage', ['d'], 'jobs:t dependencies config refers to d, which is not in an earlier stage'],
    ['itself', ['t'], 'jobs:t dependencies config refers to t, which is not in an earlier stage'],
    ['an undefined job', ['ghost'], 'jobs:t dependencies config refers to an undefined job: ghost'],
    ['a hidden job', ['.hidden'], 'jobs:t dependencies config refers to an undefined job: .hidden'],
    ['a string', 'b1', 'jobs:t dependencies config should be an array of strings'],
    ['a list with a number', [1], 'jobs:t dependencies config should be an array of strings'],
  ];
  test.each(bad)('depending on %s → error', (_label, dependencies, fragment) => {
    const errs = errors({
      ...base,
      '.hidden': { script: 'x', stage: 'build' },
      peer: { stage: 'test', script: 'x' },
      t: { stage: 'test', script: 'x', dependencies },
      d: { stage: 'deploy', script: 'x' },
    });
    expectError(errs, fragment);
  });
});

describe('when and allow_failure', () => {
  const cases: Array<[Config, When, boolean]> = [
    [{}, 'on_success', false],
    [{ when: 'on_success' }, 'on_success', false],
    [{ when: 'on_failure' }, 'on_failure', false],
    [{ when: 'always' }, 'always', false],
    [{ when: 'manual' }, 'manual', true], // manual jobs default to allow_failure: true
    [{ when: 'manual', allow_failure: false }, 'manual', false],
    [{ allow_failure: true }, 'on_success', true],
    [{ when: 'always', allow_failure: false }, 'always', false],
  ];
  test.each(cases)('%j → when %p, allowFailure %p', (keys, when, allowFailure) => {
    const j = job(plan(one(keys)), 'j');
    expect(j.when).toBe(when);
    expect(j.allowFailure).toBe(allowFailure);
  });

  const bad: Array<[Config, string]> = [
    [{ when: 'delayed' }, 'jobs:j when config should be on_success, on_failure, always or manual'],
    [{ when: 'never' }, 'jobs:j when config should be on_success, on_failure, always or manual'],
    [{ when: true }, 'jobs:j when config should be on_success, on_failure, always or manual'],
    [{ allow_failure: 'yes' }, 'jobs:j allow_failure config should be a boolean'],
    [{ allow_failure: { exit_codes: [1] } }, 'jobs:j allow_failure config should be a boolean'],
  ];
  test.each(bad)('%j → error', (keys, fragment) => {
    expectError(errors(one(keys)), fragment);
  });
});

describe('only / except', () => {
  const feature: RefInfo = { name: 'feature/login', tag: false };
  const release: RefInfo = { name: 'release-1.0', tag: false };
  const cases: Array<[string, Config, RefInfo, boolean]> = [
    ['no policy runs everywhere (branch)', {}, MAIN, true],
    ['no policy runs everywhere (tag)', {}, TAG, true],
    ['exact name matches', { only: ['main'] }, MAIN, true],
    ['exact name does not match others', { only: ['main'] }, feature, false],
    ['exact name is not a substring match', { only: ['mai'] }, MAIN, false],
    ['branches matches a branch', { only: ['branches'] }, feature, true],
    ['branches does not match a tag', { only: ['branches'] }, TAG, false],
    ['tags matches a tag', { only: ['tags'] }, TAG, true],
    ['tags does not match a branch', { only: ['tags'] }, MAIN, false],
    ['regex matches', { only: ['/^release-.*$/'] }, release, true],
    ['regex does not match', { only: ['/^release-.*$/'] }, MAIN, false],
    ['regex is unanchored', { only: ['/login/'] }, feature, true],
    ['regex with an escaped slash', { only: ['/^feature\\/.+/'] }, feature, true],
    ['regex is case-sensitive by default', { only: ['/^MAIN$/'] }, MAIN, false],
    ['regex with the i flag', { only: ['/^MAIN$/i'] }, MAIN, true],
    ['regex matches tag names too', { only: ['/^v\\d+/'] }, TAG, true],
    ['any entry may match', { only: ['develop', '/^feature/'] }, feature, true],
    ['refs hash form', { only: { refs: ['main'] } }, MAIN, true],
    ['refs hash form, no match', { only: { refs: ['tags'] } }, MAIN, false],
    ['empty only never runs', { only: [] }, MAIN, false],
    ['except an exact name', { except: ['main'] }, MAIN, false],
    ['except another name', { except: ['main'] }, feature, true],
    ['except tags on a tag', { except: ['tags'] }, TAG, false],
    ['except tags on a branch', { except: ['tags'] }, MAIN, true],
    ['except branches on a tag', { except: ['branches'] }, TAG, true],
    ['except regex', { except: ['/^feature\\//'] }, feature, false],
    ['except refs hash form', { except: { refs: ['/^v/'] } }, TAG, false],
    ['only and except: only matches, except does not', { only: ['branches'], except: ['main'] }, feature, true],
    ['only and except: both match', { only: ['branches'], except: ['main'] }, MAIN, false],
    ['only and except: only does not match', { only: ['tags'], except: ['main'] }, feature, false],
  ];
  test.each(cases)('%s', (_label, keys, ref, runs) => {
    const p = plan({ always: { script: 'x' }, j: { script: 'x', ...keys } }, ref);
    expect(p.jobs.some((x) => x.name === 'j')).toBe(runs);
  });

  test('no job left for the ref → error naming the ref', () => {
    expectError(errors({ a: { script: 'x', only: ['tags'] } }, MAIN), 'root config', 'no jobs', 'branch "main"');
    expectError(errors({ a: { script: 'x', except: ['tags'] } }, TAG), 'root config', 'no jobs', 'tag "v1.2.0"');
  });

  const bad: Array<[string, unknown, string]> = [
    ['a plain string', 'main', 'config should be an array of strings or regular expressions'],
    ['a list with a number', ['main', 1], 'config should be an array of strings or regular expressions'],
    ['a hash without refs', {}, 'config should be an array of strings or regular expressions'],
    ['variables', { refs: ['main'], variables: ['$X'] }, 'config contains unknown keys: variables'],
    ['changes', { changes: ['a/**'] }, 'config contains unknown keys: changes'],
    ['kubernetes', { kubernetes: 'active' }, 'config contains unknown keys: kubernetes'],
    ['an invalid regex', ['/(unclosed/'], 'config contains an invalid regular expression: /(unclosed/'],
    ['an unsupported regex flag', ['/main/g'], 'config regular expression /main/g uses unsupported flags'],
  ];
  for (const key of ['only', 'except']) {
    test.each(bad)(`${key} with %s → error`, (_label, value, fragment) => {
      expectError(errors(one({ [key]: value })), `jobs:j ${key} ${fragment}`);
    });
  }

  const sources = ['api', 'chat', 'external', 'external_pull_requests', 'merge_requests', 'pipelines', 'pushes', 'schedules', 'triggers', 'web'];
  test.each(sources)('pipeline-source keyword %p → error', (keyword) => {
    expectError(errors(one({ except: [keyword] })), 'jobs:j except', `"${keyword}"`, 'not supported');
  });
});

describe('extends', () => {
  test('single parent: hashes deep-merge, job wins, arrays are replaced', () => {
    const p = plan({
      '.base': { image: 'ruby', variables: { A: 'base', B: 'base' }, tags: ['a', 'b'], script: ['base'], artifacts: { paths: ['x'], when: 'always' } },
      j: { extends: '.base', variables: { B: 'job' }, tags: ['c'], artifacts: { paths: ['y'] } },
    });
    const j = job(p, 'j');
    expect(j.image).toEqual({ name: 'ruby' });
    expect(j.variables).toEqual({ A: 'base', B: 'job' });
    expect(j.tags).toEqual(['c']);
    expect(j.script).toEqual(['base']);
    expect(j.artifacts).toEqual({ paths: ['y'], when: 'always' });
  });

  test('multi-level chains resolve from the root down', () => {
    const p = plan({
      '.a': { script: 'a', variables: { L: 'a', A: '1' }, stage: 'build' },
      '.b': { extends: '.a', variables: { L: 'b', B: '1' } },
      '.c': { extends: ['.b'], variables: { L: 'c' }, when: 'manual' },
      j: { extends: '.c', variables: { J: '1' } },
    });
    const j = job(p, 'j');
    expect(j.script).toEqual(['a']);
    expect(j.stage).toBe('build');
    expect(j.when).toBe('manual');
    expect(j.allowFailure).toBe(true);
    expect(j.variables).toEqual({ L: 'c', A: '1', B: '1', J: '1' });
  });

  test('a list of parents: later parents win, the job wins over all', () => {
    const p = plan({
      '.one': { image: 'one', stage: 'build', variables: { X: '1', ONE: 'y' } },
      '.two': { image: 'two', variables: { X: '2', TWO: 'y' }, script: 'two' },
      j: { extends: ['.one', '.two'] },
      k: { extends: ['.two', '.one'], image: 'own' },
    });
    expect(job(p, 'j').image).toEqual({ name: 'two' });
    expect(job(p, 'j').variables).toEqual({ X: '2', ONE: 'y', TWO: 'y' });
    expect(job(p, 'j').stage).toBe('build');
    expect(job(p, 'k').image).toEqual({ name: 'own' });
    expect(job(p, 'k').variables).toEqual({ X: '1', ONE: 'y', TWO: 'y' });
  });

  test('a visible job may be extended', () => {
    const p = plan({ a: { script: 'a', tags: ['t'] }, b: { extends: 'a', script: 'b' } });
    expect(job(p, 'b').tags).toEqual(['t']);
    expect(job(p, 'b').script).toEqual(['b']);
  });

  test('null in the child unsets an inherited key (falls back to default:)', () => {
    const p = plan({ default: { image: 'def' }, '.t': { image: 'tmpl', script: 'x' }, j: { extends: '.t', image: null } });
    expect(job(p, 'j').image).toEqual({ name: 'def' });
  });

  test('hidden templates are not validated on their own', () => {
    const p = plan({ '.odd': { rules: [{ if: 'x' }], retry: 99 }, j: { script: 'x' } });
    expect(p.jobs.map((x) => x.name)).toEqual(['j']);
  });

  test('keys inherited from a template are validated against the job', () => {
    const errs = errors({ '.odd': { rules: [{ if: 'x' }], retry: 99 }, j: { extends: '.odd', script: 'x' } });
    expectError(errs, 'jobs:j config contains unknown keys: rules');
    expectError(errs, 'jobs:j retry');
  });

  test('11 levels of extends are accepted, 12 are not', () => {
    const chain = (levels: number): Config => {
      const c: Config = { '.l0': { script: 'x' } };
      for (let i = 1; i < levels; i++) c[`.l${i}`] = { extends: `.l${i - 1}` };
      c.j = { extends: `.l${levels - 1}` };
      return c;
    };
    expect(job(plan(chain(11)), 'j').script).toEqual(['x']);
    expectError(errors(chain(12)), 'jobs:j extends', 'too deep');
  });

  const bad: Array<[string, Config, string]> = [
    ['an unknown parent', { j: { script: 'x', extends: '.nope' } }, 'jobs:j extends config refers to an unknown job: .nope'],
    ['an unknown parent in a list', { '.a': { script: 'x' }, j: { extends: ['.a', '.nope'] } }, 'jobs:j extends config refers to an unknown job: .nope'],
    ['an unknown grand-parent', { '.a': { extends: '.nope' }, j: { script: 'x', extends: '.a' } }, 'jobs:.a extends config refers to an unknown job: .nope'],
    ['a global key as parent', { variables: { A: 1 }, j: { script: 'x', extends: 'variables' } }, 'jobs:j extends config refers to an unknown job: variables'],
    ['a self-reference', { j: { script: 'x', extends: 'j' } }, 'jobs:j extends config contains a circular dependency: j -> j'],
    ['a two-job cycle', { '.a': { extends: '.b' }, '.b': { extends: '.a' }, j: { script: 'x', extends: '.a' } }, 'circular dependency: j -> .a -> .b -> .a'],
    ['a cycle between visible jobs', { a: { script: 'x', extends: 'b' }, b: { script: 'x', extends: 'a' } }, 'jobs:a extends config contains a circular dependency: a -> b -> a'],
    ['a non-hash parent', { '.a': ['x'], j: { script: 'x', extends: '.a' } }, 'jobs:j extends config refers to .a, which is not a hash'],
    ['a number', { j: { script: 'x', extends: 5 } }, 'jobs:j extends config should be a string or an array of strings'],
    ['an empty list', { j: { script: 'x', extends: [] } }, 'jobs:j extends config should be a string or an array of strings'],
  ];
  test.each(bad)('%s → error', (_label, config, fragment) => {
    expectError(errors(config), fragment);
  });
});

describe('retry', () => {
  const ok: Array<[unknown, number]> = [[0, 0], [1, 1], [2, 2], [{ max: 0 }, 0], [{ max: 2 }, 2], [{}, 0]];
  test.each(ok)('%j → %p', (retry, expected) => {
    expect(job(plan(one({ retry })), 'j').retry.max).toBe(expected);
  });

  const bad: Array<[unknown, string]> = [
    [3, 'jobs:j retry config must be between 0 and 2'],
    [-1, 'jobs:j retry config must be between 0 and 2'],
    [{ max: 5 }, 'jobs:j retry config must be between 0 and 2'],
    [1.5, 'jobs:j retry config should be an integer or a hash with max'],
    ['2', 'jobs:j retry config should be an integer or a hash with max'],
    [{ max: 'x' }, 'jobs:j retry config should be an integer or a hash with max'],
    [{ max: 1, when: ['script_failure'] }, 'jobs:j retry config contains unknown keys: when'],
    [{ max: 1, exit_codes: [1] }, 'jobs:j retry config contains unknown keys: exit_codes'],
  ];
  test.each(bad)('%j → error', (retry, fragment) => {
    expectError(errors(one({ retry })), fragment);
  });
});

describe('timeout', () => {
  const ok: Array<[unknown, number]> = [['1h 30m', 5400], ['3 hours', 10800], ['10 minutes', 600], ['3600', 3600], [120, 120]];
  test.each(ok)('%p → %p seconds', (timeout, expected) => {
    expect(job(plan(one({ timeout })), 'j').timeout).toBe(expected);
  });

  test('absent timeout stays undefined', () => {
    expect(job(plan(one({})), 'j').timeout).toBeUndefined();
  });

  const bad: Array<[unknown, string]> = [
    ['soon', 'jobs:j timeout config should be a duration'],
    [['1h'], 'jobs:j timeout config should be a duration'],
    ['never', 'jobs:j timeout config should be a duration'],
    ['0', 'jobs:j timeout config should be longer than 0 seconds'],
  ];
  test.each(bad)('%p → error', (timeout, fragment) => {
    expectError(errors(one({ timeout })), fragment);
  });
});

describe('environment', () => {
  test.each([
    ['production', { name: 'production', action: 'start' }],
    [{ name: 'review/$CI_COMMIT_REF_SLUG' }, { name: 'review/$CI_COMMIT_REF_SLUG', action: 'start' }],
    [{ name: 'prod', url: 'https://example.com' }, { name: 'prod', url: 'https://example.com', action: 'start' }],
  ] as Array<[unknown, JobPlan['environment']]>)('%j', (environment, expected) => {
    expect(job(plan(one({ environment })), 'j').environment).toEqual(expected);
  });

  const bad: Array<[unknown, string]> = [
    [5, 'jobs:j environment config should be a string or a hash'],
    ['', 'jobs:j environment config should not be empty'],
    [{ url: 'x' }, 'jobs:j environment:name config should be a non-empty string'],
    [{ name: 'p', action: 'stop' }, 'jobs:j environment config contains unknown keys: action'],
    [{ name: 'p', on_stop: 'x', auto_stop_in: '1 day' }, 'jobs:j environment config contains unknown keys: on_stop, auto_stop_in'],
    [{ name: 'p', url: 5 }, 'jobs:j environment:url config should be a string'],
  ];
  test.each(bad)('%j → error', (environment, fragment) => {
    expectError(errors(one({ environment })), fragment);
  });
});

describe('tags', () => {
  test('a list of strings', () => {
    expect(job(plan(one({ tags: ['docker', 'linux'] })), 'j').tags).toEqual(['docker', 'linux']);
  });
  test.each([['docker'], [['a', 1]], [{ a: 1 }]] as Array<[unknown]>)('%j → error', (tags) => {
    expectError(errors(one({ tags })), 'jobs:j tags config should be an array of strings');
  });
});

describe('unsupported job keys are errors, never ignored', () => {
  const keys: Array<[string, unknown]> = [
    ['rules', [{ if: '$CI' }]],
    ['needs', ['a']],
    ['trigger', 'group/project'],
    ['parallel', 2],
    ['resource_group', 'prod'],
    ['release', { tag_name: 'v1' }],
    ['secrets', { A: { vault: 'x' } }],
    ['coverage', '/\\d+%/'],
    ['interruptible', true],
    ['inherit', { default: false }],
    ['include', 'x.yml'],
    ['start_in', '1 hour'],
    ['id_tokens', { T: { aud: 'x' } }],
    ['hooks', { pre_get_sources_script: 'x' }],
    ['pages', { publish: 'public' }],
    ['identity', 'google_cloud'],
    ['manual_confirmation', 'sure?'],
    ['run', [{ name: 'x', script: 'y' }]],
    ['dast_configuration', { site_profile: 'x' }],
    ['scirpt', 'typo'],
  ];
  test.each(keys)('%s', (key, value) => {
    const errs = errors(one({ [key]: value }));
    expectError(errs, `jobs:j config contains unknown keys: ${key}`);
  });

  test('several unknown keys are listed together in file order', () => {
    expectError(errors(one({ rules: [], needs: [], coverage: 'x' })), 'jobs:j config contains unknown keys: rules, needs, coverage');
  });

  test('a key with a null value is still reported', () => {
    expectError(errors('j:\n  script: x\n  rules:\n'), 'jobs:j config contains unknown keys: rules');
  });
});

describe('default: and global inheritance', () => {
  test('job value beats default:, which beats old-style globals', () => {
    const p = plan({
      image: 'global-image',
      services: ['global-svc'],
      before_script: ['global-before'],
      after_script: ['global-after'],
      cache: { key: 'global' },
      default: {
        image: 'default-image',
        services: ['default-svc'],
        before_script: 'default-before',
        after_script: 'default-after',
        cache: { key: 'default' },
        tags: ['default-tag'],
        timeout: '2h',
        retry: 1,
        artifacts: { paths: ['default/'] },
      },
      inherits: { script: 'x' },
      overrides: {
        script: 'x',
        image: 'own',
        services: [],
        before_script: [],
        after_script: 'own-after',
        cache: { key: 'own' },
        tags: ['own'],
        timeout: '5m',
        retry: 0,
        artifacts: { paths: ['own/'] },
      },
    });
    expect(job(p, 'inherits')).toMatchObject({
      image: { name: 'default-image' },
      services: [{ name: 'default-svc' }],
      beforeScript: ['default-before'],
      afterScript: ['default-after'],
      cache: [{ key: 'default' }],
      tags: ['default-tag'],
      timeout: 7200,
      retry: { max: 1 },
      artifacts: { paths: ['default/'] },
    });
    expect(job(p, 'overrides')).toMatchObject({
      image: { name: 'own' },
      services: [],
      beforeScript: [],
      afterScript: ['own-after'],
      cache: [{ key: 'own' }],
      tags: ['own'],
      timeout: 300,
      retry: { max: 0 },
      artifacts: { paths: ['own/'] },
    });
  });

  test('old-style globals apply when default: does not set the key', () => {
    const p = plan({
      image: 'g',
      services: ['s'],
      before_script: 'b',
      after_script: ['a'],
      cache: { paths: ['c'] },
      default: { tags: ['t'] },
      j: { script: 'x' },
    });
    expect(job(p, 'j')).toMatchObject({
      image: { name: 'g' }, services: [{ name: 's' }], beforeScript: ['b'], afterScript: ['a'], cache: [{ paths: ['c'] }], tags: ['t'],
    });
  });

  test('globals never provide tags, timeout, retry or artifacts', () => {
    const errs = errors({ tags: ['x'], j: { script: 'x' } });
    expectError(errs, 'root config', 'unknown key: tags');
  });

  test('inherited values are copies, not shared between jobs', () => {
    const p = plan({ default: { image: { name: 'img', entrypoint: ['a'] }, tags: ['t'] }, a: { script: 'x' }, b: { script: 'x' } });
    expect(job(p, 'a').image).toEqual(job(p, 'b').image);
    expect(job(p, 'a').image).not.toBe(job(p, 'b').image);
    expect(job(p, 'a').tags).not.toBe(job(p, 'b').tags);
  });

  const badDefault: Array<[string, unknown, string]> = [
    ['not a hash', ['x'], 'default config should be a hash'],
    ['interruptible', { interruptible: true }, 'default config contains unknown keys: interruptible'],
    ['variables', { variables: { A: 1 } }, 'default config contains unknown keys: variables'],
    ['hooks and id_tokens', { hooks: {}, id_tokens: {} }, 'default config contains unknown keys: hooks, id_tokens'],
    ['a bad before_script', { before_script: 5 }, 'default:before_script config should be a string or a nested array'],
    ['a bad after_script', { after_script: { a: 1 } }, 'default:after_script config should be a string or a nested array'],
    ['bad tags', { tags: 'x' }, 'default:tags config should be an array of strings'],
    ['a bad timeout', { timeout: 'soon' }, 'default:timeout config should be a duration'],
    ['a bad retry', { retry: 3 }, 'default:retry config must be between 0 and 2'],
    ['bad services', { services: 'redis' }, 'default:services config should be an array'],
    ['a bad cache', { cache: { policy: 'x' } }, 'default:cache:policy config should be pull, push or pull-push'],
  ];
  test.each(badDefault)('default: with %s → error', (_label, value, fragment) => {
    expectError(errors({ default: value, j: { script: 'x' } }), fragment);
  });

  test.each([['before_script', 5], ['after_script', true]] as Array<[string, unknown]>)('global %s of the wrong type → error naming it', (key, value) => {
    const errs = errors({ [key]: value, j: { script: 'x' } });
    expectError(errs, `${key} config should be a string or a nested array`);
    expect(errs.every((e) => !e.includes('jobs:'))).toBe(true);
  });
});

describe('a realistic pipeline', () => {
  const text = `
stages: [build, test, deploy]

variables:
  NODE_ENV: test
  RETRIES: 3

default:
  image: node:22
  tags: [docker]
  before_script:
    - npm ci

.test-template: &test
  stage: test
  cache:
    key: npm
    paths: [node_modules/]
    policy: pull
  artifacts:
    when: always
    expire_in: 1 day
    paths: [coverage/]

build:
  stage: build
  script:
    - npm run build
  artifacts:
    paths: [dist/]
    expire_in: 1 week

unit:
  <<: *test
  script: npm test

lint:
  extends: .test-template
  script: [npm run lint]
  allow_failure: true
  dependencies: []

deploy:
  stage: deploy
  image:
    name: alpine:3
    entrypoint: [""]
  script: ./deploy.sh
  when: manual
  environment:
    name: production
    url: https://example.com
  only:
    - main
    - tags
  dependencies: [build]
  timeout: 30 minutes
  retry:
    max: 1
`;

  test('on main', () => {
    const p = plan(text, MAIN);
    expect(p.stages).toEqual(['build', 'test', 'deploy']);
    expect(p.variables).toEqual({ NODE_ENV: 'test', RETRIES: '3' });
    expect(p.jobs.map((j) => j.name)).toEqual(['build', 'unit', 'lint', 'deploy']);
    expect(job(p, 'unit')).toMatchObject({
      stage: 'test', stageIdx: 1, script: ['npm test'], beforeScript: ['npm ci'], tags: ['docker'],
      cache: [{ key: 'npm', paths: ['node_modules/'], policy: 'pull' }],
      artifacts: { when: 'always', expire_in: '1 day', paths: ['coverage/'] },
    });
    expect(job(p, 'lint')).toMatchObject({ allowFailure: true, dependencies: [], stage: 'test' });
    expect(job(p, 'deploy')).toEqual({
      name: 'deploy', stage: 'deploy', stageIdx: 2,
      beforeScript: ['npm ci'], script: ['./deploy.sh'], afterScript: [],
      image: { name: 'alpine:3', entrypoint: [''] }, services: [], variables: {}, tags: ['docker'],
      dependencies: ['build'], when: 'manual', allowFailure: true, retry: { max: 1, when: ['always'], exit_codes: [] }, timeout: 1800,
      environment: { name: 'production', url: 'https://example.com', action: 'start' },
    });
  });

  test('on a feature branch the deploy job is left out', () => {
    const p = plan(text, { name: 'feature/x', tag: false });
    expect(p.jobs.map((j) => j.name)).toEqual(['build', 'unit', 'lint']);
    expect(p.stages).toEqual(['build', 'test', 'deploy']);
  });

  test('on a tag the deploy job runs', () => {
    expect(plan(text, TAG).jobs.map((j) => j.name)).toContain('deploy');
  });
});
