/**
 * `parallel` expansion: `parallel: N` → `name 1/N` … `name N/N`; `parallel: matrix` → one job
 * per combination of each entry (first key varying slowest), named `name: [v1, v2]` with the
 * values in key order; identical names overwrite (the later wins, in the earlier's place), as in GitLab.
 */
import type { ParallelSpec } from '../../db/job-spec';
import type { MatrixEntry } from './entries/parallel';
import type { JobEntry } from './entries/job';

export interface Instance {
  entry: JobEntry;
  name: string;
  parallel?: ParallelSpec;
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
  if (p === undefined) return [{ entry, name: entry.name }];
  if ('total' in p) {
    return Array.from({ length: p.total }, (_, i) => ({
      entry, name: `${entry.name} ${i + 1}/${p.total}`, parallel: { index: i + 1, total: p.total, group: entry.name },
    }));
  }
  const all = p.matrix.flatMap(combinations);
  const byName = new Map<string, Instance>();
  all.forEach((values, i) => {
    const name = matrixName(entry.name, values);
    byName.set(name, { entry, name, parallel: { index: i + 1, total: all.length, group: entry.name, matrix: values } });
  });
  return [...byName.values()];
}
