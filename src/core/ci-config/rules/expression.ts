/**
 * `rules:if` and `only/except:variables` conditions through GitLab's expression language
 * (../expressions/: lexer, parser, evaluator). Parsed expressions are cached by text; an
 * expression that fails while evaluating is false, as in GitLab.
 */
import { evaluateExpression, parseExpression } from '../expressions';

export type VariableLookup = (name: string) => string | undefined;

const cache = new Map<string, ReturnType<typeof parseExpression> | null>();

function parsed(text: string): ReturnType<typeof parseExpression> | null {
  let hit = cache.get(text);
  if (hit === undefined) {
    try { hit = parseExpression(text); } catch { hit = null; }
    if (cache.size > 10_000) cache.clear();
    cache.set(text, hit);
  }
  return hit;
}

/** Config-time check: `… if invalid expression syntax` when false. */
export function validExpression(text: string): boolean {
  return parsed(text) !== null;
}

export function evaluateCondition(text: string, lookup: VariableLookup): boolean {
  const expr = parsed(text);
  if (expr === null) return false;
  try {
    return evaluateExpression(expr, lookup) === true;
  } catch {
    return false;
  }
}
