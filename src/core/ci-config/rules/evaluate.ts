/**
 * Evaluating `rules:` (jobs, workflow, include): the first rule whose clauses all hold wins;
 * a rule without clauses always matches; no match means "never". Clauses:
 * - `if`: GitLab's expression language over the raw variable values;
 * - `changes`: globs (fnmatch) against the paths the push changed (`before_sha..sha`), or
 *   against `compare_to`; true when the change set is unknown (new branch, tag, API, …);
 * - `exists`: globs against the files of the commit (or of another project's ref).
 * Paths expand variables as GitLab does (unknown names stay as written).
 */
import type { RepositoryFiles } from '../types';
import { expandExisting } from '../expand';
import { fnmatch } from '../globs';
import type { ChangesClause, ExistsClause, RuleEntry } from '../entries/rules';
import { evaluateCondition, type VariableLookup } from './expression';

/** A clause that cannot be evaluated (GitLab: `Failed to parse rule for <job>: <message>`). */
export class RuleError extends Error {}

export interface RuleEnv {
  /** raw values, for `if` */
  lookup: VariableLookup;
  /** expanded values, for paths in `changes`/`exists` */
  expandLookup: VariableLookup;
  changedPaths: string[] | null;
  changedSince?(ref: string): Promise<string[] | null>;
  files: RepositoryFiles | null;
  /** `exists:project` */
  project?(path: string, ref: string | undefined): Promise<{ files: RepositoryFiles } | { error: string }>;
}

const MAX_COMPARISONS = 50_000;

export async function firstMatchingRule(rules: readonly RuleEntry[], env: RuleEnv): Promise<RuleEntry | null> {
  for (const rule of rules) if (await matches(rule, env)) return rule;
  return null;
}

export async function matches(rule: RuleEntry, env: RuleEnv): Promise<boolean> {
  if (rule.if !== undefined && !evaluateCondition(rule.if, env.lookup)) return false;
  if (rule.changes !== undefined && !(await changesMatch(rule.changes, env))) return false;
  if (rule.exists !== undefined && !(await existsMatch(rule.exists, env))) return false;
  return true;
}

export async function changesMatch(clause: ChangesClause, env: RuleEnv): Promise<boolean> {
  let changed = env.changedPaths;
  if (clause.compareTo !== undefined) {
    const ref = expandExisting(clause.compareTo, env.expandLookup);
    changed = env.changedSince ? await env.changedSince(ref) : null;
    if (changed === null) throw new RuleError('rules:changes:compare_to is not a valid ref');
  }
  if (changed === null) return true;
  const patterns = clause.paths.map((p) => expandExisting(p, env.expandLookup)).filter((p) => p !== '');
  if (patterns.length === 0 || changed.length === 0) return false;
  if (patterns.length * changed.length > MAX_COMPARISONS) return true;
  return changed.some((path) => patterns.some((p) => fnmatch(p, path)));
}

export async function existsMatch(clause: ExistsClause, env: RuleEnv): Promise<boolean> {
  let files = env.files;
  if (clause.project !== undefined) {
    const project = expandExisting(clause.project, env.expandLookup);
    const ref = clause.ref === undefined ? undefined : expandExisting(clause.ref, env.expandLookup);
    const found = env.project ? await env.project(project, ref) : { error: `rules:exists:project \`${project}\` is not a valid project path` };
    if ('error' in found) throw new RuleError(found.error);
    files = found.files;
  }
  if (files === null) return false;
  const patterns = clause.paths.map((p) => expandExisting(p, env.expandLookup)).filter((p) => p !== '');
  if (patterns.length === 0) return false;
  let paths = await files.list();
  if (!patterns.some((p) => p.includes('/') || p.includes('**'))) paths = paths.filter((p) => !p.includes('/'));
  if (patterns.length * paths.length > MAX_COMPARISONS) return true;
  for (const pattern of patterns) {
    if (pattern.endsWith('/')) {
      const dir = pattern.slice(0, -1);
      if (paths.some((p) => p.includes('/') && dirsOf(p).some((d) => fnmatch(dir, d)))) return true;
      continue;
    }
    if (!/[*?[{]/.test(pattern)) { if (paths.includes(pattern)) return true; continue; }
    if (paths.some((p) => fnmatch(pattern, p))) return true;
  }
  return false;
}

function dirsOf(path: string): string[] {
  const parts = path.split('/').slice(0, -1);
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}
