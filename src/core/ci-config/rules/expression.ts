/**
 * `rules:if` and `only/except:variables` conditions through GitLab's expression language
 * (../expressions/: lexer, parser, evaluator). Parsed expressions are cached by text; an
 * expression that fails while evaluating is false, as in GitLab.
 */
import { evaluateExpression, parseExpression, validateExpression, type Expr } from '../expressions';

export type VariableLookup = (name: string) => string | undefined;

const cache = new Map<string, Expr | null>();

function parsed(text: string): Expr | null {
  let hit = cache.get(text);
  if (hit === undefined) {
    const result = parseExpression(text);
    hit = result.ok ? result.expr : null;
    if (cache.size > 10_000) cache.clear();
    cache.set(text, hit);
  }
  return hit;
}

/** Config-time check (GitLab evaluates once without variables too): `… if invalid expression syntax` when false. */
export function validExpression(text: string): boolean {
  return validateExpression(text) === null;
}

export function evaluateCondition(text: string, lookup: VariableLookup): boolean {
  const expr = parsed(text);
  if (expr === null) return false;
  try {
    return evaluateExpression(expr, lookup);
  } catch {
    return false;
  }
}
