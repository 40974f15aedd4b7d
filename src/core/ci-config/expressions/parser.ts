/**
 * Parser of the `rules:if` expression language — GitLab's `Expression::Parser`, step by step,
 * so that every malformed expression fails with the same error GitLab raises first.
 *
 * 1. Shunting-yard to reverse Polish notation. Precedence numbers are GitLab's (lower binds
 *    tighter): `!` 1, `==` `!=` `=~` `!~` 10, `&&` 11, `||` 12, `)` 900, `(` 901. A binary
 *    operator first moves to the output every stacked operator whose number is ≤ its own
 *    (so equal levels are left-associative, and a pending `!` always binds first:
 *    `!$A == "x"` is `(!$A) == "x"`); `!` and `(` are pushed as they come; `)` moves out
 *    everything down to the nearest `(` and drops it, or fails with `Unmatched parenthesis`
 *    when the stack runs empty. Leftover operators follow in stack order — an unclosed `(`
 *    among them.
 * 2. The RPN is folded on a stack: a value is built (a pattern is compiled here and fails with
 *    `Invalid regular expression!`), `!` takes one operand (`Invalid operand` if none), a binary
 *    operator takes two (`Invalid left operand` / `Invalid right operand`), and a leftover `(`
 *    is `Unprocessable token found in parse tree: parenthesis_open`. More than one node left is
 *    `Unreachable nodes in parse tree`, none is `Empty parse tree`.
 */
import { compileSlashPattern, UntrustedRegexpError, type UntrustedRegexp } from '../../untrusted-regexp';
import { LexerError, type Token, type TokenKind } from './lexer';

export type BinaryOperator = 'equals' | 'not_equals' | 'matches' | 'not_matches' | 'and' | 'or';

export type Expr =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'variable'; readonly name: string }
  | { readonly type: 'input'; readonly name: string }
  | { readonly type: 'null' }
  | { readonly type: 'boolean'; readonly value: boolean }
  /** `text` is the pattern as GitLab keeps it: the lexeme with `\/` turned into `/`. */
  | { readonly type: 'pattern'; readonly text: string; readonly regexp: UntrustedRegexp }
  | { readonly type: BinaryOperator; readonly left: Expr; readonly right: Expr }
  | { readonly type: 'not'; readonly operand: Expr };

/** GitLab's `Parser::ParseError`. */
export class ParserError extends Error {
  readonly kind = 'parser' as const;
}

/** GitLab's `Operator::OperatorError` (an operator without its operand). */
export class OperatorError extends Error {
  readonly kind = 'operator' as const;
}

type Role = 'value' | 'logical_operator' | 'unary_operator' | 'parenthesis_open' | 'parenthesis_close';

const ROLE: Record<TokenKind, Role> = {
  parenthesis_open: 'parenthesis_open',
  parenthesis_close: 'parenthesis_close',
  input: 'value',
  variable: 'value',
  string: 'value',
  pattern: 'value',
  null: 'value',
  boolean: 'value',
  equals: 'logical_operator',
  matches: 'logical_operator',
  not_equals: 'logical_operator',
  not_matches: 'logical_operator',
  and: 'logical_operator',
  or: 'logical_operator',
  not: 'unary_operator',
};

const PRECEDENCE: Partial<Record<TokenKind, number>> = {
  not: 1,
  equals: 10,
  matches: 10,
  not_equals: 10,
  not_matches: 10,
  and: 11,
  or: 12,
  parenthesis_close: 900,
  parenthesis_open: 901,
};

/** GitLab's `consume?`: whether `token` moves `top` (the operator stack's top) to the output. */
function consumes(token: Token, top: Token | undefined): boolean {
  return top !== undefined && PRECEDENCE[token.kind]! >= PRECEDENCE[top.kind]!;
}

function toRpn(tokens: readonly Token[]): Token[] {
  const output: Token[] = [];
  const operators: Token[] = [];
  for (const token of tokens) {
    switch (ROLE[token.kind]) {
      case 'value':
        output.push(token);
        break;
      case 'logical_operator':
        while (consumes(token, operators.at(-1))) output.push(operators.pop()!);
        operators.push(token);
        break;
      case 'parenthesis_open':
      case 'unary_operator':
        operators.push(token);
        break;
      case 'parenthesis_close':
        while (consumes(token, operators.at(-1))) output.push(operators.pop()!);
        if (operators.length === 0) throw new ParserError('Unmatched parenthesis');
        if (operators.at(-1)!.kind === 'parenthesis_open') operators.pop();
        break;
    }
  }
  return output.concat(operators.reverse());
}

export function parseTokens(tokens: readonly Token[]): Expr {
  const results: Expr[] = [];
  for (const token of toRpn(tokens)) {
    switch (ROLE[token.kind]) {
      case 'value':
        results.push(buildValue(token));
        break;
      case 'unary_operator': {
        const operand = results.pop();
        if (operand === undefined) throw new OperatorError('Invalid operand');
        results.push({ type: 'not', operand });
        break;
      }
      case 'logical_operator': {
        const right = results.pop();
        const left = results.pop();
        if (left === undefined) throw new OperatorError('Invalid left operand');
        if (right === undefined) throw new OperatorError('Invalid right operand');
        results.push({ type: token.kind as BinaryOperator, left, right });
        break;
      }
      default:
        throw new ParserError(`Unprocessable token found in parse tree: ${ROLE[token.kind]}`);
    }
  }
  if (results.length > 1) throw new ParserError('Unreachable nodes in parse tree');
  if (results.length < 1) throw new ParserError('Empty parse tree');
  return results[0];
}

function buildValue(token: Token): Expr {
  switch (token.kind) {
    case 'string':
      return { type: 'string', value: token.value };
    case 'variable':
      return { type: 'variable', name: token.value };
    case 'input':
      return { type: 'input', name: token.value };
    case 'null':
      return { type: 'null' };
    case 'boolean':
      return { type: 'boolean', value: token.value === 'true' };
    case 'pattern':
      return { type: 'pattern', text: token.value, regexp: compilePatternValue(token.value) };
    default:
      throw new Error(`not a value token: ${token.kind}`);
  }
}

/**
 * GitLab's `Pattern.new(text)`: `text` (already with `\/` → `/`) must be a `/pattern/flags`
 * literal that RE2 compiles, else `Invalid regular expression!` (a lexer SyntaxError).
 */
export function compilePatternValue(text: string): UntrustedRegexp {
  try {
    return compileSlashPattern(text);
  } catch (e) {
    if (e instanceof UntrustedRegexpError) throw new LexerError('Invalid regular expression!');
    throw e;
  }
}
