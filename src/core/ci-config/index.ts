/**
 * `.gitlab-ci.yml` → pipeline plan, the way GitLab builds one (spec ci-yaml.md §1.2):
 *
 *   load          text → data: YAML 1.1 as Psych reads it, header + body, size limits   load.ts
 *   inputs        header `spec:inputs`, `$[[ inputs.x ]]` interpolation                 interpolation.ts
 *   include       local / project / remote files, recursively, deep-merged             include/
 *   extends       templates merged into the jobs that extend them                      extends.ts
 *   !reference    references replaced by what they name                               reference.ts
 *   entries       every keyword checked, one module per family (GitLab's messages)     entries/
 *   parallel      `parallel: N` and `parallel: matrix` expanded into jobs              matrix.ts
 *   validate      stages, needs, dependencies, on_stop over all jobs                   validate.ts
 *   ── stops here for a static lint ──
 *   pipeline      workflow:rules, job rules / only / except, needs after rules,        plan.ts
 *                 GitLab-side variable expansion → PipelinePlan                        (rules/)
 *
 * The first four steps stop at the first problem; the entries report every problem.
 * Everything the compiler reads comes through the CompileContext (types.ts).
 */
import { stringify } from 'yaml';
import type { CompileContext, CompileResult, PipelinePlan } from './types';
import type { RootEntry } from './entries/root';
import { root as parseRoot } from './entries/root';
import { ConfigError, Errors } from './errors';
import { resolveExtends } from './extends';
import { mergeIncludes, newIncludeState } from './include';
import { interpolate, resolveInputs } from './interpolation';
import { loadConfigFile } from './load';
import { expandParallel, type Instance } from './matrix';
import { planPipeline, PlanError } from './plan';
import { resolveReferences } from './reference';
import { stageTable, validatePlan } from './validate';
import { isMap, Reference, RubyFloat, type YamlMap } from './values';

export type { CompileContext, CompileResult, PipelinePlan } from './types';
export { FILTERED_OUT } from './plan';

/** The configuration checked, before any pipeline is decided (static lint stops here). */
export interface StaticConfig {
  errors: string[];
  warnings: string[];
  mergedYaml: string | null;
  includes: CompileResult['includes'];
  root: RootEntry | null;
  instances: Instance[];
}

export async function checkConfig(text: string, ctx: CompileContext): Promise<StaticConfig> {
  const checked = await checkUnmasked(text, ctx);
  return withMergedYaml({ ...withoutMergedYaml(checked), errors: masker(ctx)(checked.errors) }, checked);
}

/**
 * `mergedYaml` is only read by lint, and writing the whole merged configuration as YAML costs
 * more than planning it: it is a getter, computed once when asked for.
 */
function lazyMergedYaml<T extends object>(target: T, make: () => string | null): T & { mergedYaml: string | null } {
  let cached: string | null | undefined;
  return Object.defineProperty(target, 'mergedYaml', {
    enumerable: true, configurable: true,
    get: () => (cached === undefined ? (cached = make()) : cached),
  }) as T & { mergedYaml: string | null };
}

function withoutMergedYaml<T extends { mergedYaml: string | null }>(o: T): Omit<T, 'mergedYaml'> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) if (k !== 'mergedYaml') out[k] = (o as Record<string, unknown>)[k];
  return out as Omit<T, 'mergedYaml'>;
}

function withMergedYaml<T extends object>(target: T, from: { mergedYaml: string | null }): T & { mergedYaml: string | null } {
  return lazyMergedYaml(target, () => from.mergedYaml);
}

async function checkUnmasked(text: string, ctx: CompileContext): Promise<StaticConfig> {
  const state = newIncludeState(ctx);
  const fail = (message: string): StaticConfig =>
    ({ errors: [message], warnings: [], mergedYaml: null, includes: state.includes, root: null, instances: [] });
  if (text.trim() === '') return fail('Please provide content of .gitlab-ci.yml');

  let config: YamlMap;
  try {
    const loaded = loadConfigFile(text);
    const inputs = resolveInputs(loaded.header, ctx.inputs);
    const lookup = (name: string) => ctx.variables[name];
    const body = inputs === null ? loaded.body : interpolate(loaded.body, inputs, lookup, new Set(ctx.maskedVariables));
    const projectPath = ctx.variables.CI_PROJECT_PATH ?? null;
    const merged = await mergeIncludes(body, { files: ctx.files, sha: ctx.sha, projectPath, variables: lookup }, state);
    config = resolveReferences(resolveExtends(merged));
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.message);
    throw e;
  }
  const errors = new Errors();
  const root = parseRoot(errors, config);
  const instances = root.jobs.flatMap(expandParallel);
  if (errors.count === 0) {
    const planErrors = new Errors();
    validatePlan(planErrors, instances, stageTable(root.stages));
    // GitLab stops at the first of these logical checks.
    if (planErrors.count) errors.raw(planErrors.list[0]);
  }
  for (const j of root.jobs) {
    const last = j.rules?.at(-1);
    if (!root.workflow.rules && last && Object.keys(last).length === 1 && last.when !== undefined && last.when !== 'never') {
      errors.warn(`jobs:${j.name} may allow multiple pipelines to run for a single action due to \`rules:when\` clause with no \`workflow:rules\` - read more: https://docs.gitlab.com/ee/ci/jobs/job_troubleshooting.html#job-may-allow-multiple-pipelines-to-run-for-a-single-action-warning`);
    }
    // GitLab deploys Pages from a job named `pages` (unless `pages: false`) or any job with `pages:`
    const deploysPages = j.config.pages === undefined || j.config.pages === null ? j.name === 'pages' : j.config.pages !== false;
    if (deploysPages) {
      const p = j.config.pages;
      const dir = (isMap(p) && typeof p.publish === 'string' ? p.publish : null) ?? (typeof j.config.publish === 'string' ? j.config.publish : 'public');
      errors.warn(`jobs:${j.name} runs as an ordinary job: Baton does not host GitLab Pages, so its \`${dir}\` artifacts are kept but not published`);
    }
  }
  const merged = config;
  return lazyMergedYaml({ errors: errors.list, warnings: errors.warnings.slice(0, 25), includes: state.includes, root, instances }, () => toYaml(merged));
}

/** Masked variables never show in messages (GitLab writes `[MASKED]`). */
function masker(ctx: CompileContext): (messages: string[]) => string[] {
  const secrets = (ctx.maskedVariables ?? []).map((k) => ctx.variables[k]).filter((v): v is string => typeof v === 'string' && v.length > 0);
  if (secrets.length === 0) return (m) => m;
  return (messages) => messages.map((m) => secrets.reduce((text, secret) => text.split(secret).join('[MASKED]'), m));
}

/** The whole compile: the checked configuration, then the pipeline for the context's commit. */
export async function compileCiConfig(text: string, ctx: CompileContext): Promise<CompileResult> {
  const result = await compileUnmasked(text, ctx);
  return withMergedYaml({ ...withoutMergedYaml(result), errors: masker(ctx)(result.errors) }, result);
}

async function compileUnmasked(text: string, ctx: CompileContext): Promise<CompileResult> {
  const checked = await checkConfig(text, ctx);
  const base = { warnings: checked.warnings, includes: checked.includes };
  const done = (r: Omit<CompileResult, 'mergedYaml' | 'warnings' | 'includes'>): CompileResult => withMergedYaml({ ...r, ...base }, checked);
  if (checked.errors.length || checked.root === null) return done({ plan: null, errors: checked.errors });
  try {
    const plan: PipelinePlan = await planPipeline({
      root: checked.root, instances: checked.instances, stages: stageTable(checked.root.stages), ctx, warnings: checked.warnings,
    });
    return done({ plan, errors: [] });
  } catch (e) {
    if (e instanceof PlanError) return done({ plan: null, errors: e.messages, ...(e.filteredOut ? { filteredOut: true } : {}) });
    if (e instanceof ConfigError) return done({ plan: null, errors: [e.message] });
    throw e;
  }
}

/** The merged configuration as YAML (the lint API's `merged_yaml`). */
export function toYaml(config: YamlMap): string {
  const plain = (v: unknown): unknown => {
    if (v instanceof RubyFloat) return v.value;
    if (v instanceof Reference) return plain(v.path);
    if (Array.isArray(v)) return v.map(plain);
    if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
  };
  return `---\n${stringify(plain(config), { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
