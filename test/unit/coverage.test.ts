/**
 * `coverage:` through the one user-regex module (core/untrusted-regexp.ts): the `/…/flags`
 * literal parsed as GitLab's RubySyntax, RE2 semantics, GitLab's `scan(line).flatten.last`
 * on the last matching line. Lines are given last first, as the scan reads the log.
 */
import { describe, expect, test } from 'bun:test';
import { coverageOf } from '../../src/core/coverage';

const LOG = ['Coverage: 10.00%', 'COVERAGE 33%', 'TOTAL 42.5% and 43.75%', 'path /src/lib: 71%', 'done', ''];
const lastFirst = [...LOG].reverse();

describe('coverageOf', () => {
  const CASES: [pattern: string, expected: number | null, why: string][] = [
    ['/\\d+\\.\\d+%/', 43.75, 'the last match on the last matching line'],
    ['/(\\d+)\\.(\\d+)%/', 75, 'with groups: the last group of the last match'],
    ['/Coverage: \\d+\\.\\d+/', 10, 'the first number in the match'],
    ['/coverage \\d+%/i', 33, 'the i flag (an RE2 (?i) prefix)'],
    ['/coverage \\d+%/', null, 'case-sensitive without it'],
    ['/\\/src\\/lib: (\\d+)%/', 71, 'escaped slashes inside the literal'],
    ['/(?:TOTAL) (\\d+)/', 42, 'non-capturing groups'],
    ['/(x)?TOTAL/', null, 'a last group that took no part: GitLab gives up'],
    ['/nothing/', null, 'no line matches'],
    ['/done/', null, 'a match without a number: earlier lines are looked at, none has the word'],
    ['/(?<=TOTAL )\\d+/', null, 'look-behind: RE2 refuses it, no coverage'],
    ['/(a+)+$/', null, 'a pattern that backtracks elsewhere runs linearly here'],
    ['\\d+%', null, 'not a /…/ literal'],
    ['/\\d+%/x', null, 'an unknown flag: not a RubySyntax literal'],
  ];
  for (const [pattern, expected, why] of CASES) {
    test(`${pattern} → ${expected} (${why})`, () => {
      expect(coverageOf(pattern, lastFirst)).toBe(expected);
    });
  }

  test('a line without a number in the match is skipped for an earlier one', () => {
    expect(coverageOf('/Coverage:? ?\\S*/i', ['Coverage: n/a', 'Coverage: 12.5%'])).toBe(12.5);
  });
});
