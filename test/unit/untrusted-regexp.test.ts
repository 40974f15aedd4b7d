/**
 * Unit tests for src/core/untrusted-regexp.ts: user regexes run with RE2 semantics
 * (GitLab's `Gitlab::UntrustedRegexp` and `UntrustedRegexp::RubySyntax`).
 * Facts from GitLab's spec/lib/gitlab/untrusted_regexp_spec.rb, …/ruby_syntax_spec.rb and
 * the RE2 syntax; written as our own tables.
 */
import { describe, test, expect } from 'bun:test';
import {
  compileUntrusted,
  compileSlashPattern,
  isBlankString,
  isValidSlashPattern,
  parseSlashPattern,
  UntrustedRegexpError,
} from '../../src/core/untrusted-regexp';

describe('compileUntrusted: what RE2 accepts', () => {
  const valid = [
    'foo', '', '^release-.*$', '\\d+(\\.\\d+)?', '(?P<name>a)', '(?<name>a)', '(?:a|b)+', '[[:alpha:]]+',
    '\\pL', '\\p{Greek}', '\\PL', '(?i)x', '(?i:x)y', '\\Qa.b\\E', 'a{1000}', 'a{2,5}?', '\\/', '\\x40', '\\x{263a}',
    '\\A\\z', '\\b\\B', '(?s).', '(?m)^$', '(?U)a+', '(?ii)abc', '[^/]', '\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$',
    '\\a\\f\\t\\n\\r\\v', '\\123',
  ];
  for (const source of valid) {
    test(`compiles ${JSON.stringify(source)}`, () => {
      expect(compileUntrusted(source).source).toBe(source);
    });
  }
});

describe('compileUntrusted: what RE2 rejects (typed error naming the problem)', () => {
  const invalid: Array<[source: string, reason: string]> = [
    ['[', 'missing closing ]'],
    ['(', 'missing closing )'],
    ['(?:a', 'missing closing )'],
    [')', 'unexpected )'],
    ['(a)\\1', 'invalid escape sequence'], // backreference
    ['(?P<n>a)(?P=n)', 'invalid or unsupported Perl syntax'],
    ['(?=a)', 'invalid or unsupported Perl syntax'], // look-ahead
    ['(?!a)', 'invalid or unsupported Perl syntax'],
    ['(?<=a)b', 'invalid named capture'], // look-behind
    ['(?<!a)b', 'invalid named capture'],
    ['a**', 'invalid nested repetition operator'],
    ['a++', 'invalid nested repetition operator'], // possessive
    ['*a', 'missing argument to repetition operator'],
    ['a{1001}', 'invalid repeat count'],
    ['(a{1000}){1000}', 'invalid repeat count'],
    ['\\Z', 'invalid escape sequence'],
    ['\\R', 'invalid escape sequence'],
    ['\\h', 'invalid escape sequence'],
    ['\\e', 'invalid escape sequence'],
    ['\\8', 'invalid escape sequence'],
    ['(?x)a', 'invalid or unsupported Perl syntax'],
    ['[z-a]', 'invalid character class range'],
    ['\\p{Nope}', 'invalid character class range'],
  ];
  for (const [source, reason] of invalid) {
    test(`rejects ${JSON.stringify(source)}: ${reason}`, () => {
      let error: unknown;
      try {
        compileUntrusted(source);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UntrustedRegexpError);
      const e = error as UntrustedRegexpError;
      expect(e.reason).toContain(reason);
      expect(e.pattern).toBe(`/${source}/`);
      expect(e.message).toStartWith(`invalid regular expression ${JSON.stringify(`/${source}/`)}: `);
    });
  }

  test('an unknown flag is an error, not ignored', () => {
    expect(() => compileUntrusted('a', 'x')).toThrow('unknown flag `x` (allowed: i, s, m, U)');
    expect(() => compileUntrusted('a', 'g')).toThrow(UntrustedRegexpError);
  });
});

describe('flags become an RE2 (?flags) prefix, as GitLab builds them', () => {
  test('pattern text', () => {
    expect(compileUntrusted('something').pattern).toBe('something');
    expect(compileUntrusted('something', 'i').pattern).toBe('(?i)something');
    expect(compileUntrusted('something', 'im').pattern).toBe('(?im)something');
    expect(compileUntrusted('a', 'ismU').toString()).toBe('/a/ismU');
  });

  const cases: Array<[source: string, flags: string, text: string, matches: boolean]> = [
    // i: case-insensitive (Unicode simple folding)
    ['abc', '', 'ABC', false],
    ['abc', 'i', 'ABC', true],
    ['σ', 'i', 'Σ', true],
    // m: RE2 multi-line, ^ and $ at line breaks
    ['^b$', '', 'a\nb\nc', false],
    ['^b$', 'm', 'a\nb\nc', true],
    ['^\\d', 'm', 'Header\n\n1. Content', true], // untrusted_regexp_spec
    // s: dot matches newline
    ['a.b', '', 'a\nb', false],
    ['a.b', 's', 'a\nb', true],
    // U: ungreedy does not change whether something matches
    ['^a+$', 'U', 'aaa', true],
    // without flags, RE2's own rules
    ['a$', '', 'a\n', false], // $ is end of text only (unlike Ruby/Perl)
    ['a\\z', '', 'a', true],
    ['.', '', '\r', true], // . excludes only \n
    ['.', '', '\n', false],
    ['\\s', '', '\v', false], // RE2 \s is [\t\n\f\r ]
    ['\\s', '', '\t', true],
    ['\\d', '', '٣', false], // ASCII digits only
    ['\\w', '', 'é', false], // ASCII word characters only
    ['\\pL', '', 'é', true],
    ['main', '', 'not-main', true], // unanchored search
    ['^main$', '', 'not-main', false],
    ['MAIN', '', 'main', false], // case-sensitive by default
    ['a\\x40b', '', 'a@b', true],
    ['', '', '', true],
  ];
  for (const [source, flags, text, matches] of cases) {
    test(`/${source}/${flags} on ${JSON.stringify(text)} → ${matches}`, () => {
      expect(compileUntrusted(source, flags).test(text)).toBe(matches);
    });
  }

  test('U swaps greedy and lazy', () => {
    expect(compileUntrusted('a+').exec('aaa')!.match).toBe('aaa');
    expect(compileUntrusted('a+', 'U').exec('aaa')!.match).toBe('a');
    expect(compileUntrusted('a+?', 'U').exec('aaa')!.match).toBe('aaa');
  });
});

describe('parseSlashPattern: GitLab RubySyntax `^/(?<regexp>.*)/(?<flags>[ismU]*)$`', () => {
  const cases: Array<[text: string, expected: { source: string; flags: string } | null]> = [
    ['/foo/', { source: 'foo', flags: '' }],
    ['/foo/i', { source: 'foo', flags: 'i' }],
    ['/foo/ismU', { source: 'foo', flags: 'ismU' }],
    ['/foo/mi', { source: 'foo', flags: 'mi' }],
    ['/some .* thing/', { source: 'some .* thing', flags: '' }],
    ['/some ( thing/', { source: 'some ( thing', flags: '' }], // the syntax matches; RE2 rejects it later
    ['//', { source: '', flags: '' }],
    ['///', { source: '/', flags: '' }],
    ['/a/b/', { source: 'a/b', flags: '' }], // greedy: up to the last slash
    ['/a/i/', { source: 'a/i', flags: '' }],
    ['/a\\/b/', { source: 'a\\/b', flags: '' }], // not unescaped (RE2 reads \/ as /)
    ['/^release-.*$/', { source: '^release-.*$', flags: '' }],
    ['/foo/\n', { source: 'foo', flags: '' }], // Ruby $ matches before a newline
    ['bar\n/foo/', { source: 'foo', flags: '' }], // Ruby ^ matches after a newline
    ['/a\n/b/', { source: 'b', flags: '' }], // the first line that fits
    ['/', null],
    ['', null],
    ['foo', null],
    ['some .* thing', null], // a raw pattern
    ['/foo', null],
    ['foo/', null],
    ['/foo/x', null], // x is not a flag
    ['/foo/ix', null],
    ['/foo/I', null],
    [' /foo/', null],
    ['/foo/ ', null],
    ['/foo/i\r', null],
    ['/a\nb/', null], // . does not cross a newline
  ];
  for (const [text, expected] of cases) {
    test(`${JSON.stringify(text)} → ${JSON.stringify(expected)}`, () => {
      expect(parseSlashPattern(text)).toEqual(expected);
    });
  }

  test('linear on adversarial input (many slashes and flag letters)', () => {
    const text = '/' + '/i'.repeat(100_000) + 'x';
    const t0 = performance.now();
    expect(parseSlashPattern(text)).toBeNull();
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

describe('compileSlashPattern / isValidSlashPattern: RubySyntax.fabricate! / valid?', () => {
  test('fabricates with flags', () => {
    const re = compileSlashPattern('/something/i');
    expect(re.equals(compileUntrusted('(?i)something'))).toBe(true);
    expect(re.equals(compileUntrusted('something', 'i'))).toBe(true);
    expect(re.scan('SOMETHING')).toEqual(['SOMETHING']);
    expect(compileSlashPattern('/something/im').pattern).toBe('(?im)something');
    expect(compileSlashPattern('/something/').pattern).toBe('something');
    expect(compileSlashPattern('//').test('anything')).toBe(true);
  });

  test('errors', () => {
    expect(() => compileSlashPattern('some .* thing')).toThrow('invalid regular expression "some .* thing": not of the form /pattern/flags');
    expect(() => compileSlashPattern('/some ( thing/')).toThrow(UntrustedRegexpError);
    expect(() => compileSlashPattern('/(?=x)/')).toThrow('invalid or unsupported Perl syntax');
  });

  const validity: Array<[value: unknown, valid: boolean]> = [
    ['/some .* thing/', true],
    ['/^release-.*$/', true],
    ['/^stable-branch.*$/', true],
    ['/issue/i', true],
    ['//', true],
    ['/some ( thing/', false],
    ['/(a)\\1/', false],
    ['/(?<=a)b/', false],
    ['some .* thing', false],
    ['/foo/x', false],
    [null, false],
    [undefined, false],
    [5, false],
    [['/a/'], false],
    [{}, false],
  ];
  for (const [value, valid] of validity) {
    test(`isValidSlashPattern(${JSON.stringify(value)}) → ${valid}`, () => {
      expect(isValidSlashPattern(value)).toBe(valid);
    });
  }
});

describe('scan / exec / matchAll (GitLab UntrustedRegexp#scan, #match)', () => {
  const scans: Array<[source: string, text: string, expected: unknown]> = [
    ['', 'foo', ['', '', '', '']], // an empty match at every position, the end included
    ['()', 'foo', [[''], [''], [''], ['']]],
    ['.+', 'foo', ['foo']],
    ['(f).+', 'foo', [['f']]],
    ['(f).(o)', 'foo', [['f', 'o']]],
    ['o', 'foo', ['o', 'o']],
    ['a*', 'baab', ['', 'aa', '', '']],
    ['(a)|(b)', 'ab', [['a', undefined], [undefined, 'b']]],
    ['x', 'foo', []],
    ['\\d+(\\.\\d+)?%', 'lines 10.5% branches 20%', [['.5'], [undefined]]],
  ];
  for (const [source, text, expected] of scans) {
    test(`/${source}/.scan(${JSON.stringify(text)})`, () => {
      expect(compileUntrusted(source).scan(text)).toEqual(expected as never);
    });
  }

  test('named groups (extract_named_group)', () => {
    const re = compileUntrusted('(?P<name>\\w+) (?P<age>\\d+)|(?P<name_only>\\w+)');
    expect(re.exec('Bob 40')!.named).toEqual({ name: 'Bob', age: '40', name_only: undefined });
    expect(re.exec('Bob')!.named).toEqual({ name: undefined, age: undefined, name_only: 'Bob' });
    expect(re.groupCount).toBe(3);
  });

  test('exec: first match with index and captures, or null', () => {
    const re = compileUntrusted('(?P<number>\\d+)');
    expect(re.exec('hello 10')).toEqual({ index: 6, match: '10', captures: ['10'], named: { number: '10' } });
    expect(re.exec('hello')).toBeNull();
  });

  test('matchAll: every match in order', () => {
    const all = [...compileUntrusted('(\\d+)%').matchAll('a 1% b 22% c 333%')];
    expect(all.map((m) => [m.index, m.match, m.captures[0]])).toEqual([[2, '1%', '1'], [7, '22%', '22'], [13, '333%', '333']]);
  });

  test('coverage: the last line (from the end) with a match, the last match on it', () => {
    // ci-yaml.md §8: the log is read from the last line backwards; on the first line with a
    // match, `matches.flatten.last` is taken (the last group of the last match, or the match).
    const log = ['Coverage: 10.00%', 'TOTAL 42.5% and 43.75%', 'done', ''].join('\n');
    const lastOnLine = (source: string) => {
      const re = compileUntrusted(source);
      for (const line of log.split('\n').reverse()) {
        const found = re.scan(line).flat();
        if (found.length > 0) return found.at(-1);
      }
      return null;
    };
    expect(lastOnLine('\\d+\\.\\d+%')).toBe('43.75%');
    expect(lastOnLine('(\\d+)\\.(\\d+)%')).toBe('75');
    expect(lastOnLine('Coverage: \\d+\\.\\d+')).toBe('Coverage: 10.00');
    expect(lastOnLine('nothing')).toBeNull();
  });
});

describe('isMatch: GitLab UntrustedRegexp#match? (refs, input regex)', () => {
  const cases: Array<[source: string, text: string | null | undefined, allowEmptyString: boolean, expected: boolean]> = [
    ['foo', 'foo', false, true],
    ['boo', 'foo', false, false],
    ['^release-.*$', 'release-1.0', false, true],
    ['^release-.*$', 'main', false, false],
    ['', '', false, false], // blank text never matches by default
    ['^$', '', false, false],
    ['^\\s*$', '   ', false, false], // whitespace only is blank too
    ['^$', '', true, true], // input regex checks allow the empty string
    ['^\\s*$', '   ', true, true],
    ['a', null, false, false],
    ['a', undefined, true, false],
  ];
  for (const [source, text, allowEmptyString, expected] of cases) {
    test(`/${source}/.isMatch(${JSON.stringify(text)}, allowEmptyString: ${allowEmptyString}) → ${expected}`, () => {
      expect(compileUntrusted(source).isMatch(text, { allowEmptyString })).toBe(expected);
    });
  }
});

describe('isBlankString: ActiveSupport String#blank?', () => {
  const cases: Array<[string, boolean]> = [
    ['', true], [' ', true], ['\t\n\v\f\r ', true], ['\u00a0', true], ['\u2003', true], ['\u3000', true],
    ['\u0085', true], ['\u2028', true], ['\ufeff', false], ['a', false], [' a ', false], ['0', false], ['false', false],
  ];
  for (const [s, blank] of cases) {
    test(`${JSON.stringify(s)} → ${blank}`, () => expect(isBlankString(s)).toBe(blank));
  }
});

describe('linear time: catastrophic patterns finish on 100 KB inputs', () => {
  // Each of these takes exponential (or high polynomial) time in a backtracking engine such as
  // JavaScript's RegExp on these inputs: the test would hang there. RE2 needs milliseconds.
  const evil = 'a'.repeat(100_000) + 'b';
  const cases: Array<[source: string, text: string, matches: boolean]> = [
    ['(a+)+$', evil, false],
    ['^(a+)+$', evil, false],
    ['(a|a)*c', evil, false],
    ['(a|aa)+$', evil, false],
    ['^(a|aa)+$', evil, false],
    ['(a*)*c', evil, false],
    ['(.*a){20}c', evil, false],
    ['(\\w+\\s?)+$', 'a'.repeat(100_000) + '!', false],
    ['^(([a-z])+.)+[A-Z]([a-z])+$', 'a'.repeat(100_000) + '!', false],
    ['(x+x+)+y', 'x'.repeat(100_000), false],
    ['(a+)+b', evil, true],
  ];
  for (const [source, text, matches] of cases) {
    test(`/${source}/ on ${text.length} characters`, () => {
      const re = compileUntrusted(source);
      const t0 = performance.now();
      expect(re.test(text)).toBe(matches);
      expect(re.exec(text) !== null).toBe(matches);
      expect(re.scan(text).length > 0).toBe(matches);
      expect(performance.now() - t0).toBeLessThan(1000);
    });
  }

  test('a 1 MB log line by line', () => {
    const re = compileUntrusted('(\\d+(\\.\\d+)*)+%');
    const line = '1.'.repeat(40) + 'x';
    const log = Array.from({ length: 12_000 }, () => line).join('\n');
    expect(log.length).toBeGreaterThan(900_000);
    const t0 = performance.now();
    let hits = 0;
    for (const l of log.split('\n')) if (re.test(l)) hits++;
    expect(hits).toBe(0);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
