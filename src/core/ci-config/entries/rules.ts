/**
 * `rules:` entries (jobs, `workflow:rules`, `include:rules`): each rule is a hash of clauses
 * (`if`, `changes`, `exists`) and attributes; which attributes and `when` values are allowed
 * depends on where the rules are. Nested lists (from `!reference`) are flattened, 10 deep
 * at most. Evaluation is rules/evaluate.ts.
 */
import { attrError, boolean, child, configError, knownKeys, stringList, type Entry } from './common';
import { needs, type NeedEntry } from './needs';
import { variables, type VariableDef } from './variables';
import { autoCancel, type AutoCancelEntry } from './workflow-auto-cancel';
import { validExpression } from '../rules/expression';
import { isMap, isString, type YamlMap } from '../values';
import { parseDuration } from '../../duration';

export interface ChangesClause { paths: string[]; compareTo?: string }
export interface ExistsClause { paths: string[]; project?: string; ref?: string }

export interface RuleEntry {
  if?: string;
  changes?: ChangesClause;
  exists?: ExistsClause;
  when?: string;
  startIn?: number;
  allowFailure?: boolean;
  interruptible?: boolean;
  variables?: VariableDef[];
  needs?: NeedEntry[];
  autoCancel?: AutoCancelEntry;
}

export interface RulesContext {
  allowedKeys: readonly string[];
  allowedWhen: readonly string[];
}

export const JOB_RULES: RulesContext = {
  allowedKeys: ['if', 'changes', 'exists', 'when', 'start_in', 'allow_failure', 'variables', 'needs', 'interruptible'],
  allowedWhen: ['on_success', 'on_failure', 'always', 'never', 'manual', 'delayed'],
};
export const WORKFLOW_RULES: RulesContext = {
  allowedKeys: ['if', 'changes', 'exists', 'when', 'start_in', 'allow_failure', 'variables', 'needs', 'auto_cancel'],
  allowedWhen: ['always', 'never'],
};
export const INCLUDE_RULES: RulesContext = {
  allowedKeys: ['if', 'exists', 'changes', 'when'],
  allowedWhen: ['never', 'always'],
};

const MAX_LEVEL = 10;
const MAX_PATHS = 50;
const ONE_WEEK = 7 * 24 * 3600;

/** Flattens rule lists nested by `!reference` (at most 10 levels). */
function flatten(v: unknown[], depth = 1): unknown[] | null {
  const out: unknown[] = [];
  for (const x of v) {
    if (Array.isArray(x)) {
      if (depth >= MAX_LEVEL) return null;
      const inner = flatten(x, depth + 1);
      if (inner === null) return null;
      out.push(...inner);
    } else out.push(x);
  }
  return out;
}

export function rules(e: Entry, v: unknown, ctx: RulesContext): RuleEntry[] | undefined {
  if (!Array.isArray(v)) return configError(e, 'should be an array of hashes');
  const list = flatten(v);
  if (list === null || !list.every(isMap)) return attrError(e, 'rules', 'should be an array containing hashes and arrays of hashes');
  const re = child(e, 'rules');
  const out: RuleEntry[] = [];
  const before = e.errors.count;
  for (const item of list as YamlMap[]) {
    const r = rule(child(re, 'rule'), item, ctx);
    if (r) out.push(r);
  }
  return e.errors.count === before ? out : undefined;
}

function paths(e: Entry, v: unknown): string[] | undefined {
  const list = stringList(e, v);
  if (list && list.length > MAX_PATHS) return configError(e, `has too many entries (maximum ${MAX_PATHS})`);
  return list;
}

function rule(e: Entry, v: YamlMap, ctx: RulesContext): RuleEntry | undefined {
  if (Object.keys(v).length === 0) return configError(e, "can't be blank");
  if (!knownKeys(e, v, ctx.allowedKeys)) return undefined;
  const before = e.errors.count;
  const out: RuleEntry = {};
  const set = (k: string) => v[k] !== undefined && v[k] !== null;
  if (set('if')) {
    if (!isString(v.if) || !validExpression(v.if)) attrError(e, 'if', 'invalid expression syntax');
    else out.if = v.if;
  }
  if (set('when')) {
    if (!ctx.allowedWhen.includes(String(v.when))) attrError(e, 'when', `unknown value: ${String(v.when)}`);
    else out.when = String(v.when);
  }
  if (out.when === 'delayed') {
    const seconds = isString(v.start_in) ? parseDuration(v.start_in) : null;
    if (!set('start_in')) attrError(e, 'start_in', "can't be blank");
    else if (seconds === null) attrError(e, 'start_in', 'should be a duration');
    else if (seconds > ONE_WEEK) attrError(e, 'start_in', 'should not exceed the limit');
    else out.startIn = seconds;
  } else if (Object.hasOwn(v, 'start_in') && ctx === JOB_RULES) {
    configError(e, 'contains disallowed keys: start_in');
  }
  if (set('changes')) {
    const ce = child(e, 'changes');
    if (Array.isArray(v.changes)) { const p = paths(ce, v.changes); if (p) out.changes = { paths: p }; }
    else if (isMap(v.changes)) {
      if (knownKeys(ce, v.changes, ['paths', 'compare_to'])) {
        const p = v.changes.paths === undefined ? undefined : paths(child(ce, 'paths'), v.changes.paths);
        if (v.changes.paths === undefined) attrError(ce, 'paths', "can't be blank");
        const cmp = v.changes.compare_to;
        if (cmp !== undefined && cmp !== null && !isString(cmp)) attrError(ce, 'compare_to', 'should be a string');
        if (p) out.changes = { paths: p, ...(isString(cmp) ? { compareTo: cmp } : {}) };
      }
    } else configError(ce, 'should be an array or a hash');
  }
  if (set('exists')) {
    const xe = child(e, 'exists');
    if (Array.isArray(v.exists) || isString(v.exists)) { const p = paths(xe, isString(v.exists) ? [v.exists] : v.exists); if (p) out.exists = { paths: p }; }
    else if (isMap(v.exists)) {
      if (knownKeys(xe, v.exists, ['paths', 'project', 'ref'])) {
        const p = paths(child(xe, 'paths'), v.exists.paths);
        const { project, ref } = v.exists as Record<string, unknown>;
        if (project !== undefined && project !== null && !isString(project)) attrError(xe, 'project', 'should be a string');
        if (ref !== undefined && ref !== null && !isString(ref)) attrError(xe, 'ref', 'should be a string');
        if (ref !== undefined && project === undefined) attrError(xe, 'ref', 'requires project');
        if (p) out.exists = { paths: p, ...(isString(project) ? { project } : {}), ...(isString(ref) ? { ref } : {}) };
      }
    } else configError(xe, 'should be an array or a hash');
  }
  if (set('allow_failure')) { const b = boolean(e, v.allow_failure, 'allow_failure'); if (b !== undefined) out.allowFailure = b; }
  if (set('interruptible')) { const b = boolean(e, v.interruptible, 'interruptible'); if (b !== undefined) out.interruptible = b; }
  // GitLab's rule entry gives its variables no value data keys: only `KEY: value`
  if (set('variables')) { const vars = variables(child(e, 'variables'), v.variables, []); if (vars) out.variables = vars; }
  if (set('needs')) { const n = needs(child(e, 'needs'), v.needs); if (n) out.needs = n; }
  if (Object.hasOwn(v, 'needs') && Array.isArray(v.needs) && v.needs.length === 0) out.needs = [];
  if (set('auto_cancel')) { const a = autoCancel(child(e, 'auto_cancel'), v.auto_cancel); if (a) out.autoCancel = a; }
  return e.errors.count === before ? out : undefined;
}
