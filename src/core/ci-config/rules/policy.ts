/**
 * `only:` / `except:` evaluation (GitLab's Build::Policy): refs (`branches`, `tags`, pipeline
 * source keywords, `/regex/` (RE2) or a literal ref, `@project` suffixes), `variables`
 * (expressions: any true), `changes` (as `rules:changes`) and `kubernetes: active` (Baton has
 * no Kubernetes integration, so never active). All given parts must hold.
 */
import type { PolicyEntry } from '../entries/policy';
import { slashPattern, parseSlashPattern } from '../conditions';
import type { PipelineSource } from '../types';
import { changesMatch, type RuleEnv } from './evaluate';
import { evaluateCondition } from './expression';

export interface PolicyPipeline {
  ref: string;
  tag: boolean;
  source: PipelineSource;
  projectPath: string;
}

/** GitLab's source keyword of a pipeline source (`push` → `pushes`, `merge_request_event` → `merge_requests`). */
function sourceKeywords(source: PipelineSource): string[] {
  const base = source.replace(/_event$/, '');
  const plural = base.endsWith('sh') || base.endsWith('ch') ? `${base}es` : base.endsWith('y') ? `${base.slice(0, -1)}ies` : `${base}s`;
  return [base, plural];
}

function refMatches(patterns: readonly string[], p: PolicyPipeline): boolean {
  return patterns.some((entry) => {
    const at = entry.lastIndexOf('@');
    const isRegex = parseSlashPattern(entry) !== null;
    const [pattern, path] = !isRegex && at > 0 ? [entry.slice(0, at), entry.slice(at + 1)] : [entry, undefined];
    if (path !== undefined && path !== p.projectPath) return false;
    if (pattern === 'tags' && p.tag) return true;
    if (pattern === 'branches' && !p.tag) return true;
    if (sourceKeywords(p.source).includes(pattern)) return true;
    const re = slashPattern(pattern);
    return re ? re.test(p.ref) : pattern === p.ref;
  });
}

export async function policySatisfied(policy: PolicyEntry, p: PolicyPipeline, env: RuleEnv): Promise<boolean> {
  if (policy.refs !== undefined && !refMatches(policy.refs, p)) return false;
  if (policy.variables !== undefined && !policy.variables.some((v) => evaluateCondition(v, env.lookup))) return false;
  if (policy.changes !== undefined && !(await changesMatch({ paths: policy.changes }, env))) return false;
  if (policy.kubernetes !== undefined) return false;
  return true;
}

/** A job runs when `only` (default: branches and tags) holds and `except` does not. */
export async function jobPolicy(only: PolicyEntry | undefined, except: PolicyEntry | undefined, p: PolicyPipeline, env: RuleEnv): Promise<boolean> {
  if (only !== undefined && !(await policySatisfied(only, p, env))) return false;
  if (except !== undefined && (await policySatisfiedForExcept(except, p, env))) return false;
  return true;
}

/** `except` excludes the job when any of its given parts holds (GitLab's documented rule). */
async function policySatisfiedForExcept(policy: PolicyEntry, p: PolicyPipeline, env: RuleEnv): Promise<boolean> {
  if (policy.refs !== undefined && refMatches(policy.refs, p)) return true;
  if (policy.variables !== undefined && policy.variables.some((v) => evaluateCondition(v, env.lookup))) return true;
  if (policy.changes !== undefined && (await changesMatch({ paths: policy.changes }, env))) return true;
  return false;
}
