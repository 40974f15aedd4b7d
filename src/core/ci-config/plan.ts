/**
 * Step 7: the pipeline for one commit — `workflow:rules` (is there a pipeline, with which
 * variables and name), each job's `rules` or `only`/`except`, needs re-checked against the
 * jobs that remain, GitLab-side expansion (environment, resource_group, tags, trigger
 * project), `cache:key:files`, and the PipelinePlan with stage indexes.
 */
import { createHash } from 'node:crypto';
import type { CacheSpec, JobSpec, NeedSpec } from '../../db/job-spec';
import type { CompileContext, PipelinePlan, WorkflowPlan } from './types';
import type { RootEntry } from './entries/root';
import type { JobEntry } from './entries/job';
import type { VariableDef } from './entries/variables';
import { expand, expandCollection, expandExisting, type CollectionItem } from './expand';
import { firstMatchingRule, RuleError, type RuleEnv } from './rules/evaluate';
import { jobPolicy } from './rules/policy';
import { needTargets, type StageTable } from './validate';
import { needsOf, type Instance } from './matrix';
import { environmentSlug, slugify } from '../predefined-variables';
import { normalizeTags } from '../tag-list';
import { storableEnvironmentName } from './entries/environment';
import type { RuleEntry } from './entries/rules';

/** Why no pipeline is created (the creator answers 400 with it). */
export class PlanError extends Error {
  constructor(readonly messages: string[], readonly filteredOut = false) { super(messages.join(', ')); }
}

export const FILTERED_OUT = 'Pipeline filtered out by workflow rules.';
const NO_JOBS_RULES = 'Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline.';
const NO_JOBS = 'No stages / jobs for this pipeline.';

/** Variables in GitLab's precedence: predefined < YAML (global, then job) < the user's < project and pipeline variables. */
export class Scope {
  private predefined = new Map<string, string>();
  private user = new Map<string, string>();
  private high = new Map<string, string>();
  constructor(ctx: CompileContext) {
    const pre = new Set(ctx.predefinedVariableNames ?? []);
    for (const [k, v] of Object.entries(ctx.variables)) (pre.has(k) ? this.predefined : this.high).set(k, v);
    for (const [k, v] of Object.entries(ctx.userVariables ?? {})) this.user.set(k, v);
  }
  /** raw values, for `if:` */
  lookup(yaml: readonly VariableDef[], extra: Record<string, string> = {}): (name: string) => string | undefined {
    const y = new Map<string, string>();
    for (const d of yaml) y.set(d.key, d.value);
    return (name) => this.high.get(name) ?? this.user.get(name) ?? y.get(name) ?? extra[name] ?? this.predefined.get(name);
  }
  /** the collection, expanded, for GitLab-side expansion */
  expanded(yaml: readonly VariableDef[], extra: Record<string, string> = {}): { lookup: (name: string) => string | undefined; cycle: string[] | null } {
    const items: CollectionItem[] = [];
    for (const [key, value] of this.predefined) items.push({ key, value });
    for (const [key, value] of Object.entries(extra)) items.push({ key, value });
    for (const d of yaml) items.push({ key: d.key, value: d.value, raw: d.raw });
    for (const [key, value] of this.user) items.push({ key, value });
    for (const [key, value] of this.high) items.push({ key, value });
    const { values, cycle } = expandCollection(items);
    return { lookup: (name) => values.get(name), cycle };
  }
}

/** `inherit:variables` applied to the global YAML variables. */
export function inheritedGlobals(globals: readonly VariableDef[], entry: JobEntry): VariableDef[] {
  const inh = entry.inherit.variables;
  if (inh === true) return [...globals];
  if (inh === false) return [];
  return globals.filter((g) => inh.includes(g.key));
}

/** Later lists win; a key keeps the place it first had (Ruby's Hash#merge, as GitLab merges them). */
function merge(...lists: VariableDef[][]): VariableDef[] {
  const map = new Map<string, VariableDef>();
  for (const list of lists) for (const d of list) map.set(d.key, d);
  return [...map.values()];
}

/**
 * A matrix instance's values are job variables (GitLab merges them into the job's `variables`
 * before anything reads them): they win over the job's own and the global YAML variables of
 * the same name, and rules, tags, environment and resource_group see them.
 */
function withMatrix(jobVariables: VariableDef[], inst: Instance): VariableDef[] {
  const matrix = inst.parallel?.matrix;
  if (!matrix) return jobVariables;
  return merge(jobVariables, Object.entries(matrix).map(([key, value]) => ({ key, value, raw: false })));
}

export interface PlanInput {
  root: RootEntry;
  instances: Instance[];
  stages: StageTable;
  ctx: CompileContext;
  warnings: string[];
}

export async function planPipeline({ root, instances, stages, ctx, warnings }: PlanInput): Promise<PipelinePlan> {
  const scope = new Scope(ctx);
  const env = (lookup: (n: string) => string | undefined, expandLookup: (n: string) => string | undefined): RuleEnv => ({
    lookup, expandLookup, changedPaths: ctx.changedPaths, changedSince: ctx.changedSince?.bind(ctx), files: ctx.files,
    project: async (path, ref) => { const r = await ctx.includes.project(path, ref); return 'error' in r ? { error: r.error } : { files: r.files }; },
  });

  // workflow:rules — whether there is a pipeline, and the variables its rule adds.
  let globals = root.variables;
  const workflow: WorkflowPlan = {
    autoCancel: { onNewCommit: root.workflow.autoCancel?.onNewCommit ?? 'conservative', onJobFailure: root.workflow.autoCancel?.onJobFailure ?? 'none' },
  };
  if (root.workflow.rules) {
    const ex = scope.expanded(globals);
    let rule: RuleEntry | null;
    try {
      rule = await firstMatchingRule(root.workflow.rules, env(scope.lookup(globals), ex.lookup));
    } catch (e) {
      if (e instanceof RuleError) throw new PlanError([`Failed to parse rule for workflow: ${e.message}`]);
      throw e;
    }
    if (rule === null || rule.when === 'never') throw new PlanError([FILTERED_OUT], true);
    if (rule.variables) globals = merge(globals, rule.variables);
    if (rule.autoCancel?.onNewCommit) workflow.autoCancel.onNewCommit = rule.autoCancel.onNewCommit;
    if (rule.autoCancel?.onJobFailure) workflow.autoCancel.onJobFailure = rule.autoCancel.onJobFailure;
  }
  if (root.workflow.name !== undefined) {
    const name = expand(root.workflow.name, scope.expanded(globals).lookup).trim();
    // GitLab's PipelineMetadata: the expanded name is at most 255 characters
    if (name.length > 255) throw new PlanError(['Failed to build pipeline metadata! Name is too long (maximum is 255 characters)']);
    if (name !== '') workflow.name = name;
  }

  // Each job's rules or only/except.
  const projectPath = ctx.variables.CI_PROJECT_PATH ?? '';
  const pipelineInfo = { ref: ctx.ref.name, tag: ctx.ref.tag, source: ctx.source, projectPath };
  // `tagLookup`: the job's variables before its rules ran, unexpanded (what GitLab expands runner tags with)
  const kept: Array<{ inst: Instance; spec: JobSpec; needs?: RuleEntry['needs'] | JobEntry['needs']; vars: VariableDef[]; tagLookup: (name: string) => string | undefined }> = [];
  for (const inst of instances) {
    const e = inst.entry;
    const jobGlobals = inheritedGlobals(globals, e);
    // what GitLab's variables builder gives a job before it exists (its rules see them)
    const jobPredefined: Record<string, string> = { CI_JOB_NAME: inst.name, CI_JOB_NAME_SLUG: slugify(inst.name), CI_JOB_STAGE: e.spec.stage };
    if (e.spec.when === 'manual') jobPredefined.CI_JOB_MANUAL = 'true';
    if (inst.parallel) jobPredefined.CI_NODE_INDEX = String(inst.parallel.index);
    jobPredefined.CI_NODE_TOTAL = String(inst.parallel?.total ?? 1);
    let jobVars = withMatrix(e.jobVariables, inst);
    const yaml = merge(jobGlobals, jobVars);
    const env0 = e.spec.environment;
    if (env0) {
      // the name as it will be expanded (an unset variable is nothing); the url as written
      const name = expand(env0.name, scope.expanded(yaml, jobPredefined).lookup);
      if (name !== '') {
        jobPredefined.CI_ENVIRONMENT_NAME = name;
        jobPredefined.CI_ENVIRONMENT_ACTION = env0.action;
        if (env0.deployment_tier) jobPredefined.CI_ENVIRONMENT_TIER = env0.deployment_tier;
        if (env0.url !== undefined) jobPredefined.CI_ENVIRONMENT_URL = env0.url;
      }
    }
    const lookup = scope.lookup(yaml, jobPredefined);
    const ex = scope.expanded(yaml, jobPredefined);
    const spec: JobSpec = structuredClone(e.spec);
    spec.name = inst.name;
    let needs = needsOf(inst);
    if (e.rules) {
      let rule: RuleEntry | null;
      try {
        rule = await firstMatchingRule(e.rules, env(lookup, ex.lookup));
      } catch (err) {
        if (err instanceof RuleError) throw new PlanError([`Failed to parse rule for ${inst.name}: ${err.message}`]);
        throw err;
      }
      if (rule === null || rule.when === 'never') continue;
      if (rule.when) spec.when = rule.when as JobSpec['when'];
      if (rule.startIn !== undefined) spec.startIn = rule.startIn;
      if (rule.allowFailure !== undefined) { spec.allowFailure = rule.allowFailure; delete spec.allowFailureExitCodes; }
      if (rule.interruptible !== undefined) spec.interruptible = rule.interruptible;
      if (rule.variables) jobVars = merge(jobVars, rule.variables);
      if (rule.needs && rule.needs.length > 0) needs = rule.needs;
    } else {
      const onlyDefault = e.only ?? (root.workflow.rules ? undefined : { refs: ['branches', 'tags'] });
      if (!(await jobPolicy(onlyDefault, e.except, pipelineInfo, env(lookup, ex.lookup)))) continue;
    }
    kept.push({ inst, spec, needs, vars: jobVars, tagLookup: lookup });
  }
  const hasRules = instances.some((i) => i.entry.rules !== undefined);
  if (kept.length === 0 || kept.every((k) => k.spec.stage === '.pre' || k.spec.stage === '.post')) {
    throw new PlanError([hasRules || root.workflow.rules ? NO_JOBS_RULES : NO_JOBS]);
  }

  // Needs against what remains; expansion with each job's own variables.
  const present = new Map(kept.map((k) => [k.inst.name, k]));
  const allByName = new Map(instances.map((i) => [i.name, i]));
  const byGroup = new Map<string, Instance[]>();
  for (const i of instances) { if (!byGroup.has(i.entry.name)) byGroup.set(i.entry.name, []); byGroup.get(i.entry.name)!.push(i); }
  const problems: string[] = [];
  const used = new Set(kept.map((k) => k.spec.stage));
  const planStages = stages.all.filter((s) => (s !== '.pre' && s !== '.post') || used.has(s));
  const jobs: JobSpec[] = [];
  for (const { inst, spec, needs, vars, tagLookup } of kept) {
    // GitLab's Seed::Build checks the job's own needs (taken before its rules ran), also when
    // the matching rule's needs replace them; a need of the rule on a job that is not in the
    // pipeline is left out, as GitLab's processing ignores it
    for (const n of needsOf(inst) ?? []) {
      if (n.optional) continue;
      for (const t of needTargets(n, byGroup, allByName) ?? []) {
        if (!present.has(t)) problems.push(`'${inst.name}' job needs '${t}' job, but '${t}' does not exist in the pipeline. This might be because of the only, except, or rules keywords. To need a job that sometimes does not exist in the pipeline, use needs:optional.`);
      }
    }
    if (needs !== undefined) {
      const resolved: NeedSpec[] = [];
      for (const n of needs) {
        // null: an optional need of a job that is not in the configuration
        for (const t of needTargets(n, byGroup, allByName) ?? []) if (present.has(t)) resolved.push({ job: t, artifacts: n.artifacts, optional: n.optional });
      }
      spec.needs = resolved;
    }
    if (spec.dependencies) {
      spec.dependencies = spec.dependencies.flatMap((d) => needTargets({ job: d, artifacts: true, optional: false }, byGroup, allByName) ?? []).filter((d) => present.has(d));
    }
    const yaml = merge(inheritedGlobals(globals, inst.entry), vars);
    const ex = scope.expanded(yaml, { CI_JOB_NAME: inst.name, CI_JOB_STAGE: spec.stage });
    if (ex.cycle) { problems.push(`${inst.name}: circular variable reference detected: [${ex.cycle.map((c) => JSON.stringify(c)).join(', ')}]`); continue; }
    const x = (s: string) => expandExisting(s, ex.lookup);
    // GitLab's ExpandVariables.expand: an unset variable is nothing (environment name,
    // resource_group, trigger:project); the resource group also sees the environment's
    // CI_ENVIRONMENT_NAME and _SLUG, as GitLab's resource group does. The url stays as written:
    // the runner expands CI_ENVIRONMENT_URL, and the deployment expands it with the job's own
    // variables (CI_JOB_ID …) when the job succeeds (jobs.ts)
    const blank = (s: string, more: Record<string, string> = {}) => expand(s, (n) => (Object.hasOwn(more, n) ? more[n] : ex.lookup(n)));
    let envVars: Record<string, string> = {};
    if (spec.environment) {
      spec.environment.name = blank(spec.environment.name);
      envVars = { CI_ENVIRONMENT_NAME: spec.environment.name, CI_ENVIRONMENT_SLUG: environmentSlug(spec.environment.name) };
      if (spec.environment.auto_stop_in !== undefined) spec.environment.auto_stop_in = x(spec.environment.auto_stop_in);
    }
    if (spec.resourceGroup !== undefined) {
      const key = blank(spec.resourceGroup, envVars);
      // GitLab's ResourceGroup model refuses such a key and the job runs without a group (said here, not by GitLab)
      if (key !== '' && !storableEnvironmentName(key)) warnings.push(`jobs:${inst.name} resource_group '${key}' is not a valid resource group key: the job runs without one`);
      if (storableEnvironmentName(key)) spec.resourceGroup = key;
      else delete spec.resourceGroup;
    }
    // GitLab's evaluate_runner_tags: expand_existing over the job's variables as they were before
    // its rules (rules:variables do not count), one level (a value's own references stay)
    spec.tags = normalizeTags(spec.tags.map((t) => expandExisting(t, tagLookup)));
    if (spec.trigger?.project !== undefined) spec.trigger.project = blank(spec.trigger.project);
    if (spec.trigger?.branch !== undefined) spec.trigger.branch = x(spec.trigger.branch);
    const variables: Record<string, string> = {};
    const raw: string[] = [];
    for (const d of vars) { Object.defineProperty(variables, d.key, { value: d.value, enumerable: true, writable: true, configurable: true }); if (d.raw) raw.push(d.key); }
    spec.variables = variables;
    if (raw.length) spec.rawVariables = raw;
    if (inst.entry.inherit.variables !== true) spec.globalVariables = inheritedGlobals(globals, inst.entry).map((g) => g.key);
    if (inst.parallel) spec.parallel = inst.parallel;
    if (inst.entry.cacheEntries) spec.cache = await resolveCaches(inst.entry.cacheEntries, ctx);
    spec.stageIdx = planStages.indexOf(spec.stage);
    jobs.push(spec);
  }
  if (problems.length) throw new PlanError(problems);
  const order = new Map(instances.map((i, n) => [i.name, n]));
  jobs.sort((a, b) => a.stageIdx - b.stageIdx || order.get(a.name)! - order.get(b.name)!);
  const variables: Record<string, string> = {};
  const rawVariables: string[] = [];
  for (const g of globals) { Object.defineProperty(variables, g.key, { value: g.value, enumerable: true, writable: true, configurable: true }); if (g.raw) rawVariables.push(g.key); }
  const plan: PipelinePlan = { stages: planStages, variables, jobs, workflow };
  if (rawVariables.length) plan.rawVariables = rawVariables;
  return plan;
}

/** `cache:key:files`: the key is `<prefix>-<digest of the files' contents>` (`default` when none exists). */
async function resolveCaches(entries: NonNullable<JobEntry['cacheEntries']>, ctx: CompileContext): Promise<CacheSpec[]> {
  const out: CacheSpec[] = [];
  for (const entry of entries) {
    const { keyFiles, ...spec } = entry;
    if (keyFiles) {
      const contents: string[] = [];
      for (const f of keyFiles.files) {
        const text = ctx.files ? await ctx.files.read(f.replace(/^\/+/, '')) : null;
        if (text !== null) contents.push(`${f}\0${text}`);
      }
      const digest = contents.length ? createHash('sha1').update(contents.join('\0')).digest('hex') : 'default';
      spec.key = keyFiles.prefix ? `${keyFiles.prefix}-${digest}` : digest;
    }
    out.push(spec);
  }
  return out;
}
