/**
 * The top level of a merged configuration: the global keys (`default`, `stages`,
 * `variables`, `workflow` and the deprecated globals) and the jobs — every other key.
 * A name starting with `.` is a hidden job (a template for `extends`/`!reference`, never
 * created); a hash with `script`/`run` is a job, with `trigger` a bridge; anything else is
 * GitLab's "config should implement the script:, run:, or trigger: keyword".
 */
import { child, type Entry } from './common';
import { defaults, type Defaults } from './defaults';
import { isBridgeConfig, isJobConfig, job, type JobEntry } from './job';
import { variables, type VariableDef } from './variables';
import { workflow, type WorkflowEntry } from './workflow';
import type { Errors } from '../errors';
import { humanize, isMap, type YamlMap } from '../values';

export const ROOT_KEYS = ['default', 'include', 'before_script', 'image', 'services', 'after_script', 'variables', 'stages', 'cache', 'workflow'];
/** Keys that can never be job names. */
const RESERVED = ['include', 'before_script', 'image', 'services', 'after_script', 'variables', 'stages', 'cache'];
export const DEFAULT_STAGES = ['build', 'test', 'deploy'];

export interface RootEntry {
  /** the declared stages without `.pre`/`.post` */
  stages: string[];
  variables: VariableDef[];
  workflow: WorkflowEntry;
  defaults: Defaults;
  jobs: JobEntry[];
}

export function root(errors: Errors, config: YamlMap): RootEntry {
  const e: Entry = { errors, location: '' };
  const jobNames = Object.keys(config).filter((k) =>
    !RESERVED.includes(k) && (isJobConfig(k, config[k]) || isBridgeConfig(k, config[k]) || k.startsWith('.') || !ROOT_KEYS.includes(k)));

  // `default:` or `workflow:` holding a script is a job (GitLab filters jobs out first).
  const defs = defaults(e, jobNames.includes('default') ? { ...config, default: undefined } : config);
  const vars = config.variables === undefined || config.variables === null ? [] : variables(child(e, 'variables'), config.variables, ['value', 'description', 'expand', 'options']) ?? [];
  const stages = stageList(e, config.stages);
  const wf = jobNames.includes('workflow') ? {} : workflow(child(e, 'workflow'), config.workflow);

  const je = child(e, 'jobs');
  const jobs: JobEntry[] = [];
  let visible = false;
  jobNames.forEach((name, order) => {
    const v = config[name];
    if (name.startsWith('.')) return;
    if (!isJobConfig(name, v) && !isBridgeConfig(name, v)) {
      errors.add('jobs', `${humanize(name)} config should implement the script:, run:, or trigger: keyword`);
      return;
    }
    visible = true;
    const entry = job(child(je, name), name, order, v as YamlMap, { defaults: defs, hasWorkflowRules: wf.rules !== undefined });
    if (entry) jobs.push(entry);
  });
  if (!visible) errors.add('jobs', 'config should contain at least one visible job');
  return { stages, variables: vars, workflow: wf, defaults: defs, jobs };
}

function stageList(e: Entry, v: unknown): string[] {
  if (v === undefined || v === null) return DEFAULT_STAGES;
  const out: string[] = [];
  const walk = (x: unknown): boolean => {
    if (typeof x === 'string') { out.push(x); return true; }
    return Array.isArray(x) && x.every(walk);
  };
  if (!Array.isArray(v) || !walk(v)) {
    e.errors.add('stages', 'config should be an array of strings');
    return DEFAULT_STAGES;
  }
  return [...new Set(out.filter((s) => s !== '.pre' && s !== '.post'))];
}

export { isMap };
