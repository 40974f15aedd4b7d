/**
 * `parallel` expansion: `parallel: N` → `name 1/N` … `name N/N`; `parallel: matrix` → one job
 * per combination of each entry (first key varying slowest), named `name: [v1, v2]` with the
 * values in key order; identical names overwrite (the later wins, in the earlier's place), as in GitLab.
 * Each instance's `needs` get its own values for `$[[ matrix.KEY ]]` (GitLab 18.6's matrix
 * expressions), so `test: [linux]` can need `build: [linux]` alone.
 */
import type { ParallelSpec } from '../../db/job-spec';
import type { MatrixEntry } from './entries/parallel';
import type { JobEntry } from './entries/job';
import type { NeedEntry } from './entries/needs';

export interface Instance {
  entry: JobEntry;
  name: string;
  parallel?: ParallelSpec;
  /** the job's needs with this instance's matrix values put in (absent: the entry's own) */
  needs?: NeedEntry[];
  /** keys `$[[ matrix.KEY ]]` named that this instance's matrix lacks (a configuration error) */
  unknownMatrixKeys?: string[];
}

/** The needs an instance has: the entry's, or those its matrix values were put into. */
export function needsOf(inst: Instance): NeedEntry[] | undefined {
  return inst.needs ?? inst.entry.needs;
}

const MATRIX_EXPRESSION = /\$\[\[\s*matrix\.([a-zA-Z0-9_-]+)\s*\]\]/g;

/**
 * `$[[ matrix.KEY ]]` in a job's needs, replaced by the instance's values. GitLab does this for
 * a job that has variables or a matrix (a plain job keeps the text, which then names no job).
 */
function matrixNeeds(entry: JobEntry, values: Record<string, string> | undefined): Pick<Instance, 'needs' | 'unknownMatrixKeys'> {
  const needs = entry.needs;
  if (!needs || (values === undefined && entry.jobVariables.length === 0)) return {};
  const mentions = (n: NeedEntry) => n.job.includes('$[[') || (n.matrix ?? []).some((m) => m.some(([, vs]) => vs.some((v) => v.includes('$[['))));
  if (!needs.some(mentions)) return {};
  const unknown: string[] = [];
  const put = (text: string) => text.replace(MATRIX_EXPRESSION, (whole, key: string) => {
    if (values !== undefined && Object.hasOwn(values, key)) return values[key];
    if (!unknown.includes(key)) unknown.push(key);
    return whole;
  });
  const out = needs.map((n): NeedEntry => ({ ...n, job: put(n.job), ...(n.matrix ? { matrix: n.matrix.map((m) => m.map(([k, vs]): [string, string[]] => [k, vs.map(put)])) } : {}) }));
  return unknown.length ? { unknownMatrixKeys: unknown } : { needs: out };
}

/** Every combination of one matrix entry, in GitLab's order. */
export function combinations(entry: MatrixEntry): Array<Record<string, string>> {
  let out: Array<Record<string, string>> = [{}];
  for (const [key, values] of entry) {
    const next: Array<Record<string, string>> = [];
    for (const partial of out) for (const v of values) next.push({ ...partial, [key]: v });
    out = next;
  }
  return out;
}

export function matrixName(group: string, values: Record<string, string>): string {
  return `${group}: [${Object.values(values).join(', ')}]`;
}

export function expandParallel(entry: JobEntry): Instance[] {
  const p = entry.parallel;
  if (p === undefined) return [{ entry, name: entry.name, ...matrixNeeds(entry, undefined) }];
  if ('total' in p) {
    return Array.from({ length: p.total }, (_, i) => ({
      entry, name: `${entry.name} ${i + 1}/${p.total}`, parallel: { index: i + 1, total: p.total, group: entry.name }, ...matrixNeeds(entry, undefined),
    }));
  }
  const all = p.matrix.flatMap(combinations);
  const byName = new Map<string, Instance>();
  all.forEach((values, i) => {
    const name = matrixName(entry.name, values);
    byName.set(name, { entry, name, parallel: { index: i + 1, total: all.length, group: entry.name, matrix: values }, ...matrixNeeds(entry, values) });
  });
  return [...byName.values()];
}
