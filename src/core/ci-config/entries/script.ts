/** `script`, `before_script`, `after_script` (a string or nested lists of strings, flattened) and `hooks`. */
import { at, child, configError, knownKeys, type Entry } from './common';
import { isMap } from '../values';

const MAX_LEVEL = 10;

/** Commands: a string or a list nested at most 10 deep; flattened. */
export function commands(e: Entry, v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  const out: string[] = [];
  const walk = (x: unknown, depth: number): boolean => {
    if (typeof x === 'string') { out.push(x); return true; }
    return Array.isArray(x) && depth < MAX_LEVEL && x.every((y) => walk(y, depth + 1));
  };
  if (!Array.isArray(v) || !walk(v, 0)) {
    return configError(e, `should be a string or a nested array of strings up to ${MAX_LEVEL} levels deep`);
  }
  return out;
}

/** `hooks: {pre_get_sources_script: commands}` (the only hook GitLab has). */
export function hooks(e: Entry, v: unknown): { pre_get_sources_script: string[] } | undefined {
  if (!isMap(v)) return configError(e, 'should be a hash');
  if (!knownKeys(e, v, ['pre_get_sources_script'])) return undefined;
  const script = v.pre_get_sources_script === undefined ? [] : commands(child(e, 'pre_get_sources_script'), v.pre_get_sources_script);
  return script === undefined ? undefined : { pre_get_sources_script: script };
}

export { at };
