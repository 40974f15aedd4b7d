/**
 * The lint API's answer (spec ci-yaml.md §10): `{valid, errors, warnings, merged_yaml,
 * includes, jobs}`. A static lint lists every job of the configuration (rules not
 * evaluated); a dry run lists the jobs a push pipeline would get, and its errors include
 * the pipeline-creation ones (`Pipeline filtered out by workflow rules.`, missing needs …).
 */
import type { JobSpec } from '../../db/job-spec';
import type { StaticConfig } from './index';
import type { CompileResult, IncludedFile } from './types';
import { needsOf, type Instance } from './matrix';

export interface LintJob {
  name: string;
  stage: string;
  before_script: string[];
  script: string[];
  after_script: string[];
  tag_list: string[];
  only?: unknown;
  except?: unknown;
  environment: string | null;
  when: string;
  allow_failure: boolean;
  needs?: Array<{ name: string; artifacts: boolean }>;
}

export interface LintResult {
  valid: boolean;
  errors: string[];
  warnings: string[];
  merged_yaml: string | null;
  includes: IncludedFile[];
  jobs?: LintJob[];
}

function base(spec: JobSpec): LintJob {
  return {
    name: spec.name, stage: spec.stage, before_script: spec.beforeScript, script: spec.script, after_script: spec.afterScript,
    tag_list: spec.tags, environment: spec.environment?.name ?? null, when: spec.when, allow_failure: spec.allowFailure,
  };
}

function staticJob(i: Instance, workflowRules: boolean): LintJob {
  const e = i.entry;
  const job = base({ ...e.spec, name: i.name });
  const config = e.config;
  if (config.only !== undefined) job.only = config.only;
  else if (!e.rules && !workflowRules) job.only = { refs: ['branches', 'tags'] };
  if (config.except !== undefined) job.except = config.except;
  const needs = needsOf(i);
  if (needs) job.needs = needs.map((n) => ({ name: n.job, artifacts: n.artifacts }));
  return job;
}

export function staticLint(checked: StaticConfig, includeJobs: boolean): LintResult {
  const out: LintResult = {
    valid: checked.errors.length === 0, errors: checked.errors, warnings: checked.warnings,
    merged_yaml: checked.mergedYaml, includes: checked.includes,
  };
  if (includeJobs) out.jobs = checked.errors.length ? [] : checked.instances.map((i) => staticJob(i, checked.root?.workflow.rules !== undefined));
  return out;
}

export function dryRunLint(result: CompileResult, includeJobs: boolean): LintResult {
  const out: LintResult = {
    valid: result.errors.length === 0, errors: result.errors, warnings: result.warnings,
    merged_yaml: result.mergedYaml, includes: result.includes,
  };
  if (includeJobs) out.jobs = (result.plan?.jobs ?? []).map(base);
  return out;
}

export function invalidLint(errors: string[]): LintResult {
  return { valid: false, errors, warnings: [], merged_yaml: null, includes: [] };
}
