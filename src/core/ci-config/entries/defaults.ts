/**
 * `default:` (and the deprecated top-level `image`, `services`, `cache`, `before_script`,
 * `after_script`, which become defaults) plus `inherit:` on jobs. A default is copied into a
 * job only when the job does not set that key — values are never merged.
 */
import type { ImageSpec, RetrySpec, ServiceSpec } from '../../../db/job-spec';
import { boolean, child, configError, knownKeys, type Entry } from './common';
import { caches, type CacheEntry } from './cache';
import { artifacts } from './artifacts';
import { retry, timeout } from './failure';
import { image, services } from './image';
import { tags } from './misc';
import { commands, hooks } from './script';
import { unsupported } from './unsupported';
import { isMap, isStringArray, type YamlMap } from '../values';
import type { ArtifactsSpec } from '../../../db/job-spec';

export const DEFAULT_KEYS = ['before_script', 'after_script', 'hooks', 'cache', 'image', 'services', 'interruptible', 'timeout', 'retry', 'tags', 'artifacts', 'id_tokens'] as const;
export type DefaultKey = (typeof DEFAULT_KEYS)[number];
export const GLOBAL_DEFAULT_KEYS = ['image', 'services', 'cache', 'before_script', 'after_script'] as const;

export interface Defaults {
  beforeScript?: string[];
  afterScript?: string[];
  hooks?: { pre_get_sources_script: string[] };
  cache?: CacheEntry[];
  image?: ImageSpec;
  services?: ServiceSpec[];
  interruptible?: boolean;
  timeout?: number;
  retry?: RetrySpec;
  tags?: string[];
  artifacts?: ArtifactsSpec;
}

/** Which YAML key each Defaults field comes from. */
export const DEFAULT_FIELD: Record<DefaultKey, keyof Defaults | null> = {
  before_script: 'beforeScript', after_script: 'afterScript', hooks: 'hooks', cache: 'cache', image: 'image',
  services: 'services', interruptible: 'interruptible', timeout: 'timeout', retry: 'retry', tags: 'tags',
  artifacts: 'artifacts', id_tokens: null,
};

/** Parses the defaults: `default:` merged with the old top-level globals (both → GitLab's error). */
export function defaults(e: Entry, root: YamlMap): Defaults {
  const out: Defaults = {};
  const d = root.default;
  const de = child(e, 'default');
  let source: YamlMap = {};
  if (d !== undefined && d !== null) {
    if (!isMap(d)) configError(de, 'should be a hash');
    else if (knownKeys(de, d, [...DEFAULT_KEYS])) source = d;
  }
  for (const key of GLOBAL_DEFAULT_KEYS) {
    const top = root[key];
    if (top === undefined || top === null) continue;
    if (source[key] !== undefined && source[key] !== null) {
      e.errors.raw(`${key} is defined in top-level and \`default:\` entry`);
      continue;
    }
    parseDefault(e, key, top, out);
  }
  for (const key of DEFAULT_KEYS) {
    const v = source[key];
    if (v === undefined || v === null) continue;
    parseDefault(de, key, v, out);
  }
  return out;
}

function parseDefault(e: Entry, key: DefaultKey, v: unknown, out: Defaults): void {
  const ke = child(e, key);
  switch (key) {
    case 'before_script': out.beforeScript = commands(ke, v); break;
    case 'after_script': out.afterScript = commands(ke, v); break;
    case 'hooks': out.hooks = hooks(ke, v); break;
    case 'cache': out.cache = caches(ke, v); break;
    case 'image': out.image = image(ke, v); break;
    case 'services': out.services = services(ke, v); break;
    case 'interruptible': out.interruptible = boolean(e, v, 'interruptible'); break;
    case 'timeout': out.timeout = timeout(ke, v); break;
    case 'retry': out.retry = retry(ke, v); break;
    case 'tags': out.tags = tags(ke, v); break;
    case 'artifacts': out.artifacts = artifacts(ke, v); break;
    case 'id_tokens': unsupported(e, 'id_tokens'); break;
  }
}

export interface Inherit {
  /** true = all defaults, false = none, else the default keys to take */
  default: boolean | string[];
  /** true = all top-level variables, false = none, else their names */
  variables: boolean | string[];
}

export function inherit(e: Entry, v: unknown): Inherit {
  const out: Inherit = { default: true, variables: true };
  if (v === undefined || v === null) return out;
  if (!isMap(v)) { configError(e, 'should be a hash'); return out; }
  if (!knownKeys(e, v, ['default', 'variables'])) return out;
  for (const k of ['default', 'variables'] as const) {
    const x = v[k];
    if (x === undefined || x === null) continue;
    const ke = child(e, k);
    if (typeof x === 'boolean') out[k] = x;
    else if (isStringArray(x)) {
      if (k === 'default') {
        const unknown = x.filter((n) => !(DEFAULT_KEYS as readonly string[]).includes(n));
        if (unknown.length) { configError(ke, `contains unknown values: ${unknown.join(', ')}`); continue; }
      }
      out[k] = [...x];
    } else configError(ke, 'should be a boolean value or an array of strings');
  }
  return out;
}

export function inherits(i: Inherit, key: string): boolean {
  return i.default === true || (Array.isArray(i.default) && i.default.includes(key));
}
