/**
 * `needs:` and `dependencies:`. A need names a job of the same pipeline (a string or
 * `{job, artifacts, optional, parallel: {matrix}}`); names are resolved to concrete jobs,
 * parallel instances included, in plan.ts. Needs on another pipeline or project are refused:
 * Baton keeps no cross-pipeline artifact links.
 */
import { attrError, boolean, child, configError, knownKeys, stringList, type Entry } from './common';
import { matrixEntries, type MatrixEntry } from './parallel';
import { flattenDeep, isMap, isString } from '../values';

export interface NeedEntry {
  job: string;
  artifacts: boolean;
  optional: boolean;
  /** `parallel: {matrix: […]}`: the instances of `job` wanted */
  matrix?: MatrixEntry[];
}

export function needs(e: Entry, v: unknown): NeedEntry[] | undefined {
  const list = Array.isArray(v) ? flattenDeep(v) : isMap(v) ? [v] : null;
  if (list === null) return configError(e, 'can only be a hash or an array');
  const out: NeedEntry[] = [];
  const before = e.errors.count;
  const ne = child(e, 'need');
  for (const item of list) {
    if (isString(item)) {
      if (item === '') configError(ne, "can't be blank"); else out.push({ job: item, artifacts: true, optional: false });
      continue;
    }
    if (!isMap(item)) { e.errors.add(ne.location, 'has an unsupported type'); continue; }
    if ('project' in item || 'pipeline' in item || 'ref' in item) {
      const kind = 'project' in item ? 'needs:project (another project)' : 'needs:pipeline (another pipeline)';
      e.errors.raw(`${e.location} uses ${kind}, which Baton does not support: a job can only need jobs of its own pipeline`);
      continue;
    }
    if (!knownKeys(ne, item, ['job', 'artifacts', 'optional', 'parallel'])) continue;
    if (!isString(item.job) || item.job === '') { attrError(ne, 'job', item.job === undefined || item.job === null || item.job === '' ? "can't be blank" : 'should be a string'); continue; }
    const need: NeedEntry = { job: item.job, artifacts: true, optional: false };
    if (item.artifacts !== undefined && item.artifacts !== null) { const b = boolean(ne, item.artifacts, 'artifacts'); if (b !== undefined) need.artifacts = b; }
    if (item.optional !== undefined && item.optional !== null) { const b = boolean(ne, item.optional, 'optional'); if (b !== undefined) need.optional = b; }
    if (item.parallel !== undefined && item.parallel !== null) {
      const pe = child(ne, 'parallel');
      if (!isMap(item.parallel)) configError(pe, 'should be a hash');
      else if (knownKeys(pe, item.parallel, ['matrix'])) {
        const m = matrixEntries(child(pe, 'matrix'), item.parallel.matrix);
        if (m) need.matrix = m;
      }
    }
    out.push(need);
  }
  return e.errors.count === before ? out : undefined;
}

export function dependencies(e: Entry, v: unknown): string[] | undefined {
  return stringList(e, v, 'dependencies');
}
