/**
 * Step 3: `extends:` — after includes are merged, before `!reference`. For every entry that
 * extends others: each parent is resolved first (its own `extends`), the parents are
 * deep-merged left to right, then the entry itself on top (hashes merge, arrays and scalars
 * are replaced). At most 10 ancestors. Errors are GitLab's, prefixed with the entry's name.
 */
import { ConfigError } from './errors';
import { deepMerge, isMap, put, type YamlMap } from './values';

const MAX_NESTING = 10;

export function resolveExtends(config: YamlMap): YamlMap {
  const out: YamlMap = {};
  for (const [k, v] of Object.entries(config)) put(out, k, v);
  const done = new Set<string>();
  const extend = (key: string, ancestors: string[]): void => {
    // an entry extended already keeps its `extends`, and GitLab walks its chain again from every
    // entry that reaches it: the nesting limit holds for each chain, whatever the key order
    if (done.has(key)) { checkDepth(key, ancestors); return; }
    const value = out[key];
    if (!isMap(value) || !Object.hasOwn(value, 'extends') || value.extends === null) { done.add(key); return; }
    if (ancestors.includes(key)) throw new ConfigError(`${key}: circular dependency detected in \`extends\``);
    if (ancestors.length > MAX_NESTING) throw new ConfigError(`${key}: nesting too deep in \`extends\``);
    const bases = (Array.isArray(value.extends) ? value.extends : [value.extends]).map((b) => (typeof b === 'string' ? b : String(b)));
    const unknown = bases.filter((b) => !Object.hasOwn(out, b));
    if (unknown.length) throw new ConfigError(`${key}: unknown keys in \`extends\` (${unknown.join(', ')})`);
    const invalid = bases.filter((b) => !isMap(out[b]));
    if (invalid.length) throw new ConfigError(`${key}: invalid base hashes in \`extends\` (${invalid.join(', ')})`);
    let merged: YamlMap = {};
    for (const base of bases) {
      extend(base, [...ancestors, key]);
      merged = deepMerge(merged, out[base] as YamlMap);
    }
    put<unknown>(out, key, deepMerge(merged, value));
    done.add(key);
  };
  const checkDepth = (key: string, ancestors: string[]): void => {
    const value = out[key];
    if (!isMap(value) || !Object.hasOwn(value, 'extends') || value.extends === null) return;
    if (ancestors.length > MAX_NESTING) throw new ConfigError(`${key}: nesting too deep in \`extends\``);
    for (const b of Array.isArray(value.extends) ? value.extends : [value.extends]) checkDepth(typeof b === 'string' ? b : String(b), [...ancestors, key]);
  };
  for (const key of Object.keys(out)) extend(key, []);
  return out;
}
