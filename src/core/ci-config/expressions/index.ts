/**
 * The `rules:if` expression language of GitLab CI (also used by `workflow:rules`,
 * `include:rules`, `spec:inputs:rules` and `only`/`except: variables`). Pure: no I/O.
 *
 *   text ──tokenize──▶ tokens ──parseTokens──▶ Expr ──evaluate(variables, inputs)──▶ value ──present?──▶ boolean
 *
 * Behaviour contract: /work/shared/spec/ci-yaml.md §4 and GitLab's
 * `lib/gitlab/ci/pipeline/expression/` (lexer, parser, lexemes, statement). Each stage's
 * module says how it follows GitLab. The errors keep GitLab's internal messages (for lint
 * detail); configuration errors show them as `… if invalid expression syntax`.
 *
 * Typical use:
 *   const parsed = parseExpression(rule.if);            // once, at config time
 *   if (!parsed.ok) → `jobs:${job}:rules:rule if invalid expression syntax`
 *   evaluateExpression(parsed.expr, (n) => vars.get(n)) // per job, when the pipeline is built
 */
import { tokenize, LexerError } from './lexer';
import { parseTokens, ParserError, OperatorError, type Expr } from './parser';
import { evaluate, isPresent, EvaluationError, type InputLookup, type Value, type VariableLookup } from './evaluate';
import { inspectString } from '../values';

export type { Expr, BinaryOperator } from './parser';
export type { InputLookup, InputValue, Value, VariableLookup } from './evaluate';
export { MAX_TOKENS } from './lexer';

/**
 * Which GitLab error class the failure corresponds to: `statement` (empty expression),
 * `lexer` (Lexer::SyntaxError: unknown lexeme, too many tokens, invalid regular expression),
 * `parser` (Parser::ParseError), `operator` (Operator::OperatorError: missing operand),
 * `evaluation` (a combination GitLab cannot evaluate; only from validateExpression).
 */
export type ExpressionErrorKind = 'statement' | 'lexer' | 'parser' | 'operator' | 'evaluation';

export interface ExpressionError {
  readonly kind: ExpressionErrorKind;
  /** GitLab's message, e.g. `Unknown lexeme found!`, `Unmatched parenthesis`. */
  readonly message: string;
}

export type ParseResult = { readonly ok: true; readonly expr: Expr } | { readonly ok: false; readonly error: ExpressionError };

/** What configuration errors say for any invalid `if` (GitLab's ExpressionValidator). */
export const INVALID_EXPRESSION_SYNTAX = 'invalid expression syntax';

/**
 * Parse an expression. GitLab's `Statement#parse_tree`: an expression without any token
 * (empty or whitespace only) is a bare StatementError, reported here as `Empty expression`.
 */
export function parseExpression(text: string): ParseResult {
  try {
    const tokens = tokenize(text);
    if (tokens.length === 0) return { ok: false, error: { kind: 'statement', message: 'Empty expression' } };
    return { ok: true, expr: parseTokens(tokens) };
  } catch (e) {
    const error = asExpressionError(e);
    if (error === null) throw e;
    return { ok: false, error };
  }
}

/**
 * Evaluate a parsed expression to GitLab's `truthful?`: the value is present (not null,
 * false, blank or empty). A combination GitLab cannot evaluate gives false.
 * `variables` decides which variables the expression sees; `inputs` serves
 * `$[[ inputs.name ]]` (only `spec:inputs:rules` passes one; elsewhere such a token is null).
 */
export function evaluateExpression(expr: Expr, variables: VariableLookup, inputs?: InputLookup): boolean {
  try {
    return isPresent(evaluate(expr, { variables, inputs }));
  } catch (e) {
    if (e instanceof EvaluationError) return false;
    throw e;
  }
}

/**
 * The expression's value before `present?` (GitLab's `Statement#evaluate`): a string, null,
 * a boolean, a pattern, or an input's value. Throws EvaluationError (see evaluate.ts).
 */
export function evaluateExpressionValue(expr: Expr, variables: VariableLookup, inputs?: InputLookup): Value {
  return evaluate(expr, { variables, inputs });
}

/** GitLab's `Statement.new(text, variables).truthful?`: parse and evaluate; any error is false. */
export function isTruthful(text: string, variables: VariableLookup, inputs?: InputLookup): boolean {
  const parsed = parseExpression(text);
  return parsed.ok && evaluateExpression(parsed.expr, variables, inputs);
}

/**
 * Config-time check (GitLab's ExpressionValidator → `Statement#valid?`): null when `text` is a
 * valid expression, else GitLab's internal message. Like GitLab, the expression is also
 * evaluated once with no variables, so combinations that cannot be evaluated are rejected.
 */
export function validateExpression(text: unknown): string | null {
  if (typeof text !== 'string') return 'Expression is not a string';
  const parsed = parseExpression(text);
  if (!parsed.ok) return parsed.error.message;
  try {
    evaluate(parsed.expr, { variables: () => undefined });
    return null;
  } catch (e) {
    if (e instanceof EvaluationError) return e.message;
    throw e;
  }
}

/**
 * The input names an expression refers to (`$[[ inputs.x ]]`), each once, in order of
 * appearance — for `spec:inputs:rules` to know which inputs a rule depends on. GitLab's
 * `Statement#input_names` walks only binary operators; this also looks under `!`, so an input
 * used only as `!$[[ inputs.x ]]` still counts as referenced.
 */
export function inputNames(expr: Expr): string[] {
  const names = new Set<string>();
  const walk = (e: Expr): void => {
    if (e.type === 'input') names.add(e.name);
    else if (e.type === 'not') walk(e.operand);
    else if ('left' in e) {
      walk(e.left);
      walk(e.right);
    }
  };
  walk(expr);
  return [...names];
}

/** GitLab's `inspect` of a parse tree, e.g. `or($A, and($B, equals($C, "x")))` — for tests and lint detail. */
export function inspectExpression(expr: Expr): string {
  switch (expr.type) {
    case 'string':
      return inspectString(expr.value);
    case 'variable':
      return `$${expr.name}`;
    case 'input':
      return `$[[ inputs.${expr.name} ]]`;
    case 'null':
      return 'null';
    case 'boolean':
      return String(expr.value);
    case 'pattern':
      return `/${expr.text}/`;
    case 'not':
      return `not(${inspectExpression(expr.operand)})`;
    default:
      return `${expr.type}(${inspectExpression(expr.left)}, ${inspectExpression(expr.right)})`;
  }
}

function asExpressionError(e: unknown): ExpressionError | null {
  if (e instanceof LexerError || e instanceof ParserError || e instanceof OperatorError || e instanceof EvaluationError) {
    return { kind: e.kind, message: e.message };
  }
  return null;
}
