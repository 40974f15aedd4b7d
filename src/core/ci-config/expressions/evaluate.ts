/**
 * Evaluation of a parsed `rules:if` expression — GitLab's `Lexeme#evaluate` methods, with
 * Ruby's value semantics reproduced:
 *
 * - `$NAME` → the variable's raw value (no nested expansion), or null when undefined;
 *   `$[[ inputs.name ]]` → the input's typed value (string, number, boolean, array), or null.
 * - `==` / `!=`: Ruby `==`, except that a boolean compared with a string is compared as
 *   `"true"`/`"false"` (`$A == true` holds for `A=true`).
 * - `=~` / `!~`: a null or `false` right side makes `=~` false and `!~` true. A string right
 *   side (from a variable, GitLab 15.0+) is read as `/pattern/flags` after `\/` → `/`; when it
 *   is not one (or RE2 rejects it) the test becomes "the left side occurs in the right side"
 *   (`"23" =~ "1234"` is true) — GitLab falls back to Ruby's `String#scan` with the string.
 *   The left side is matched as a string (null as `""`). Matching is an unanchored RE2 search.
 * - `&&` / `||`: Ruby's short-circuit operators on the values: only null and `false` are
 *   falsy there, and the result is an operand (`"" && "x"` is `"x"`).
 * - `!x` and the final result use ActiveSupport's `present?`: null, `false`, a blank string
 *   (empty or whitespace only) and an empty array are not present.
 *
 * A few combinations crash GitLab with a Ruby NoMethodError (an HTTP 500 there): a boolean,
 * number or array on the right of `=~`/`!~`, a pattern on the left of `=~`/`!~`, and `==`/`!=`
 * with a pattern on the left and something else on the right. Here they raise
 * EvaluationError, which makes the statement false at run time and invalid at config time.
 */
import { compileSlashPattern, isBlankString, UntrustedRegexp, UntrustedRegexpError } from '../../untrusted-regexp';
import type { Expr } from './parser';
import { rubyInspect } from '../values';

/** A variable's raw value, or undefined when the variable is not visible to the expression. */
export type VariableLookup = (name: string) => string | undefined;

/** A typed `spec:inputs` value (string, number, boolean, array) as the YAML gave it. */
export type InputValue = string | number | boolean | null | readonly InputValue[] | { readonly [key: string]: InputValue };
export type InputLookup = (name: string) => InputValue | undefined;

/** What an expression (or part of one) evaluates to. */
export type Value = InputValue | UntrustedRegexp;

/** A combination that GitLab cannot evaluate either (see the module comment). */
export class EvaluationError extends Error {
  readonly kind = 'evaluation' as const;
}

export interface Scope {
  readonly variables: VariableLookup;
  readonly inputs?: InputLookup;
}

export function evaluate(expr: Expr, scope: Scope): Value {
  switch (expr.type) {
    case 'string':
      return expr.value;
    case 'variable':
      return scope.variables(expr.name) ?? null;
    case 'input':
      return scope.inputs?.(expr.name) ?? null;
    case 'null':
      return null;
    case 'boolean':
      return expr.value;
    case 'pattern':
      return expr.regexp;
    case 'equals':
      return equalsWithCoercion(evaluate(expr.left, scope), evaluate(expr.right, scope));
    case 'not_equals':
      return !equalsWithCoercion(evaluate(expr.left, scope), evaluate(expr.right, scope));
    case 'matches':
      return matches(evaluate(expr.left, scope), evaluate(expr.right, scope), true);
    case 'not_matches':
      return matches(evaluate(expr.left, scope), evaluate(expr.right, scope), false);
    case 'and': {
      const left = evaluate(expr.left, scope);
      return rubyTruthy(left) ? evaluate(expr.right, scope) : left;
    }
    case 'or': {
      const left = evaluate(expr.left, scope);
      return rubyTruthy(left) ? left : evaluate(expr.right, scope);
    }
    case 'not':
      return !isPresent(evaluate(expr.operand, scope));
  }
}

/** ActiveSupport's `present?` (the opposite of `blank?`). */
export function isPresent(value: Value): boolean {
  if (value === null || value === false) return false;
  if (typeof value === 'string') return !isBlankString(value);
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof UntrustedRegexp) return true;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true; // true, numbers (0 included)
}

/** Ruby truthiness: everything but nil and false. */
function rubyTruthy(value: Value): boolean {
  return value !== null && value !== false;
}

function equalsWithCoercion(left: Value, right: Value): boolean {
  if ((typeof left === 'boolean' && typeof right === 'string') || (typeof left === 'string' && typeof right === 'boolean')) {
    return String(left) === String(right);
  }
  if (left instanceof UntrustedRegexp) {
    // UntrustedRegexp#== compares `source` with `other.source`: only another regexp has one.
    if (right instanceof UntrustedRegexp) return left.equals(right);
    throw new EvaluationError('A pattern can only be compared with another pattern');
  }
  if (right instanceof UntrustedRegexp) return false;
  return rubyEquals(left, right);
}

function rubyEquals(a: InputValue, b: InputValue): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => rubyEquals(x, b[i]));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const ra = a as Record<string, InputValue>;
    const rb = b as Record<string, InputValue>;
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && rubyEquals(ra[k], rb[k]));
  }
  return false;
}

function matches(left: Value, right: Value, positive: boolean): boolean {
  if (right === null || right === false) return !positive;
  if (left instanceof UntrustedRegexp) throw new EvaluationError('The left side of =~ and !~ cannot be a pattern');
  const text = rubyToS(left);
  let found: boolean;
  if (right instanceof UntrustedRegexp) found = right.test(text);
  else if (typeof right === 'string') {
    const regexp = patternFromString(right);
    found = regexp === null ? right.includes(text) : regexp.test(text);
  } else {
    throw new EvaluationError('The right side of =~ and !~ must be a pattern or a string');
  }
  return positive ? found : !found;
}

// Variables are evaluated once per job and rule; the same few pattern strings come back
// again and again, so compiled ones are kept (a bounded map: values are user data).
const PATTERN_CACHE_SIZE = 256;
const patternCache = new Map<string, UntrustedRegexp | null>();

/** GitLab's `Pattern.build_and_evaluate` for a string: a regexp, or null for "use the string". */
function patternFromString(raw: string): UntrustedRegexp | null {
  const cached = patternCache.get(raw);
  if (cached !== undefined) return cached;
  let regexp: UntrustedRegexp | null;
  try {
    regexp = compileSlashPattern(raw.replaceAll('\\/', '/'));
  } catch (e) {
    if (!(e instanceof UntrustedRegexpError)) throw e;
    regexp = null;
  }
  if (patternCache.size >= PATTERN_CACHE_SIZE) patternCache.delete(patternCache.keys().next().value!);
  patternCache.set(raw, regexp);
  return regexp;
}

/** Ruby's `to_s` of a value (arrays and hashes as `inspect`), for the left side of `=~`. */
function rubyToS(value: InputValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return rubyInspect(value);
}

