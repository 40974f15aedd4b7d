/**
 * The `rules:if` expression language (src/core/ci-config/expressions/), as a contract table.
 *
 * Sources of the rows: GitLab's docs (doc/ci/jobs/job_rules.md "CI/CD variable expressions",
 * "Negate expressions", "Compare a variable to a regular expression", "Store a regular
 * expression in a variable", troubleshooting), GitLab's specs for the expression classes
 * (spec/lib/gitlab/ci/pipeline/expression/statement_spec.rb, parser_spec.rb, lexer_spec.rb,
 * lexeme/*_spec.rb) taken as facts, and the derived cases of /work/shared/spec/ci-yaml.md §4.3.
 * Rows marked (source) follow GitLab's Ruby source where no doc or spec states the case.
 */
import { describe, test, expect } from 'bun:test';
import {
  evaluateExpression,
  evaluateExpressionValue,
  inputNames,
  inspectExpression,
  isTruthful,
  parseExpression,
  validateExpression,
  type ExpressionErrorKind,
  type InputValue,
} from '../../../src/core/ci-config/expressions';
import { tokenize, _scanPatternForTest } from '../../../src/core/ci-config/expressions/lexer';
import { UntrustedRegexp } from '../../../src/core/untrusted-regexp';

type Vars = Record<string, string>;
const lookup = (vars: Vars) => (name: string) => (Object.hasOwn(vars, name) ? vars[name] : undefined);

function mustParse(text: string) {
  const parsed = parseExpression(text);
  if (!parsed.ok) throw new Error(`${text}: ${parsed.error.message}`);
  return parsed.expr;
}

/** The value of the expression before `present?`; patterns shown as their RE2 text. */
function valueOf(text: string, vars: Vars, inputs?: Record<string, InputValue>) {
  const value = evaluateExpressionValue(mustParse(text), lookup(vars), inputs && ((n) => inputs[n]));
  return value instanceof UntrustedRegexp ? { regexp: value.pattern } : value;
}

// statement_spec.rb's variables
const STATEMENT_VARS: Vars = {
  PRESENT_VARIABLE: 'my variable',
  PATH_VARIABLE: 'a/path/variable/value',
  FULL_PATH_VARIABLE: '/a/full/path/variable/value',
  EMPTY_VARIABLE: '',
};

describe('values (Statement#evaluate) with PRESENT/PATH/FULL_PATH/EMPTY variables', () => {
  const rows: Array<[expression: string, value: unknown]> = [
    ['$PRESENT_VARIABLE == "my variable"', true],
    ['"my variable" == $PRESENT_VARIABLE', true],
    ['$PRESENT_VARIABLE == null', false],
    ['$EMPTY_VARIABLE == null', false],
    ['"" == $EMPTY_VARIABLE', true],
    ['$EMPTY_VARIABLE', ''],
    ['$UNDEFINED_VARIABLE == null', true],
    ['null == $UNDEFINED_VARIABLE', true],
    ['$PRESENT_VARIABLE', 'my variable'],
    ['$UNDEFINED_VARIABLE', null],
    ['$PRESENT_VARIABLE =~ /var.*e$/', true],
    [String.raw`$PRESENT_VARIABLE =~ /va\r.*e$/`, false],
    [String.raw`$PRESENT_VARIABLE =~ /va\/r.*e$/`, false],
    ['$PRESENT_VARIABLE =~ /^var.*/', false],
    ['$EMPTY_VARIABLE =~ /var.*/', false],
    ['$UNDEFINED_VARIABLE =~ /var.*/', false],
    ['$PRESENT_VARIABLE =~ /VAR.*/i', true],
    [String.raw`$PATH_VARIABLE =~ /path\/variable/`, true],
    [String.raw`$FULL_PATH_VARIABLE =~ /^\/a\/full\/path\/variable\/value$/`, true],
    [String.raw`$FULL_PATH_VARIABLE =~ /\/path\/variable\/value$/`, true],
    ['$PRESENT_VARIABLE != "my variable"', false],
    ['"my variable" != $PRESENT_VARIABLE', false],
    ['$PRESENT_VARIABLE != null', true],
    ['$EMPTY_VARIABLE != null', true],
    ['"" != $EMPTY_VARIABLE', false],
    ['$UNDEFINED_VARIABLE != null', false],
    ['null != $UNDEFINED_VARIABLE', false],
    ['$PRESENT_VARIABLE !~ /var.*e$/', false],
    ['$PRESENT_VARIABLE !~ /^var.*/', true],
    [String.raw`$PRESENT_VARIABLE !~ /^v\ar.*/`, true],
    [String.raw`$PRESENT_VARIABLE !~ /^v\/ar.*/`, true],
    ['$EMPTY_VARIABLE !~ /var.*/', true],
    ['$UNDEFINED_VARIABLE !~ /var.*/', true],
    ['$PRESENT_VARIABLE !~ /VAR.*/i', false],

    // && returns an operand (Ruby semantics: only null and false are falsy)
    ['$PRESENT_VARIABLE && "string"', 'string'],
    ['$PRESENT_VARIABLE && $PRESENT_VARIABLE', 'my variable'],
    ['$PRESENT_VARIABLE && $EMPTY_VARIABLE', ''],
    ['$PRESENT_VARIABLE && null', null],
    ['"string" && $PRESENT_VARIABLE', 'my variable'],
    ['$EMPTY_VARIABLE && $PRESENT_VARIABLE', 'my variable'],
    ['null && $PRESENT_VARIABLE', null],
    ['$EMPTY_VARIABLE && "string"', 'string'],
    ['$EMPTY_VARIABLE && $EMPTY_VARIABLE', ''],
    ['"string" && $EMPTY_VARIABLE', ''],
    ['"string" && null', null],
    ['null && "string"', null],
    ['"string" && "string"', 'string'],
    ['null && null', null],

    ['$PRESENT_VARIABLE =~ /my var/ && $EMPTY_VARIABLE =~ /nope/', false],
    ['$EMPTY_VARIABLE == "" && $PRESENT_VARIABLE', 'my variable'],
    ['$EMPTY_VARIABLE == "" && $PRESENT_VARIABLE != "nope"', true],
    ['$PRESENT_VARIABLE && $UNDEFINED_VARIABLE', null],
    ['$UNDEFINED_VARIABLE && $EMPTY_VARIABLE', null],
    ['$UNDEFINED_VARIABLE && $PRESENT_VARIABLE', null],

    [String.raw`$FULL_PATH_VARIABLE =~ /^\/a\/full\/path\/variable\/value$/ && $PATH_VARIABLE =~ /path\/variable/`, true],
    [String.raw`$FULL_PATH_VARIABLE =~ /^\/a\/bad\/path\/variable\/value$/ && $PATH_VARIABLE =~ /path\/variable/`, false],
    [String.raw`$FULL_PATH_VARIABLE =~ /^\/a\/full\/path\/variable\/value$/ && $PATH_VARIABLE =~ /bad\/path\/variable/`, false],
    [String.raw`$FULL_PATH_VARIABLE =~ /^\/a\/bad\/path\/variable\/value$/ && $PATH_VARIABLE =~ /bad\/path\/variable/`, false],
    [String.raw`$FULL_PATH_VARIABLE =~ /^\/a\/full\/path\/variable\/value$/ || $PATH_VARIABLE =~ /path\/variable/`, true],
    [String.raw`$FULL_PATH_VARIABLE =~ /^\/a\/bad\/path\/variable\/value$/ || $PATH_VARIABLE =~ /path\/variable/`, true],
    [String.raw`$FULL_PATH_VARIABLE =~ /^\/a\/full\/path\/variable\/value$/ || $PATH_VARIABLE =~ /bad\/path\/variable/`, true],
    [String.raw`$FULL_PATH_VARIABLE =~ /^\/a\/bad\/path\/variable\/value$/ || $PATH_VARIABLE =~ /bad\/path\/variable/`, false],

    ['$PRESENT_VARIABLE =~ /my var/ || $EMPTY_VARIABLE =~ /nope/', true],
    ['$EMPTY_VARIABLE == "" || $PRESENT_VARIABLE', true],
    ['$PRESENT_VARIABLE != "nope" || $EMPTY_VARIABLE == ""', true],
    ['$PRESENT_VARIABLE && null || $EMPTY_VARIABLE == ""', true],
    ['$PRESENT_VARIABLE || $UNDEFINED_VARIABLE', 'my variable'],
    ['$UNDEFINED_VARIABLE || $PRESENT_VARIABLE', 'my variable'],
    ['$UNDEFINED_VARIABLE == null || $PRESENT_VARIABLE', true],
    ['$PRESENT_VARIABLE || $UNDEFINED_VARIABLE == null', 'my variable'],
    ['$EMPTY_VARIABLE || $PRESENT_VARIABLE', ''], // "" is truthy inside ||
    ['$UNDEFINED_VARIABLE || null', null],
    ['null || $EMPTY_VARIABLE', ''],

    // parentheses
    ['($PRESENT_VARIABLE)', 'my variable'],
    ['(($PRESENT_VARIABLE))', 'my variable'],
    ['(($PRESENT_VARIABLE && null) || $EMPTY_VARIABLE == "")', true],
    ['($PRESENT_VARIABLE) && (null || $EMPTY_VARIABLE == "")', true],
    ['("string" || "test") == "string"', true],
    ['(null || ("test" == "string"))', false],
    ['("string" == ("test" && "string"))', true],
    ['("string" == ("test" || "string"))', false],
    ['("string" == "test" || "string")', 'string'],
    ['("string" == ("string" || (("1" == "1") && ("2" == "3"))))', true],

    // literals
    ['"text"', 'text'],
    ["'text'", 'text'],
    ['""', ''],
    ['null', null],
    ['true', true],
    ['false', false],
    ['/ab/', { regexp: 'ab' }],
    ['/ab/i', { regexp: '(?i)ab' }],
    [String.raw`/a\/b/m`, { regexp: '(?m)a/b' }],
    ['!$PRESENT_VARIABLE', false],
    ['!$EMPTY_VARIABLE', true],
    ['!$UNDEFINED_VARIABLE', true],
  ];
  for (const [expression, value] of rows) {
    test(`${expression} → ${JSON.stringify(value)}`, () => {
      expect(valueOf(expression, STATEMENT_VARS)).toEqual(value as never);
    });
  }
});

describe('truthful? (what rules:if decides)', () => {
  const rows: Array<[expression: string, vars: Vars, expected: boolean]> = [
    // statement_spec #truthful?
    ['$PRESENT_VARIABLE == "my variable"', STATEMENT_VARS, true],
    ["$PRESENT_VARIABLE == 'no match'", STATEMENT_VARS, false],
    ['$UNDEFINED_VARIABLE == null', STATEMENT_VARS, true],
    ['$PRESENT_VARIABLE', STATEMENT_VARS, true],
    ['$UNDEFINED_VARIABLE', STATEMENT_VARS, false],
    ['$EMPTY_VARIABLE', STATEMENT_VARS, false],
    ['$INVALID = 1', STATEMENT_VARS, false], // a syntax error is false
    ['$PRESENT_VARIABLE =~ /var.*/', STATEMENT_VARS, true],
    ['$UNDEFINED_VARIABLE =~ /var.*/', STATEMENT_VARS, false],
    ['$PRESENT_VARIABLE !~ /var.*/', STATEMENT_VARS, false],
    ['$UNDEFINED_VARIABLE !~ /var.*/', STATEMENT_VARS, true],

    // statement_spec: variables holding patterns (GitLab 15.0+)
    ['$teststring =~ "abcde"', { teststring: 'abcde' }, true],
    ['$teststring =~ $teststring', { teststring: 'abcde' }, true],
    ['$teststring =~ $pattern1', { teststring: 'abcde', pattern1: '/^ab.*/' }, true],
    ['$teststring =~ $pattern2', { teststring: 'abcde', pattern2: '/^at.*/' }, false],

    // job_rules.md: common clauses with predefined variables
    ['$CI_PIPELINE_SOURCE == "merge_request_event"', { CI_PIPELINE_SOURCE: 'merge_request_event' }, true],
    ['$CI_PIPELINE_SOURCE == "merge_request_event"', { CI_PIPELINE_SOURCE: 'push' }, false],
    ['$CI_PIPELINE_SOURCE == "schedule"', { CI_PIPELINE_SOURCE: 'schedule' }, true],
    ['$CI_PIPELINE_SOURCE == "push"', { CI_PIPELINE_SOURCE: 'web' }, false],
    ['$CI_COMMIT_TAG', { CI_COMMIT_TAG: 'v1.0.0' }, true],
    ['$CI_COMMIT_TAG', { CI_COMMIT_BRANCH: 'main' }, false],
    ['$CI_COMMIT_BRANCH', { CI_COMMIT_BRANCH: 'feature' }, true],
    ['$CI_COMMIT_BRANCH', { CI_COMMIT_TAG: 'v1' }, false],
    ['$CI_COMMIT_BRANCH == "main"', { CI_COMMIT_BRANCH: 'main' }, true],
    ['$CI_COMMIT_BRANCH == "main"', { CI_COMMIT_BRANCH: 'mainline' }, false],
    ['$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH', { CI_COMMIT_BRANCH: 'trunk', CI_DEFAULT_BRANCH: 'trunk' }, true],
    ['$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH', { CI_COMMIT_BRANCH: 'dev', CI_DEFAULT_BRANCH: 'trunk' }, false],
    ['$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH', { CI_DEFAULT_BRANCH: 'main' }, false], // tag pipeline
    ['$CI_COMMIT_BRANCH =~ /regex-expression/', { CI_COMMIT_BRANCH: 'my-regex-expression-branch' }, true],
    ['$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_COMMIT_TITLE =~ /Merge branch.*/',
      { CI_COMMIT_BRANCH: 'main', CI_DEFAULT_BRANCH: 'main', CI_COMMIT_TITLE: "Merge branch 'x' into 'main'" }, true],
    ['$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_COMMIT_TITLE =~ /Merge branch.*/',
      { CI_COMMIT_BRANCH: 'main', CI_DEFAULT_BRANCH: 'main', CI_COMMIT_TITLE: 'Fix typo' }, false],
    ['$CUSTOM_VARIABLE == "value1"', { CUSTOM_VARIABLE: 'value1' }, true],
    ['$CUSTOM_VARIABLE == "value1"', { CUSTOM_VARIABLE: 'value10' }, false],
    ['($CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH || $CI_COMMIT_BRANCH == "develop") && $MY_VARIABLE',
      { CI_COMMIT_BRANCH: 'develop', CI_DEFAULT_BRANCH: 'main', MY_VARIABLE: '1' }, true],
    ['($CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH || $CI_COMMIT_BRANCH == "develop") && $MY_VARIABLE',
      { CI_COMMIT_BRANCH: 'develop', CI_DEFAULT_BRANCH: 'main' }, false],
    ['($CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH || $CI_COMMIT_BRANCH == "develop") && $MY_VARIABLE',
      { CI_COMMIT_BRANCH: 'main', CI_DEFAULT_BRANCH: 'main', MY_VARIABLE: 'x' }, true],
    ['$CUSTOM_VARIABLE == "false"', { CUSTOM_VARIABLE: 'false' }, true],
    ['$CUSTOM_VARIABLE == "true" && $CI_PIPELINE_SOURCE == "merge_request_event"',
      { CUSTOM_VARIABLE: 'true', CI_PIPELINE_SOURCE: 'merge_request_event' }, true],
    ['$CUSTOM_VARIABLE == "true" && $CI_PIPELINE_SOURCE == "merge_request_event"',
      { CUSTOM_VARIABLE: 'true', CI_PIPELINE_SOURCE: 'push' }, false],
    ['$VAR == "string value"', { VAR: 'string value' }, true],
    ['$CI_COMMIT_BRANCH =~ /^stable-branch.*$/', { CI_COMMIT_BRANCH: 'stable-branch-1' }, true],
    ['$CI_COMMIT_BRANCH =~ /^stable-branch.*$/', { CI_COMMIT_BRANCH: 'unstable-branch' }, false],
    ['$CI_COMMIT_BRANCH =~ /^issue-.*$/', { CI_COMMIT_BRANCH: 'issue-42' }, true],
    ['$CI_COMMIT_BRANCH != $CI_DEFAULT_BRANCH', { CI_COMMIT_BRANCH: 'feature', CI_DEFAULT_BRANCH: 'main' }, true],
    ['$CI_COMMIT_BRANCH != $CI_DEFAULT_BRANCH', { CI_COMMIT_TAG: 'v1', CI_DEFAULT_BRANCH: 'main' }, true], // null != "main"

    // job_rules.md: CI/CD variable expressions
    ['$VARIABLE == "some value"', { VARIABLE: 'some value' }, true],
    ["$VARIABLE == 'some value'", { VARIABLE: 'some value' }, true], // both quotes
    ['$VARIABLE != "some value"', { VARIABLE: 'other' }, true],
    ['$VARIABLE_1 == $VARIABLE_2', { VARIABLE_1: 'a', VARIABLE_2: 'a' }, true],
    ['$VARIABLE_1 != $VARIABLE_2', { VARIABLE_1: 'a', VARIABLE_2: 'b' }, true],
    ['$VARIABLE == null', {}, true],
    ['$VARIABLE == null', { VARIABLE: '' }, false],
    ['$VARIABLE != null', { VARIABLE: '' }, true],
    ['$VARIABLE == ""', { VARIABLE: '' }, true],
    ['$VARIABLE == ""', {}, false],
    ['$VARIABLE != ""', {}, true],
    ['$VARIABLE', { VARIABLE: 'x' }, true],
    ['$VARIABLE', { VARIABLE: '' }, false],
    ['$VARIABLE', {}, false],
    ['$VARIABLE =~ /^content.*/', { VARIABLE: 'content-type' }, true],
    ['$VARIABLE !~ /^content.*/', { VARIABLE: 'content-type' }, false],
    ['$VARIABLE !~ /^content.*/', { VARIABLE: 'discontent' }, true],
    ['$VARIABLE =~ /pattern/i', { VARIABLE: 'A PATTERN' }, true],
    ['$VARIABLE =~ /pattern/', { VARIABLE: 'A PATTERN' }, false], // case-sensitive by default
    ['$CI_COMMIT_BRANCH =~ /^issue-.*$/', { CI_COMMIT_BRANCH: 'severe-issues' }, false],
    ['$CI_COMMIT_BRANCH =~ /^issue-/', { CI_COMMIT_BRANCH: 'issue-1' }, true],
    ['$CI_COMMIT_BRANCH =~ /issue/', { CI_COMMIT_BRANCH: 'severe-issues' }, true], // unanchored
    [String.raw`$REF =~ /^user\x40example$/`, { REF: 'user@example' }, true], // @ as \x40

    // job_rules.md: a regular expression stored in a variable
    ['$teststring =~ $pattern', { pattern: '/^ab.*/', teststring: 'abcde' }, true],
    ['$teststring =~ $pattern', { pattern: '/^ab.*/', teststring: 'fghij' }, false],
    // variables inside a pattern are not expanded
    ['$CI_JOB_NAME =~ /$string1/', { string1: 'regex-job1', CI_JOB_NAME: 'regex-job1' }, false],
    ['$CI_JOB_NAME =~ $pattern', { string2: 'regex-job2', pattern: '/$string2/', CI_JOB_NAME: 'regex-job2' }, false],

    // job_rules.md: joining expressions
    ['$VARIABLE1 =~ /^content.*/ && $VARIABLE2 == "something"', { VARIABLE1: 'content', VARIABLE2: 'something' }, true],
    ['$VARIABLE1 =~ /^content.*/ && $VARIABLE2 =~ /thing$/ && $VARIABLE3', { VARIABLE1: 'content', VARIABLE2: 'something', VARIABLE3: 'x' }, true],
    ['$VARIABLE1 =~ /^content.*/ && $VARIABLE2 =~ /thing$/ && $VARIABLE3', { VARIABLE1: 'content', VARIABLE2: 'something' }, false],
    ['$VARIABLE1 =~ /^content.*/ || $VARIABLE2 =~ /thing$/ && $VARIABLE3', { VARIABLE1: 'content' }, true], // && first
    ['$VARIABLE1 =~ /^content.*/ || $VARIABLE2 =~ /thing$/ && $VARIABLE3', { VARIABLE2: 'something' }, false],
    ['($VARIABLE1 =~ /^content.*/ || $VARIABLE2) && ($VARIABLE3 =~ /thing$/ || $VARIABLE4)', { VARIABLE2: 'y', VARIABLE4: 'z' }, true],
    ['($VARIABLE1 =~ /^content.*/ || $VARIABLE2) && ($VARIABLE3 =~ /thing$/ || $VARIABLE4)', { VARIABLE2: 'y' }, false],
    ['($VARIABLE1 =~ /^content.*/ || $VARIABLE2 =~ /thing$/) && $VARIABLE3', { VARIABLE2: 'thing', VARIABLE3: '1' }, true],
    ['$CI_COMMIT_BRANCH == "my-branch" || (($VARIABLE1 == "thing" || $VARIABLE2 == "thing") && $VARIABLE3)', { CI_COMMIT_BRANCH: 'my-branch' }, true],
    ['$CI_COMMIT_BRANCH == "my-branch" || (($VARIABLE1 == "thing" || $VARIABLE2 == "thing") && $VARIABLE3)', { VARIABLE2: 'thing', VARIABLE3: 'x' }, true],
    ['$CI_COMMIT_BRANCH == "my-branch" || (($VARIABLE1 == "thing" || $VARIABLE2 == "thing") && $VARIABLE3)', { VARIABLE2: 'thing' }, false],

    // job_rules.md: negation (GitLab 18.11)
    ['!$VAR1', {}, true],
    ['!$VAR1', { VAR1: '' }, true],
    ['!$VAR1', { VAR1: 'x' }, false],
    ['!($VAR1 == "my variable")', { VAR1: 'my variable' }, false],
    ['!($VAR1 == "my variable")', { VAR1: 'other' }, true],
    ['$VAR1 && !$VAR2', { VAR1: 'a' }, true],
    ['$VAR1 && !$VAR2', { VAR1: 'a', VAR2: '' }, true],
    ['$VAR1 && !$VAR2', { VAR1: 'a', VAR2: 'b' }, false],
    ['!($VAR1 || $VAR2)', {}, true],
    ['!($VAR1 || $VAR2)', { VAR2: 'b' }, false],
    ['!($VAR1 && $VAR2)', { VAR1: 'a' }, true],
    ['!($VAR1 && $VAR2)', { VAR1: 'a', VAR2: 'b' }, false],
    ['!"false"', {}, false],
    ['!"0"', {}, false],
    ['!""', {}, true],
    ['!($VAR == "false")', { VAR: 'false' }, false],
    ['!($VAR == "0")', { VAR: '1' }, true],
    ['!!$VAR', { VAR: 'x' }, true],
    ['!!$VAR', {}, false],
    ['!!!$VAR', {}, true],
    ['!$VAR', { VAR: 'false' }, false], // the string "false" is present
    ['!$VAR', { VAR: '0' }, false],

    // job_rules.md troubleshooting + spec §4.3: a non-regexp string on the right is a substring test
    ['"23" =~ "1234"', {}, true],
    ['"23" =~ /1234/', {}, false],
    ['"1234" =~ "23"', {}, false],
    ['"23" !~ "1234"', {}, false],

    // spec §4.3 (derived): empty vs undefined inside && and ||
    ['$A && $B', { A: '', B: 'x' }, true],
    ['$A || $B', { A: '', B: 'x' }, false],
    ['$A && $B', { B: 'x' }, false],
    ['$A || $B', { B: 'x' }, true],
    ['$A && $B', { A: 'x', B: '' }, false],
    ['$A || $B', { A: 'x', B: '' }, true],

    // spec §4.3: booleans compared with strings
    ['$A == true', { A: 'true' }, true],
    ['$A == true', { A: 'false' }, false],
    ['$A == true', { A: 'TRUE' }, false],
    ['$A == false', { A: 'false' }, true],
    ['$A != true', { A: 'true' }, false],
    ['$A != false', { A: 'true' }, true],
    ['true == $A', { A: 'true' }, true],
    ['$A == true', {}, false], // null is not a string: plain equality
    ['$A != true', {}, true],
    ['true == "true"', {}, true],
    ['"false" == false', {}, true],
    ['true == true', {}, true],
    ['false == false', {}, true],
    ['true == false', {}, false],
    ['true != false', {}, true],
    ['true == null', {}, false],
    ['false == null', {}, false],
    ['true', {}, true],
    ['false', {}, false],
    ['!true', {}, false],
    ['!false', {}, true],
    ['$A && true', { A: 'x' }, true],
    ['$A && false', { A: 'x' }, false],
    ['false || $A', { A: 'x' }, true],
    ['false || "" ', {}, false],
    ['"a" == "a" == true', {}, true], // equals(equals("a","a"), true)
    ['"a" == "b" == false', {}, true],
    ['$A == "x" == "true"', { A: 'x' }, true], // (true) == "true" is coerced

    // spec §4.2: precedence (! > comparisons > && > ||), left-associative, parentheses
    ['$A || $B && $C', { A: 'x' }, true], // A || (B && C); (A || B) && C would be false
    ['$A && $B || $C', { C: 'x' }, true], // (A && B) || C
    ['$A && ($B || $C)', { C: 'x' }, false],
    ['($A || $B) && $C', { A: 'x' }, false],
    ['$A == "x" || $B == "y" && $C == "z"', { A: 'x' }, true],
    ['$A == "x" || $B == "y" && $C == "z"', { B: 'y' }, false],
    ['!$A == "false"', { A: 'x' }, true], // (!$A) == "false"
    ['!$A == "true"', { A: 'x' }, false], // !($A == "true") would be true
    ['!($A == "true")', { A: 'x' }, true],
    ['$A == !$B', { A: 'x' }, false], // "x" == true
    ['!$A && $B', { B: 'x' }, true],
    ['!($A && $B)', { B: 'x' }, true],
    ['!$A || $B', { A: 'x' }, false],
    ['((($A)))', { A: 'x' }, true],
    ['(($A || $B) && ($C || $D))', { B: '1', D: '1' }, true],
    ['(($A || $B) && ($C || $D))', { B: '1' }, false],
    ['(((($A == "1") || ($B == "2")) && (($C == "3") || ($D == "4"))) || $E)', { A: '1', D: '4' }, true],
    ['(((($A == "1") || ($B == "2")) && (($C == "3") || ($D == "4"))) || $E)', { A: '1' }, false],
    ['(((($A == "1") || ($B == "2")) && (($C == "3") || ($D == "4"))) || $E)', { E: 'e' }, true],
    ['!(!(!($A)))', {}, true],

    // regex details (RE2)
    ['$A =~ /a.b/s', { A: 'a\nb' }, true],
    ['$A =~ /a.b/', { A: 'a\nb' }, false],
    ['$A =~ /^b$/m', { A: 'a\nb\nc' }, true],
    ['$A =~ /^b$/', { A: 'a\nb\nc' }, false],
    ['$A =~ /a$/', { A: 'a\n' }, false], // RE2 $ is the end of the text
    ['$A =~ /^a+$/U', { A: 'aaa' }, true],
    ['$A =~ /main/', { A: 'not-main' }, true],
    ['$A =~ /^main$/', { A: 'not-main' }, false],
    ['$A =~ /MAIN/', { A: 'main' }, false],
    ['$A =~ /MAIN/im', { A: 'main' }, true],
    [String.raw`$A =~ /^v\d+\.\d+$/`, { A: 'v1.22' }, true],
    [String.raw`$A =~ /^v\d+\.\d+$/`, { A: 'v1.x' }, false],
    [String.raw`$A =~ /^\/a$/`, { A: '/a' }, true],
    ['$A =~ /.*/', {}, true], // null is matched as ""
    ['$A =~ /^$/', { A: '' }, true],
    ['$A !~ /^$/', {}, false],
    ['$A =~ /\\w+/', { A: 'é' }, false], // ASCII \w

    // right side from a variable (re-parsed as /pattern/flags, else substring)
    ['$A =~ $B', { A: 'MAIN', B: '/main/i' }, true],
    ['$A =~ $B', { A: 'main', B: '/main/x' }, true], // not a pattern ("x" flag): "main" occurs in "/main/x"
    ['$A =~ $B', { A: 'x', B: '/main/x' }, true],
    ['$A =~ $B', { A: 'main', B: 'main' }, true], // substring
    ['$A =~ $B', { A: 'mainline', B: 'main' }, false],
    ['$A =~ $B', { A: '(', B: '/(/' }, true], // RE2 rejects "(": substring of "/(/"
    ['$A =~ $B', { A: 'a', B: '/(/' }, false],
    ['$A =~ $B', { A: 'a/b', B: String.raw`/a\/b/` }, true], // \/ → / before parsing
    ['$A =~ $B', { A: 'anything', B: '//' }, true], // the empty pattern
    ['$A =~ $B', { B: '//' }, true],
    ['$A =~ $B', { A: 'x', B: '/x/' }, true], // one character is fine in a variable
    ['$A =~ $B', { A: 'b', B: 'line\n/b/' }, true], // Ruby line anchors find /b/ on line 2
    ['$A =~ $B', { A: '', B: '' }, true], // "".scan("") is [""]
    ['$A =~ $B', { A: 'x', B: '' }, false],
    ['$A =~ $B', { B: '' }, true],
    ['$A =~ $B', {}, false], // right side null
    ['$A !~ $B', {}, true],
    ['$A !~ $B', { A: 'main', B: '/main/' }, false],
    ['$A !~ $B', { A: 'dev', B: '/main/' }, true],
    ['$A =~ null', { A: 'x' }, false],
    ['$A !~ null', { A: 'x' }, true],
    ['$A =~ false', { A: 'x' }, false], // (source) false returns early like null
    ['$A !~ false', { A: 'x' }, true],
    ['"true" =~ $B', { B: '/^true$/' }, true],
    ['true =~ /^true$/', {}, true], // (source) left side is matched as its to_s

    // values that look like syntax are only data
    ['$A == "$B"', { A: '$B', B: 'x' }, true],
    ['"$A" == $B', { A: 'x', B: '$A' }, true],
    ['$A', { A: '$UNDEFINED' }, true],
    ['$A == $B', {}, true], // null == null
    ['$A == $B', { A: '' }, false], // "" == null
    ['$A == $B', { A: 'x', B: 'x' }, true],
    ['$a == "x"', { A: 'x' }, false], // names are case-sensitive
    ['$A_1 == "x"', { A_1: 'x' }, true],
    ['$1 == "x"', { '1': 'x' }, true], // digits are word characters

    // present?: whitespace-only strings are blank (ActiveSupport)
    ['$A', { A: ' ' }, false],
    ['$A', { A: '\t\n' }, false],
    ['$A', { A: '\u00a0' }, false],
    ['$A', { A: '\ufeff' }, true],
    ['!$A', { A: '  ' }, true],
    ['$A && "x"', { A: ' ' }, true], // but inside && it is truthy
    ['$A == "  "', { A: '  ' }, true],
    ['"   "', {}, false],

    // patterns as values
    ['/ab/', {}, true],
    ['!/ab/', {}, false],
    ['/ab/ == /ab/', {}, true], // (source) UntrustedRegexp#== compares RE2 text
    ['/ab/i == /ab/', {}, false],
    ['"ab" == /ab/', {}, false],
    ['null == /ab/', {}, false],
    ['/ab/ == "ab"', {}, false], // GitLab raises NoMethodError; false here
    ['/ab/ =~ "ab"', {}, false], // a pattern on the left: not evaluable
    ['$A =~ true', { A: 'x' }, false], // a boolean on the right: not evaluable

    // whitespace and spacing
    ['$A==$B', { A: '1', B: '1' }, true],
    ['$A=~/ab/', { A: 'xab' }, true],
    ['$A!=null&&$B', { A: '1', B: '1' }, true],
    ["\t$A\n==\r\n'x' ", { A: 'x' }, true],
    ['  $A  ', { A: 'x' }, true],
    ['$A\u00a0== "x"', { A: 'x' }, false], // NBSP is not whitespace to the lexer: syntax error

    // syntax errors are simply false
    ['${A}', { A: 'x' }, false],
    ['${A} == "x"', { A: 'x' }, false],
    ['$A == ${B}', { A: 'x', B: 'x' }, false],
    ['$A =~ /./', { A: 'x' }, false],
    ['$A == "x', { A: 'x' }, false],
    ['$A = "x"', { A: 'x' }, false],
    ['', {}, false],
    ['($A', { A: 'x' }, false],
    ['$A)', { A: 'x' }, false],
  ];
  for (const [expression, vars, expected] of rows) {
    test(`${JSON.stringify(expression)} with ${JSON.stringify(vars)} → ${expected}`, () => {
      expect(isTruthful(expression, lookup(vars))).toBe(expected);
    });
  }
});

describe('errors: GitLab internal messages (config errors say "invalid expression syntax")', () => {
  const rows: Array<[expression: string, kind: ExpressionErrorKind, message: string]> = [
    // nothing to parse (Statement raises a bare StatementError)
    ['', 'statement', 'Empty expression'],
    ['   ', 'statement', 'Empty expression'],
    ['\t\n', 'statement', 'Empty expression'],
    // lexer
    ['$INVALID = 1', 'lexer', 'Unknown lexeme found!'],
    ['$V1 123 $V2', 'lexer', 'Unknown lexeme found!'],
    ['${VAR}', 'lexer', 'Unknown lexeme found!'], // not a variable token in GitLab
    ['${VAR} == "x"', 'lexer', 'Unknown lexeme found!'],
    ['$VAR == ${OTHER}', 'lexer', 'Unknown lexeme found!'],
    ['$', 'lexer', 'Unknown lexeme found!'],
    ['$-A', 'lexer', 'Unknown lexeme found!'],
    ['$ÄRGER', 'lexer', 'Unknown lexeme found!'], // ASCII word characters only
    ['VAR == "x"', 'lexer', 'Unknown lexeme found!'],
    ['/a/', 'lexer', 'Unknown lexeme found!'], // a pattern needs two characters
    ['$A =~ /./', 'lexer', 'Unknown lexeme found!'], // docs: single-character regex
    ['$A =~ //', 'lexer', 'Unknown lexeme found!'],
    ['$A =~ /ab', 'lexer', 'Unknown lexeme found!'],
    [String.raw`$A =~ /ab\/`, 'lexer', 'Unknown lexeme found!'],
    ['$A =~ /pattern/x', 'lexer', 'Unknown lexeme found!'], // the pattern ends before x
    ['$A =~ issue-/.*/', 'lexer', 'Unknown lexeme found!'], // docs: the whole pattern in slashes
    ['$A == "x', 'lexer', 'Unknown lexeme found!'],
    ["$A == 'x", 'lexer', 'Unknown lexeme found!'],
    ['$A == "a\nb"', 'lexer', 'Unknown lexeme found!'], // a string does not span lines
    [String.raw`$A == "a\"b"`, 'lexer', 'Unknown lexeme found!'], // no escapes: "a\" then b"
    ['$A = "x"', 'lexer', 'Unknown lexeme found!'],
    ['$A === "x"', 'lexer', 'Unknown lexeme found!'],
    ['$A =! "x"', 'lexer', 'Unknown lexeme found!'],
    ['$A & $B', 'lexer', 'Unknown lexeme found!'],
    ['$A | $B', 'lexer', 'Unknown lexeme found!'],
    ['$A and $B', 'lexer', 'Unknown lexeme found!'],
    ['$A == True', 'lexer', 'Unknown lexeme found!'],
    ['$A == NULL', 'lexer', 'Unknown lexeme found!'],
    ['$A == truex', 'lexer', 'Unknown lexeme found!'], // \b after true
    ['$A == nullx', 'lexer', 'Unknown lexeme found!'], // null then x
    ['$A == 1', 'lexer', 'Unknown lexeme found!'],
    ['$A\u00a0== "x"', 'lexer', 'Unknown lexeme found!'],
    ['$[[ inputs.x-y ]]', 'lexer', 'Unknown lexeme found!'],
    ['$[[ input.x ]]', 'lexer', 'Unknown lexeme found!'],
    ['$[[ inputs.x ]', 'lexer', 'Unknown lexeme found!'],
    ['$[[ component.name ]] == "x"', 'lexer', 'Unknown lexeme found!'],
    // invalid regular expressions (raised while the tree is built)
    ['$A =~ /((/', 'lexer', 'Invalid regular expression!'],
    ['$A =~ / some ( thin/i', 'lexer', 'Invalid regular expression!'],
    ['$A =~ /(?=a)b/', 'lexer', 'Invalid regular expression!'], // look-ahead
    ['$A =~ /(?<=a)b/', 'lexer', 'Invalid regular expression!'], // look-behind
    [String.raw`$A =~ /(a)\1/`, 'lexer', 'Invalid regular expression!'], // backreference
    ['$A =~ /a++/', 'lexer', 'Invalid regular expression!'],
    [String.raw`$A =~ /a\Z/`, 'lexer', 'Invalid regular expression!'],
    ['$A =~ /a{1001}/', 'lexer', 'Invalid regular expression!'],
    ['$A =~ /a\nb/', 'lexer', 'Invalid regular expression!'], // lexes, but RubySyntax stops at \n
    // parser (statement of GitLab's parser_spec and derived)
    ['$VAR "text"', 'parser', 'Unreachable nodes in parse tree'],
    ['$A $B', 'parser', 'Unreachable nodes in parse tree'],
    ['"a" "b" == "c"', 'parser', 'Unreachable nodes in parse tree'],
    ["'it''s'", 'parser', 'Unreachable nodes in parse tree'],
    ['$A ! $B', 'parser', 'Unreachable nodes in parse tree'],
    ['nulltrue', 'parser', 'Unreachable nodes in parse tree'],
    ['$VAR == (', 'parser', 'Unprocessable token found in parse tree: parenthesis_open'],
    ['$VAR2 == ("aa"', 'parser', 'Unprocessable token found in parse tree: parenthesis_open'],
    ['$VAR2 == ("aa"))', 'parser', 'Unmatched parenthesis'],
    ['$VAR2 == "aa")', 'parser', 'Unmatched parenthesis'],
    ['(($VAR2 == "aa")', 'parser', 'Unprocessable token found in parse tree: parenthesis_open'],
    ['($VAR2 == "aa"))', 'parser', 'Unmatched parenthesis'],
    ['(', 'parser', 'Unprocessable token found in parse tree: parenthesis_open'],
    ['($A', 'parser', 'Unprocessable token found in parse tree: parenthesis_open'],
    [')', 'parser', 'Unmatched parenthesis'],
    [')$A(', 'parser', 'Unmatched parenthesis'],
    ['$A)', 'parser', 'Unmatched parenthesis'],
    ['()', 'parser', 'Empty parse tree'],
    ['(())', 'parser', 'Empty parse tree'],
    // operators without operands
    ['== "123"', 'operator', 'Invalid left operand'],
    ['$VAR ==', 'operator', 'Invalid left operand'], // the lone operand is taken as the right one
    ['$A &&', 'operator', 'Invalid left operand'],
    ['&& $A', 'operator', 'Invalid left operand'],
    ['$A && && $B', 'operator', 'Invalid left operand'],
    ['$A || || $B', 'operator', 'Invalid left operand'],
    ['=~', 'operator', 'Invalid left operand'],
    ['$A == == $B', 'operator', 'Invalid left operand'],
    ['!', 'operator', 'Invalid operand'],
    ['!!', 'operator', 'Invalid operand'],
    ['!()', 'operator', 'Invalid operand'],
    ['$A && !', 'operator', 'Invalid left operand'], // RPN $A ! && : the ! takes $A, && finds one operand
  ];
  for (const [expression, kind, message] of rows) {
    test(`${JSON.stringify(expression)} → ${kind}: ${message}`, () => {
      const parsed = parseExpression(expression);
      expect(parsed).toEqual({ ok: false, error: { kind, message } });
      expect(validateExpression(expression)).toBe(message);
    });
  }
});

describe('token limit: GitLab reads at most 99 tokens (it raises when the 100th is read)', () => {
  // `$A` + k × ` || $A` is 1 + 2k tokens; a leading `!` adds one.
  const expressionOf = (tokens: number) => (tokens % 2 === 0 ? '!' : '') + '$A' + ' || $A'.repeat(Math.floor((tokens - 1) / 2));
  const rows: Array<[tokens: number, message: string | null]> = [
    [1, null],
    [2, null],
    [98, null],
    [99, null],
    [100, 'Too many tokens!'],
    [101, 'Too many tokens!'],
    [1000, 'Too many tokens!'],
  ];
  for (const [count, message] of rows) {
    test(`${count} tokens → ${message ?? 'valid'}`, () => {
      const text = expressionOf(count);
      expect(tokenize(text, 10_000).length).toBe(count);
      expect(validateExpression(text)).toBe(message);
    });
  }

  test('the limit is checked before what follows the 100th token', () => {
    expect(validateExpression(expressionOf(100) + ' ???')).toBe('Too many tokens!');
    expect(validateExpression(expressionOf(98) + ' ???')).toBe('Unknown lexeme found!');
  });

  test('parentheses and whitespace count as GitLab counts them', () => {
    expect(validateExpression('('.repeat(49) + '$A' + ')'.repeat(49))).toBeNull(); // 99 tokens
    expect(validateExpression('('.repeat(50) + '$A' + ')'.repeat(50))).toBe('Too many tokens!'); // 101
    expect(validateExpression('   $A' + ' '.repeat(10_000))).toBeNull();
  });
});

describe('parse trees (GitLab inspect format)', () => {
  const rows: Array<[expression: string, tree: string]> = [
    // parser_spec.rb
    ['$VAR1 == "123"', 'equals($VAR1, "123")'],
    ['$VAR1 == "123" == $VAR2', 'equals(equals($VAR1, "123"), $VAR2)'],
    ['$VAR', '$VAR'],
    ['"some value"', '"some value"'],
    ['null', 'null'],
    ['$VAR1 || $VAR2 && $VAR3', 'or($VAR1, and($VAR2, $VAR3))'],
    ['$VAR1 && $VAR2 || $VAR3', 'or(and($VAR1, $VAR2), $VAR3)'],
    ['$VAR1 && $VAR2 || $VAR3 && $VAR4', 'or(and($VAR1, $VAR2), and($VAR3, $VAR4))'],
    ['$VAR1 && ($VAR2 || $VAR3) && $VAR4', 'and(and($VAR1, or($VAR2, $VAR3)), $VAR4)'],
    ['$VAR1 == "a" || $VAR2 == "b" && $VAR3 == "c" || $VAR4 == "d" && $VAR5 == "e"',
      'or(or(equals($VAR1, "a"), and(equals($VAR2, "b"), equals($VAR3, "c"))), and(equals($VAR4, "d"), equals($VAR5, "e")))'],
    ['(($VAR1 == "a" || $VAR2 == "b") && $VAR3 == "c" || $VAR4 == "d") && $VAR5 == "e"',
      'and(or(and(or(equals($VAR1, "a"), equals($VAR2, "b")), equals($VAR3, "c")), equals($VAR4, "d")), equals($VAR5, "e"))'],
    // more
    ['$A || $B || $C', 'or(or($A, $B), $C)'],
    ['$A && $B && $C', 'and(and($A, $B), $C)'],
    ['$A != $B == $C', 'equals(not_equals($A, $B), $C)'],
    ['$A =~ /xy/ != true', 'not_equals(matches($A, //xy//), true)'],
    ['$A !~ /xy/i', 'not_matches($A, //xy/i/)'], // GitLab's Pattern#inspect wraps the literal in slashes
    ["'single' == \"double\"", 'equals("single", "double")'],
    ['"a#{b}" == $A', 'equals("a\\#{b}", $A)'], // Ruby's String#inspect escapes #{
    ['"${VAR}" == $A', 'equals("${VAR}", $A)'], // ${VAR} inside a string literal is just text
    ['!$A', 'not($A)'],
    ['!!$A', 'not(not($A))'],
    ['!($A || $B)', 'not(or($A, $B))'],
    ['$A && !$B', 'and($A, not($B))'],
    ['!$A && $B', 'and(not($A), $B)'],
    ['!$A == "x"', 'equals(not($A), "x")'],
    ['$A == !$B', 'equals($A, not($B))'],
    ['!$A =~ /xy/', 'matches(not($A), //xy//)'],
    ['$A !', 'not($A)'], // (source) a trailing ! still takes the operand before it
    ['$A ! == "x"', 'equals(not($A), "x")'],
    ['true == false', 'equals(true, false)'],
    ['$[[ inputs.a ]] == "x"', 'equals($[[ inputs.a ]], "x")'],
    ['$[[  inputs.environment  ]]', '$[[ inputs.environment ]]'],
    ['$[[inputs.environment]]', '$[[ inputs.environment ]]'],
    ['$[[\tinputs.env_1\n]] && $env_1', 'and($[[ inputs.env_1 ]], $env_1)'],
  ];
  for (const [expression, tree] of rows) {
    test(`${expression} → ${tree}`, () => {
      expect(inspectExpression(mustParse(expression))).toBe(tree);
    });
  }
});

describe('tokens (GitLab lexer_spec)', () => {
  const rows: Array<[expression: string, tokens: string[]]> = [
    ['$VARIABLE', ['$VARIABLE']],
    ['\t$VARIABLE ', ['$VARIABLE']],
    ['$VARIABLE1 $VARIABLE2', ['$VARIABLE1', '$VARIABLE2']],
    ['$VARIABLE "text" "value"', ['$VARIABLE', '"text"', '"value"']],
    ['$VARIABLE == "text"', ['$VARIABLE', '==', '"text"']],
    ['$PRESENT_VARIABLE =~ /my var/ && $EMPTY_VARIABLE =~ /nope/', ['$PRESENT_VARIABLE', '=~', '/my var/', '&&', '$EMPTY_VARIABLE', '=~', '/nope/']],
    ['$EMPTY_VARIABLE == "" && $PRESENT_VARIABLE', ['$EMPTY_VARIABLE', '==', '""', '&&', '$PRESENT_VARIABLE']],
    ['$EMPTY_VARIABLE == "" && $PRESENT_VARIABLE != "nope"', ['$EMPTY_VARIABLE', '==', '""', '&&', '$PRESENT_VARIABLE', '!=', '"nope"']],
    ['$PRESENT_VARIABLE && $EMPTY_VARIABLE', ['$PRESENT_VARIABLE', '&&', '$EMPTY_VARIABLE']],
    ['$PRESENT_VARIABLE =~ /my var/ || $EMPTY_VARIABLE =~ /nope/', ['$PRESENT_VARIABLE', '=~', '/my var/', '||', '$EMPTY_VARIABLE', '=~', '/nope/']],
    ['$EMPTY_VARIABLE == "" || $PRESENT_VARIABLE', ['$EMPTY_VARIABLE', '==', '""', '||', '$PRESENT_VARIABLE']],
    ['$PRESENT_VARIABLE || $EMPTY_VARIABLE', ['$PRESENT_VARIABLE', '||', '$EMPTY_VARIABLE']],
    ['$PRESENT_VARIABLE && null || $EMPTY_VARIABLE == ""', ['$PRESENT_VARIABLE', '&&', 'null', '||', '$EMPTY_VARIABLE', '==', '""']],
    ['($PRESENT_VARIABLE =~ /my var/) && $EMPTY_VARIABLE =~ /nope/', ['(', '$PRESENT_VARIABLE', '=~', '/my var/', ')', '&&', '$EMPTY_VARIABLE', '=~', '/nope/']],
    ['$PRESENT_VARIABLE =~ /my var/ || ($EMPTY_VARIABLE =~ /nope/)', ['$PRESENT_VARIABLE', '=~', '/my var/', '||', '(', '$EMPTY_VARIABLE', '=~', '/nope/', ')']],
    ['($PRESENT_VARIABLE && (null || $EMPTY_VARIABLE == ""))', ['(', '$PRESENT_VARIABLE', '&&', '(', 'null', '||', '$EMPTY_VARIABLE', '==', '""', ')', ')']],
    // strings (string_spec): lazy, either quote, the other quote inside
    ['"some string" "and another one"', ['"some string"', '"and another one"']],
    ["'some string' 'and another one'", ["'some string'", "'and another one'"]],
    [`"some ' string"`, [`"some ' string"`]],
    [`'some " string'`, [`'some " string'`]],
    ["''", ["''"]],
    ['""', ['""']],
    ['"a\rb"', ['"a\rb"']], // only \n ends a string's line
    // operators, each order-sensitive
    ['$A!=$B', ['$A', '!=', '$B']],
    ['$A!~$B', ['$A', '!~', '$B']],
    ['!$A', ['!', '$A']],
    ['!!$A', ['!', '!', '$A']],
    ['$A==!$B', ['$A', '==', '!', '$B']],
    ['null', ['null']],
    ['nulltrue', ['null', 'true']],
    ['true&&false', ['true', '&&', 'false']],
    ['$true', ['$true']],
    ['$[[ inputs.x ]]', ['$[[ inputs.x ]]']],
    ['$[[ inputs.x ]]$X', ['$[[ inputs.x ]]', '$X']],
    ['$A/ab/', ['$A', '/ab/']],
  ];
  for (const [expression, tokens] of rows) {
    test(`${JSON.stringify(expression)} → ${JSON.stringify(tokens)}`, () => {
      expect(tokenize(expression).map((t) => t.text)).toEqual(tokens);
    });
  }

  test('lexemes in GitLab order', () => {
    expect(tokenize('$VAR "text"').map((t) => t.kind)).toEqual(['variable', 'string']);
    expect(tokenize('( ) $[[ inputs.a ]] $B "c" /de/ null true == =~ != !~ && || !').map((t) => t.kind)).toEqual([
      'parenthesis_open', 'parenthesis_close', 'input', 'variable', 'string', 'pattern', 'null', 'boolean',
      'equals', 'matches', 'not_equals', 'not_matches', 'and', 'or', 'not',
    ]);
  });
});

describe('pattern lexeme (GitLab pattern_spec): its extent and the RE2 text it becomes', () => {
  const rows: Array<[text: string, lexeme: string | null, re2: string | null]> = [
    ['/pattern/', '/pattern/', 'pattern'],
    ['//', null, null], // no empty pattern
    ['/a/', null, null], // at least two characters
    ['/ab/', '/ab/', 'ab'],
    ['/pattern/i', '/pattern/i', '(?i)pattern'],
    ['/pattern/im', '/pattern/im', '(?im)pattern'],
    ['/pattern/ismU', '/pattern/ismU', '(?ismU)pattern'],
    ['/pattern/x', '/pattern/', 'pattern'], // unsupported flags are not part of it
    ['/some .* / pattern/', '/some .* /', 'some .* '], // ends at the first unescaped /
    [String.raw`/some .* \/ pattern/`, String.raw`/some .* \/ pattern/`, 'some .* / pattern'],
    [String.raw`/some numeric \/$ pattern/`, String.raw`/some numeric \/$ pattern/`, 'some numeric /$ pattern'],
    [String.raw`/some numeric \$ pattern/`, String.raw`/some numeric \$ pattern/`, String.raw`some numeric \$ pattern`],
    [String.raw`/foo\/bar/`, String.raw`/foo\/bar/`, 'foo/bar'],
    ['/a//', '/a//', 'a/'], // the character before the closing slash may itself be a slash
    [String.raw`/ab\/`, null, null],
    [String.raw`/a\\/`, null, null],
    [String.raw`/\/\//`, String.raw`/\/\//`, '//'],
    ['/a\nb/', '/a\nb/', null], // lexes across lines, RubySyntax then rejects it
    ['/ab/ || /cd/', '/ab/', 'ab'],
  ];
  for (const [text, lexeme, re2] of rows) {
    test(`${JSON.stringify(text)} → ${JSON.stringify(lexeme)} → ${JSON.stringify(re2)}`, () => {
      const end = _scanPatternForTest(text, 0);
      expect(end < 0 ? null : text.slice(0, end)).toBe(lexeme);
      if (lexeme !== null) {
        const parsed = parseExpression(lexeme);
        if (re2 === null) expect(parsed).toEqual({ ok: false, error: { kind: 'lexer', message: 'Invalid regular expression!' } });
        else expect(parsed.ok && parsed.expr.type === 'pattern' ? parsed.expr.regexp.pattern : parsed).toBe(re2);
      }
    });
  }

  test('same extent as GitLab\'s regex on 20 000 random strings', () => {
    // GitLab's PATTERN under a backtracking engine (JavaScript's behaves as Ruby's here);
    // safe to run with RegExp because the inputs are short and fixed by the test.
    const gitlab = /\/(?:[^/]|\\\/)+[^\\]\/[ismU]*/y;
    const alphabet = ['/', '\\', 'a', 'i', ' ', '\n', 'm', 'x'];
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 20_000; i++) {
      let s = '/';
      const len = rand(12);
      for (let j = 0; j < len; j++) s += alphabet[rand(alphabet.length)];
      gitlab.lastIndex = 0;
      const m = gitlab.exec(s);
      expect([s, _scanPatternForTest(s, 0)]).toEqual([s, m ? m[0].length : -1]);
    }
  });

  test('linear on adversarial input', () => {
    const text = '$A =~ /' + String.raw`a\/\\`.repeat(50_000);
    const t0 = performance.now();
    expect(validateExpression(text)).toBe('Unknown lexeme found!');
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('inputs: $[[ inputs.name ]] in spec:inputs:rules', () => {
  const inputs: Record<string, InputValue> = {
    cloud_provider: 'aws',
    environment: 'production',
    flag: true,
    off: false,
    zero: 0,
    count: 3,
    empty_list: [],
    list: ['a', 'b'],
    blank: '  ',
  };
  const rows: Array<[expression: string, expected: boolean]> = [
    // statement_spec 'with input references'
    ['$[[ inputs.cloud_provider ]] == "aws"', true],
    ['$[[ inputs.cloud_provider ]] == "gcp"', false],
    ['$[[ inputs.cloud_provider ]] == "aws" && $[[ inputs.environment ]] == "production"', true],
    // typed values (source: Input#evaluate returns the typed value)
    ['$[[ inputs.flag ]]', true],
    ['$[[ inputs.flag ]] == true', true],
    ['$[[ inputs.flag ]] == "true"', true], // boolean vs string is coerced
    ['$[[ inputs.off ]]', false],
    ['!$[[ inputs.off ]]', true],
    ['$[[ inputs.off ]] == false', true],
    ['$[[ inputs.zero ]]', true], // 0 is present in Ruby
    ['$[[ inputs.zero ]] == "0"', false], // a number is not a string
    ['$[[ inputs.zero ]] =~ /^0$/', true], // matched as its to_s
    ['$[[ inputs.count ]] == $[[ inputs.count ]]', true],
    ['$[[ inputs.empty_list ]]', false],
    ['$[[ inputs.list ]]', true],
    ['$[[ inputs.list ]] =~ /"a", "b"/', true], // Ruby Array#to_s
    ['$[[ inputs.list ]] == $[[ inputs.list ]]', true],
    ['$[[ inputs.blank ]]', false],
    ['$[[ inputs.missing ]] == null', true],
    ['$[[ inputs.missing ]]', false],
    ['$[[ inputs.environment ]] =~ /^prod/ || $[[ inputs.flag ]]', true],
    ['$[[ inputs.cloud_provider ]] == $cloud_provider', false], // inputs and variables are separate
  ];
  for (const [expression, expected] of rows) {
    test(`${expression} → ${expected}`, () => {
      expect(evaluateExpression(mustParse(expression), lookup({ cloud_provider: 'gcp' }), (n) => inputs[n])).toBe(expected);
    });
  }

  test('without an input resolver an input is null', () => {
    expect(isTruthful('$[[ inputs.x ]] == null', lookup({ x: 'variable' }))).toBe(true);
    expect(isTruthful('$[[ inputs.x ]]', lookup({ x: 'variable' }))).toBe(false);
  });

  test('typed values come back as they are', () => {
    expect(valueOf('$[[ inputs.list ]]', {}, inputs)).toEqual(['a', 'b']);
    expect(valueOf('$[[ inputs.count ]] && $[[ inputs.zero ]]', {}, inputs)).toBe(0);
  });

  const names: Array<[expression: string, names: string[]]> = [
    ['$[[ inputs.cloud_provider ]] == "aws"', ['cloud_provider']],
    ['$[[ inputs.a ]] == "x" && $[[ inputs.b ]] == "y"', ['a', 'b']],
    ['$[[ inputs.env ]] == "prod" || $[[ inputs.env ]] == "stage"', ['env']],
    ['($[[ inputs.a ]] == "x" && $[[ inputs.b ]] == "y") || $[[ inputs.c ]] == "z"', ['a', 'b', 'c']],
    ['$[[ inputs.region ]] == "us" && $CI_COMMIT_BRANCH == "main"', ['region']],
    ['$PRESENT_VARIABLE == "value"', []],
    ['!$[[ inputs.a ]] && $[[ inputs.b ]]', ['a', 'b']],
  ];
  for (const [expression, expected] of names) {
    test(`inputNames(${expression}) → ${JSON.stringify(expected)}`, () => {
      expect(inputNames(mustParse(expression))).toEqual(expected);
    });
  }
});

describe('validateExpression (config time: GitLab ExpressionValidator → Statement#valid?)', () => {
  const rows: Array<[value: unknown, expected: string | null]> = [
    ['$CI_COMMIT_BRANCH == "main"', null],
    ['$CI_PIPELINE_SOURCE == "merge_request_event"', null],
    ['$CI_COMMIT_TAG', null],
    ['($A == "x" || $B) && !$C', null],
    ['$A =~ /^release-.*$/', null],
    ['$A =~ $B', null],
    ['"a" =~ "b"', null],
    ['/ab/ == /ab/', null],
    ['true', null],
    ['null', null],
    ['$[[ inputs.a ]] == "b"', null],
    ['$A && "x" =~ true', null], // $A is null at validation, so the right side is never evaluated
    ['$A || "x" =~ true', 'The right side of =~ and !~ must be a pattern or a string'], // GitLab: 500
    ['$A =~ true', 'The right side of =~ and !~ must be a pattern or a string'],
    ['/ab/ == "ab"', 'A pattern can only be compared with another pattern'],
    ['/ab/ =~ $A', null], // right side null at validation: false before the left is looked at
    ['/ab/ =~ "ab"', 'The left side of =~ and !~ cannot be a pattern'],
    ['${A}', 'Unknown lexeme found!'],
    ['', 'Empty expression'],
    [true, 'Expression is not a string'],
    [null, 'Expression is not a string'],
    [42, 'Expression is not a string'],
    [['$A'], 'Expression is not a string'],
  ];
  for (const [value, expected] of rows) {
    test(`${JSON.stringify(value)} → ${JSON.stringify(expected)}`, () => {
      expect(validateExpression(value)).toBe(expected);
    });
  }
});

describe('evaluation API', () => {
  test('a parsed expression is reusable across variable sets', () => {
    const expr = mustParse('$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH || $CI_COMMIT_TAG =~ /^v\\d+/');
    expect(evaluateExpression(expr, lookup({ CI_COMMIT_BRANCH: 'main', CI_DEFAULT_BRANCH: 'main' }))).toBe(true);
    expect(evaluateExpression(expr, lookup({ CI_COMMIT_TAG: 'v2', CI_DEFAULT_BRANCH: 'main' }))).toBe(true);
    expect(evaluateExpression(expr, lookup({ CI_COMMIT_TAG: 'x2', CI_DEFAULT_BRANCH: 'main' }))).toBe(false);
  });

  test('the lookup decides visibility and is called with the bare name', () => {
    const asked: string[] = [];
    const seen = (name: string) => (asked.push(name), name === 'VISIBLE' ? 'yes' : undefined);
    expect(evaluateExpression(mustParse('$VISIBLE == "yes" && $HIDDEN == null'), seen)).toBe(true);
    expect(asked).toEqual(['VISIBLE', 'HIDDEN']);
  });

  test('&& and || short-circuit (the right side is not evaluated)', () => {
    const asked: string[] = [];
    const seen = (name: string) => (asked.push(name), undefined);
    evaluateExpression(mustParse('$A && $B'), seen);
    evaluateExpression(mustParse('"x" || $C'), seen);
    expect(asked).toEqual(['A']);
  });

  test('a not-evaluable combination is false, and evaluateExpressionValue says why', () => {
    const expr = mustParse('$A =~ true');
    expect(evaluateExpression(expr, lookup({ A: 'x' }))).toBe(false);
    expect(() => evaluateExpressionValue(expr, lookup({ A: 'x' }))).toThrow('The right side of =~ and !~ must be a pattern or a string');
  });

  test('a variable holding a catastrophic pattern stays linear', () => {
    const expr = mustParse('$TEXT =~ $PATTERN');
    const vars = lookup({ TEXT: 'a'.repeat(100_000) + 'b', PATTERN: '/^(a+)+$/' });
    const t0 = performance.now();
    expect(evaluateExpression(expr, vars)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  test('a literal catastrophic pattern stays linear', () => {
    const t0 = performance.now();
    expect(isTruthful('$TEXT =~ /(a|aa)+$/ || $TEXT =~ /^(a*)*c/', lookup({ TEXT: 'a'.repeat(100_000) + 'b' }))).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
