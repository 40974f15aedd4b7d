/**
 * `parallel: N` (2 … 200 copies: `name i/N`) and `parallel: {matrix: [{VAR: value | [values]}, …]}`
 * (one job per combination, named `name: [v1, v2]`). Expansion itself is matrix.ts.
 */
import { child, configError, knownKeys, type Entry } from './common';
import { isInteger, isMap, isString, rubyToS } from '../values';

export const MAX_PARALLEL = 200;

/** One matrix entry: variable → its values (already strings, in key order). */
export type MatrixEntry = Array<[string, string[]]>;

export type ParallelEntry = { total: number } | { matrix: MatrixEntry[] };

export function parallel(e: Entry, v: unknown): ParallelEntry | undefined {
  if (isInteger(v)) {
    if (v < 1) return configError(e, 'must be greater than or equal to 1');
    if (v > MAX_PARALLEL) return configError(e, `must be less than or equal to ${MAX_PARALLEL}`);
    return { total: v };
  }
  if (!isMap(v)) { e.errors.add(e.location, 'should be an integer or a hash'); return undefined; }
  if (!knownKeys(e, v, ['matrix'])) return undefined;
  const me = child(e, 'matrix');
  const m = matrixEntries(me, v.matrix);
  if (!m) return undefined;
  const total = m.reduce((n, entry) => n + entry.reduce((p, [, values]) => p * values.length, 1), 0);
  if (total > MAX_PARALLEL) return configError(me, `generates too many jobs (maximum is ${MAX_PARALLEL})`);
  return { matrix: m };
}

export function matrixEntries(e: Entry, v: unknown): MatrixEntry[] | undefined {
  if (!Array.isArray(v) || !v.every(isMap)) return configError(e, 'should be an array of hashes');
  if (v.length === 0) return configError(e, "can't be blank");
  const out: MatrixEntry[] = [];
  const before = e.errors.count;
  for (const item of v) {
    const entry: MatrixEntry = [];
    for (const [key, value] of Object.entries(item)) {
      // GitLab's validate_array_value_variables: any key; a value present (not nil, "" or []),
      // every value of it a string or an integer (not a float, a boolean or a list)
      const values = Array.isArray(value) ? value : [value];
      const present = value !== null && value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0);
      if (!present || !values.every((x) => isString(x) || isInteger(x))) { configError(child(e, 'variables'), 'should be a hash of key value pairs, value can be an array'); continue; }
      entry.push([key, values.map(rubyToS)]);
    }
    if (Object.keys(item).length === 0) configError(child(e, 'variables'), "can't be blank");
    out.push(entry);
  }
  return e.errors.count === before ? out : undefined;
}
