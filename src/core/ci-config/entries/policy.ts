/**
 * `only:` / `except:` (deprecated, still everywhere): a list of refs, or
 * `{refs, variables, changes, kubernetes}`. Ref entries are `branches`, `tags`, a pipeline
 * source keyword (`api`, `pushes`, `schedules`, `triggers`, `web`, `pipelines`,
 * `merge_requests`, `external`, `chat`, …), a `/regex/` (RE2) or a literal ref, each
 * optionally `@group/project`. Evaluated in rules/policy.ts.
 */
import { attrError, configError, knownKeys, stringList, type Entry } from './common';
import { isValidSlashPattern, parseSlashPattern } from '../conditions';
import { validExpression } from '../rules/expression';
import { isMap, isString } from '../values';

export interface PolicyEntry {
  refs?: string[];
  variables?: string[];
  changes?: string[];
  kubernetes?: 'active';
}

function refList(e: Entry, v: unknown, attribute: string): string[] | undefined {
  const ok = Array.isArray(v) && v.every((x) => isString(x) && (parseSlashPattern(x) === null || isValidSlashPattern(x)));
  if (!ok) {
    const msg = 'should be an array of strings or regular expressions using re2 syntax';
    return attribute === 'config' ? configError(e, msg) : attrError(e, attribute, msg);
  }
  return [...(v as string[])];
}

export function policy(e: Entry, v: unknown): PolicyEntry | undefined {
  if (Array.isArray(v)) {
    const refs = refList(e, v, 'config');
    return refs && { refs };
  }
  if (!isMap(v)) { e.errors.add(e.location, 'has to be either an array of conditions or a hash'); return undefined; }
  if (!knownKeys(e, v, ['refs', 'kubernetes', 'variables', 'changes'])) return undefined;
  const before = e.errors.count;
  const out: PolicyEntry = {};
  if (v.refs !== undefined && v.refs !== null) { const r = refList(e, v.refs, 'refs'); if (r) out.refs = r; }
  if (v.variables !== undefined && v.variables !== null) {
    const list = stringList(e, v.variables, 'variables');
    if (list) {
      if (list.some((s) => !validExpression(s))) attrError(e, 'variables', 'invalid expression syntax');
      else out.variables = list;
    }
  }
  if (v.changes !== undefined && v.changes !== null) { const c = stringList(e, v.changes, 'changes'); if (c) out.changes = c; }
  if (v.kubernetes !== undefined && v.kubernetes !== null) {
    if (v.kubernetes !== 'active') attrError(e, 'kubernetes', `unknown value: ${String(v.kubernetes)}`);
    else out.kubernetes = 'active';
  }
  return e.errors.count === before ? out : undefined;
}
