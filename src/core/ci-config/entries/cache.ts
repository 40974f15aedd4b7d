/**
 * `cache:` — one hash or a list of up to 4: key (a string, or `{files, prefix}`), paths,
 * untracked, when, policy, unprotect, fallback_keys. A `key:files` key is resolved when the
 * pipeline is created (see resolveCacheKeys in plan.ts).
 */
import type { CacheSpec } from '../../../db/job-spec';
import { attrError, boolean, child, configError, hasVariable, knownKeys, stringList, type Entry } from './common';
import { flattenDeep, isMap, isString } from '../values';

const KEYS = ['key', 'untracked', 'paths', 'when', 'policy', 'unprotect', 'fallback_keys'];
const POLICIES = ['pull', 'push', 'pull-push'] as const;
const WHEN = ['on_success', 'on_failure', 'always'] as const;
export const MAX_CACHES = 4;

/** A cache entry before `key:files` is resolved. */
export interface CacheEntry extends CacheSpec {
  keyFiles?: { files: string[]; prefix?: string };
}

export function caches(e: Entry, v: unknown): CacheEntry[] | undefined {
  if (!Array.isArray(v) && !isMap(v)) return configError(e, 'can only be a Hash or an Array');
  // GitLab counts the list as written, then flattens it (ComposableArray)
  if (Array.isArray(v) && v.length > MAX_CACHES) return configError(e, `no more than ${MAX_CACHES} caches can be created`);
  const list = Array.isArray(v) ? flattenDeep(v) : [v];
  const out: CacheEntry[] = [];
  let ok = true;
  for (const item of list) {
    const c = cache(e, item);
    if (c) out.push(c); else ok = false;
  }
  return ok ? out : undefined;
}

function checkKeyText(e: Entry, key: string): boolean {
  let path = key;
  try { path = decodeURIComponent(key.replace(/\+/g, ' ')); } catch { /* keep as written */ }
  if (path.includes('/')) { configError(e, 'cannot contain the "/" character'); return false; }
  if (path === '.' || path === '..') { configError(e, 'cannot be "." or ".."'); return false; }
  return true;
}

function cache(e: Entry, v: unknown): CacheEntry | undefined {
  if (!isMap(v)) return configError(e, 'should be a hash');
  if (!knownKeys(e, v, KEYS)) return undefined;
  const before = e.errors.count;
  const spec: CacheEntry = {};
  const set = (k: string) => v[k] !== undefined && v[k] !== null;
  if (set('key')) {
    const ke = child(e, 'key');
    if (isString(v.key)) {
      if (checkKeyText(ke, v.key)) spec.key = v.key;
    } else if (isMap(v.key)) {
      if (knownKeys(ke, v.key, ['files', 'prefix'])) {
        const files = v.key.files;
        const fe = child(ke, 'files');
        if (!Array.isArray(files) || !files.every(isString) || files.length < 1 || files.length > 2) {
          configError(fe, 'has to be an array of strings with a maximum of 2 elements');
        } else {
          const prefix = v.key.prefix;
          if (prefix !== undefined && prefix !== null && !isString(prefix)) configError(child(ke, 'prefix'), 'should be a string or symbol');
          else if (prefix === undefined || prefix === null || checkKeyText(child(ke, 'prefix'), prefix)) {
            spec.keyFiles = { files: [...files], ...(prefix === undefined || prefix === null ? {} : { prefix }) };
          }
        }
      }
    } else {
      // GitLab's Key entry: a string or a hash (a number is refused), said without "config"
      e.errors.add(ke.location, 'should be a hash, a string or a symbol');
    }
  }
  if (set('paths')) { const p = stringList(child(e, 'paths'), v.paths); if (p) spec.paths = p; }
  if (set('untracked')) { const b = boolean(e, v.untracked, 'untracked'); if (b !== undefined) spec.untracked = b; }
  if (set('unprotect')) { const b = boolean(e, v.unprotect, 'unprotect'); if (b !== undefined) spec.unprotect = b; }
  if (set('policy')) {
    const p = POLICIES.find((x) => x === v.policy);
    if (p) spec.policy = p;
    else if (hasVariable(v.policy)) spec.policy = v.policy as CacheSpec['policy'];
    else attrError(e, 'policy', 'should be pull-push, push, or pull');
  }
  if (set('when')) {
    const w = WHEN.find((x) => x === v.when);
    if (w) spec.when = w; else attrError(e, 'when', 'should be on_success, on_failure or always');
  }
  if (set('fallback_keys')) {
    const f = stringList(e, v.fallback_keys, 'fallback_keys');
    if (f && f.length > 5) attrError(e, 'fallback_keys', 'cannot have more than 5 keys');
    else if (f) spec.fallback_keys = f;
  }
  return e.errors.count === before ? spec : undefined;
}
