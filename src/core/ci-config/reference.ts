/**
 * Step 4: `!reference [job, key, …]` — after includes and extends, so a reference sees the
 * merged and extended configuration. A reference is replaced by the value it names, which
 * may itself hold references (resolved in turn; a chain back to itself is an error).
 */
import { ConfigError } from './errors';
import { isMap, put, Reference, rubyInspect, type YamlMap } from './values';

/** Ruby's `inspect` of what the tag holds; an empty scalar or hash shows as the empty list (GitLab's validation_error_message). */
function inspect(path: unknown): string {
  if (path === '' || (isMap(path) && Object.keys(path).length === 0)) return '[]';
  return rubyInspect(path);
}

export function resolveReferences(config: YamlMap): YamlMap {
  const resolving = new Set<Reference>();
  const resolveRef = (ref: Reference): unknown => {
    const path = ref.path;
    if (!Array.isArray(path) || path.length === 0 || !path.every((p) => typeof p === 'string')) {
      throw new ConfigError(`!reference ${inspect(path)} is not valid`);
    }
    if (resolving.has(ref)) throw new ConfigError(`!reference ${inspect(path)} is part of a circular chain`);
    resolving.add(ref);
    let cur: unknown = config;
    for (const key of path as string[]) {
      if (!isMap(cur) || !Object.hasOwn(cur, key)) throw new ConfigError(`!reference ${inspect(path)} could not be found`);
      cur = cur[key];
    }
    const value = walk(cur);
    resolving.delete(ref);
    // GitLab's Reference#_resolve: a value of false or nothing is "could not be found" too
    if (value === null || value === undefined || value === false) throw new ConfigError(`!reference ${inspect(path)} could not be found`);
    return value;
  };
  const walk = (v: unknown): unknown => {
    if (v instanceof Reference) return resolveRef(v);
    if (Array.isArray(v)) {
      let changed = false;
      const out = v.map((x) => { const y = walk(x); if (y !== x) changed = true; return y; });
      return changed ? out : v;
    }
    if (isMap(v)) {
      let changed = false;
      const out: YamlMap = {};
      for (const [k, x] of Object.entries(v)) { const y = walk(x); if (y !== x) changed = true; put(out, k, y); }
      return changed ? out : v;
    }
    return v;
  };
  return walk(config) as YamlMap;
}

/** Does a value still hold references (anywhere)? */
export function hasReferences(v: unknown, depth = 0): boolean {
  if (depth > 200) return false;
  if (v instanceof Reference) return true;
  if (Array.isArray(v)) return v.some((x) => hasReferences(x, depth + 1));
  if (isMap(v)) return Object.values(v).some((x) => hasReferences(x, depth + 1));
  return false;
}
