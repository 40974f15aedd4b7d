/**
 * `trigger:` (a bridge job: never sent to a runner, it starts a downstream pipeline):
 * `trigger: group/project`, `{project, branch, strategy, forward}` (another Baton project), or
 * `{include: file | [files], strategy, forward}` (a child pipeline of the same project).
 */
import type { TriggerIncludeSpec, TriggerSpec } from '../../../db/job-spec';
import { attrError, boolean, child, configError, knownKeys, type Entry } from './common';
import { isMap, isString } from '../values';

const KEYS = ['project', 'branch', 'strategy', 'forward', 'include', 'inputs'];
const STRATEGIES = ['depend', 'mirror'] as const;
/** GitLab allows at most 3 files in a child pipeline's `include`. */
export const MAX_CHILD_INCLUDES = 3;

export function trigger(e: Entry, v: unknown): TriggerSpec | undefined {
  const forward = { yaml_variables: true, pipeline_variables: false };
  if (isString(v)) {
    if (v === '') return configError(e, "can't be blank");
    return { kind: 'project', project: v, forward };
  }
  if (!isMap(v)) return configError(e, 'should be a hash or a string');
  if (!knownKeys(e, v, KEYS)) return undefined;
  const before = e.errors.count;
  const hasProject = v.project !== undefined && v.project !== null;
  const hasInclude = v.include !== undefined && v.include !== null;
  if (hasProject && hasInclude) { configError(e, 'these keys cannot be used together: project, include'); return undefined; }
  if (!hasProject && !hasInclude) return configError(e, 'must specify either project or include');
  const spec: TriggerSpec = { kind: hasProject ? 'project' : 'child', forward };
  if (hasProject) {
    if (!isString(v.project)) attrError(e, 'project', 'should be a string'); else spec.project = v.project;
    if (v.branch !== undefined && v.branch !== null) { if (!isString(v.branch)) attrError(e, 'branch', 'should be a string'); else spec.branch = v.branch; }
  } else {
    if (v.branch !== undefined) configError(e, 'contains disallowed keys: branch');
    const inc = childIncludes(child(e, 'include'), v.include);
    if (inc) spec.include = inc;
  }
  if (v.strategy !== undefined && v.strategy !== null) {
    const s = STRATEGIES.find((x) => x === v.strategy);
    if (!s) attrError(e, 'strategy', 'should be depend or mirror'); else spec.strategy = s;
  }
  if (v.forward !== undefined && v.forward !== null) {
    const fe = child(e, 'forward');
    if (!isMap(v.forward)) configError(fe, 'should be a hash');
    else if (knownKeys(fe, v.forward, ['yaml_variables', 'pipeline_variables'])) {
      if (v.forward.yaml_variables !== undefined) { const b = boolean(fe, v.forward.yaml_variables, 'yaml_variables'); if (b !== undefined) forward.yaml_variables = b; }
      if (v.forward.pipeline_variables !== undefined) { const b = boolean(fe, v.forward.pipeline_variables, 'pipeline_variables'); if (b !== undefined) forward.pipeline_variables = b; }
    }
  }
  if (v.inputs !== undefined && v.inputs !== null) {
    if (!isMap(v.inputs)) configError(child(e, 'inputs'), 'should be a hash');
    else if (spec.include) for (const inc of spec.include) inc.inputs = { ...v.inputs, ...(inc.inputs ?? {}) };
  }
  return e.errors.count === before ? spec : undefined;
}

function childIncludes(e: Entry, v: unknown): TriggerIncludeSpec[] | undefined {
  const list = Array.isArray(v) ? v : [v];
  if (list.length > MAX_CHILD_INCLUDES) return configError(e, `must be less than or equal to ${MAX_CHILD_INCLUDES}`);
  const out: TriggerIncludeSpec[] = [];
  const before = e.errors.count;
  for (const item of list) {
    if (isString(item)) { out.push(/^https?:\/\//.test(item) ? { remote: item } : { local: item }); continue; }
    if (!isMap(item)) { configError(e, 'should be a string or a list of hashes'); continue; }
    if (!knownKeys(e, item, ['local', 'template', 'project', 'file', 'ref', 'artifact', 'job', 'remote', 'inputs', 'component'])) continue;
    const types = ['local', 'template', 'project', 'artifact', 'remote', 'component'].filter((k) => item[k] !== undefined);
    if (types.length !== 1) { configError(e, 'must use exactly one of these keys: local, template, project, artifact, remote, component'); continue; }
    if (item.template !== undefined) { e.errors.raw(`Template file \`${String(item.template)}\` cannot be included: Baton does not have GitLab's template library`); continue; }
    if (item.component !== undefined) { e.errors.raw(`Component \`${String(item.component)}\` cannot be included: Baton does not have GitLab's CI/CD catalog`); continue; }
    // GitLab's include entry, before anything is fetched
    if (item.artifact !== undefined && (item.job === undefined || item.job === null || item.job === '')) { configError(e, 'must specify the job where to fetch the artifact from'); continue; }
    if (item.project !== undefined && (item.file === undefined || item.file === null || item.file === '' || (Array.isArray(item.file) && item.file.length === 0))) { configError(e, 'must specify the file where to fetch the config from'); continue; }
    const spec: TriggerIncludeSpec = {};
    for (const k of ['local', 'project', 'ref', 'artifact', 'job', 'remote'] as const) {
      if (item[k] === undefined || item[k] === null) continue;
      if (!isString(item[k])) attrError(e, k, 'should be a string'); else spec[k] = item[k] as string;
    }
    if (item.file !== undefined) { if (!isString(item.file)) attrError(e, 'file', 'should be a string'); else spec.file = item.file; }
    if (item.inputs !== undefined && item.inputs !== null) { if (!isMap(item.inputs)) attrError(e, 'inputs', 'should be a hash'); else spec.inputs = { ...item.inputs }; }
    out.push(spec);
  }
  return e.errors.count === before ? out : undefined;
}
