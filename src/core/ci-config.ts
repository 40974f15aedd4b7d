/**
 * `.gitlab-ci.yml` → pipeline plan for one ref, or a list of errors that each
 * name the job (`jobs:<name>`) or global key at fault.
 *
 * Implements the subset of GitLab CI syntax Baton can actually run (stages,
 * scripts, images/services, artifacts, cache, only/except, extends, …).
 * Anything outside that subset is reported as an error rather than ignored,
 * so a pipeline never silently behaves differently from what the file says.
 * Pure: no I/O.
 */
import { parseDuration, parseExpireIn } from './duration';

import type { ArtifactsSpec, CacheSpec, EnvironmentSpec, ImageSpec, JobSpec, ServiceSpec, When } from '../db/job-spec';

export type { ArtifactsSpec, CacheSpec, ImageSpec, ServiceSpec, When };
/** A planned job: the shape stored in `jobs.spec` (src/db/job-spec.ts). */
export type JobPlan = JobSpec;
/** `jobs` are ordered by stageIdx, then file order. */
import type { PipelinePlan, RefInfo } from './ci-config/types';

export type { PipelinePlan, RefInfo };
export type ParseResult = { ok: true; plan: PipelinePlan } | { ok: false; errors: string[] };

type YamlMap = Record<string, unknown>;

const DEFAULT_STAGES = ['build', 'test', 'deploy'];
const PRE = '.pre';
const POST = '.post';
const DEFAULT_JOB_STAGE = 'test';
const MAX_EXTENDS_DEPTH = 11; // same limit as GitLab
const MAX_SCRIPT_DEPTH = 10;
// Guards deep merges against the cyclic structures YAML aliases can build.
const MAX_MERGE_DEPTH = 64;

const GLOBAL_KEYS = new Set(['stages', 'variables', 'image', 'services', 'before_script', 'after_script', 'cache', 'default']);
const UNSUPPORTED_GLOBAL_KEYS = new Set(['workflow', 'include', 'types', 'spec']);
const DEFAULT_KEYS = new Set(['image', 'services', 'before_script', 'after_script', 'cache', 'tags', 'timeout', 'retry', 'artifacts']);
const JOB_KEYS = new Set([
  'script', 'stage', 'image', 'services', 'before_script', 'after_script', 'variables', 'tags',
  'artifacts', 'cache', 'dependencies', 'when', 'allow_failure', 'only', 'except', 'extends',
  'retry', 'timeout', 'environment',
]);
const WHEN_VALUES: readonly When[] = ['on_success', 'on_failure', 'always', 'manual'];
const ARTIFACT_WHEN_VALUES = ['on_success', 'on_failure', 'always'] as const;
const CACHE_POLICIES = ['pull', 'push', 'pull-push'] as const;
// only/except keywords that select by pipeline *source*; Baton only knows the
// ref, so honouring them would be guesswork.
const SOURCE_KEYWORDS = new Set([
  'api', 'chat', 'external', 'external_pull_requests', 'merge_requests', 'pipelines',
  'pushes', 'schedules', 'triggers', 'web',
]);
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// ---------------------------------------------------------------------------
// Small helpers

function isMap(v: unknown): v is YamlMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own property only: YAML keys like `constructor` must not hit the prototype. */
function get(obj: YamlMap, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Present and not null: `key:` with no value counts as "not set". */
function has(obj: YamlMap, key: string): boolean {
  return Object.hasOwn(obj, key) && obj[key] !== null && obj[key] !== undefined;
}

/** Assignment that is safe for keys such as `__proto__`. */
function put<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function unknownKeys(obj: YamlMap, allowed: ReadonlySet<string>): string[] {
  return Object.keys(obj).filter((k) => !allowed.has(k));
}

function orList(values: readonly string[]): string {
  return values.length <= 1 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

/**
 * Where an error happened: `jobs:build`, `default` or the root. `at(key)`
 * yields the prefix used in messages, e.g. `jobs:build image`, `default:image`,
 * or just `image` for a top-level global.
 */
class Scope {
  constructor(readonly label: string, readonly errors: string[]) {}
  at(key: string): string {
    if (this.label === '') return key;
    if (this.label === 'default') return `default:${key}`;
    return `${this.label} ${key}`;
  }
  /** Record an error; returns undefined so parsers can `return scope.error(…)`. */
  error(message: string): undefined {
    this.errors.push(message);
    return undefined;
  }
  /** Record an error; returns false for `ok = scope.fail(…)`. */
  fail(message: string): false {
    this.errors.push(message);
    return false;
  }
}

// ---------------------------------------------------------------------------
// YAML merge keys

/**
 * Apply YAML `<<` merge keys: explicit keys win over merged ones, and with
 * `<<: [*a, *b]` earlier sources win over later ones. Bun.YAML already does
 * this, in which case this is a no-op copy; it is kept so parsing does not
 * depend on that parser detail. Never mutates its input; preserves cycles.
 */
export function applyMergeKeys(value: unknown): unknown {
  const seen = new Map<object, unknown>();
  const walk = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    const done = seen.get(v);
    if (done !== undefined) return done;
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      seen.set(v, out);
      for (const item of v) out.push(walk(item));
      return out;
    }
    const src = v as YamlMap;
    const out: YamlMap = {};
    seen.set(v, out);
    for (const [k, item] of Object.entries(src)) {
      if (k !== '<<') put(out, k, walk(item));
    }
    if (Object.hasOwn(src, '<<')) {
      const merge = src['<<'];
      const sources = Array.isArray(merge) ? merge : [merge];
      for (const s of sources) {
        const resolved = walk(s);
        if (!isMap(resolved)) throw new MergeKeyError();
        for (const [k, item] of Object.entries(resolved)) {
          if (!Object.hasOwn(out, k)) put(out, k, item);
        }
      }
    }
    return out;
  };
  return walk(value);
}

class MergeKeyError extends Error {
  constructor() {
    super('root config: a "<<" merge key must refer to a hash or a list of hashes');
  }
}

/** Hash-deep merge for `extends`: hashes merge recursively, anything else in `over` replaces. */
function deepMerge(base: YamlMap, over: YamlMap, depth = 0): YamlMap {
  if (depth > MAX_MERGE_DEPTH) throw new NestingError();
  const out: YamlMap = {};
  for (const [k, v] of Object.entries(base)) put(out, k, v);
  for (const [k, v] of Object.entries(over)) {
    const prev = get(out, k);
    put(out, k, isMap(prev) && isMap(v) ? deepMerge(prev, v, depth + 1) : v);
  }
  return out;
}

class NestingError extends Error {}

// ---------------------------------------------------------------------------
// Value parsers. Each validates one key and records errors on its scope.

function parseScript(v: unknown, scope: Scope, key: string): string[] | undefined {
  if (typeof v === 'string') return [v];
  const out: string[] = [];
  const walk = (x: unknown, depth: number): boolean => {
    if (typeof x === 'string') {
      out.push(x);
      return true;
    }
    return Array.isArray(x) && depth < MAX_SCRIPT_DEPTH && x.every((y) => walk(y, depth + 1));
  };
  if (!Array.isArray(v) || !walk(v, 0)) {
    return scope.error(`${scope.at(key)} config should be a string or a nested array of strings up to ${MAX_SCRIPT_DEPTH} levels deep`);
  }
  return out;
}

function parseStringList(v: unknown, scope: Scope, key: string): string[] | undefined {
  if (!isStringArray(v)) return scope.error(`${scope.at(key)} config should be an array of strings`);
  return [...v];
}

function parseVariables(v: unknown, scope: Scope, key = 'variables'): Record<string, string> | undefined {
  const where = scope.at(key);
  if (!isMap(v)) return scope.error(`${where} config should be a hash of key value pairs`);
  const out: Record<string, string> = {};
  let ok = true;
  for (const [name, raw] of Object.entries(v)) {
    if (!VARIABLE_NAME.test(name)) {
      ok = scope.fail(`${where} config contains an invalid variable name: ${JSON.stringify(name)} (must match ${VARIABLE_NAME.source})`);
      continue;
    }
    if (isScalar(raw)) {
      put(out, name, String(raw));
      continue;
    }
    if (isMap(raw)) {
      const extra = unknownKeys(raw, new Set(['value', 'description']));
      const value = get(raw, 'value');
      const description = get(raw, 'description');
      if (extra.length > 0) {
        ok = scope.fail(`${where}:${name} config contains unknown keys: ${extra.join(', ')}`);
      } else if (value !== undefined && value !== null && !isScalar(value)) {
        ok = scope.fail(`${where}:${name} value should be a string, number or boolean`);
      } else if (description !== undefined && description !== null && typeof description !== 'string') {
        ok = scope.fail(`${where}:${name} description should be a string`);
      } else {
        // `{description}` alone declares a variable with an empty default.
        put(out, name, value === undefined || value === null ? '' : String(value));
      }
      continue;
    }
    ok = scope.fail(`${where}:${name} config should be a string, number, boolean or a hash with value and description`);
  }
  return ok ? out : undefined;
}

function parseImage(v: unknown, scope: Scope, key = 'image'): ImageSpec | undefined {
  const where = scope.at(key);
  if (typeof v === 'string') {
    return v.trim() === '' ? scope.error(`${where} config should not be empty`) : { name: v };
  }
  if (!isMap(v)) return scope.error(`${where} config should be a string or a hash`);
  const extra = unknownKeys(v, new Set(['name', 'entrypoint']));
  if (extra.length > 0) return scope.error(`${where} config contains unknown keys: ${extra.join(', ')}`);
  const name = get(v, 'name');
  if (typeof name !== 'string' || name.trim() === '') return scope.error(`${where}:name config should be a non-empty string`);
  const spec: ImageSpec = { name };
  if (has(v, 'entrypoint')) {
    const ep = parseStringList(get(v, 'entrypoint'), scope, `${key}:entrypoint`);
    if (ep === undefined) return undefined;
    spec.entrypoint = ep;
  }
  return spec;
}

function parseServices(v: unknown, scope: Scope, key = 'services'): ServiceSpec[] | undefined {
  const where = scope.at(key);
  if (!Array.isArray(v)) return scope.error(`${where} config should be an array of strings or hashes`);
  const out: ServiceSpec[] = [];
  for (const item of v) {
    if (typeof item === 'string' && item.trim() !== '') {
      out.push({ name: item });
      continue;
    }
    if (!isMap(item)) return scope.error(`${where} config should be an array of strings or hashes`);
    const extra = unknownKeys(item, new Set(['name', 'alias', 'entrypoint', 'command']));
    if (extra.length > 0) return scope.error(`${where} config contains unknown keys: ${extra.join(', ')}`);
    const name = get(item, 'name');
    if (typeof name !== 'string' || name.trim() === '') return scope.error(`${where}:name config should be a non-empty string`);
    const spec: ServiceSpec = { name };
    if (has(item, 'alias')) {
      const alias = get(item, 'alias');
      if (typeof alias !== 'string') return scope.error(`${where}:alias config should be a string`);
      spec.alias = alias;
    }
    for (const list of ['entrypoint', 'command'] as const) {
      if (!has(item, list)) continue;
      const parsed = parseStringList(get(item, list), scope, `${key}:${list}`);
      if (parsed === undefined) return undefined;
      spec[list] = parsed;
    }
    out.push(spec);
  }
  return out;
}

function parseArtifacts(v: unknown, scope: Scope, key = 'artifacts'): ArtifactsSpec | undefined {
  const where = scope.at(key);
  if (!isMap(v)) return scope.error(`${where} config should be a hash`);
  const extra = unknownKeys(v, new Set(['name', 'paths', 'untracked', 'when', 'expire_in']));
  if (extra.length > 0) return scope.error(`${where} config contains unknown keys: ${extra.join(', ')}`);
  const spec: ArtifactsSpec = {};
  let ok = true;
  if (has(v, 'name')) {
    const name = get(v, 'name');
    if (typeof name === 'string') spec.name = name;
    else ok = scope.fail(`${where}:name config should be a string`);
  }
  if (has(v, 'paths')) {
    const paths = parseStringList(get(v, 'paths'), scope, `${key}:paths`);
    if (paths === undefined) ok = false;
    else spec.paths = paths;
  }
  if (has(v, 'untracked')) {
    const untracked = get(v, 'untracked');
    if (typeof untracked === 'boolean') spec.untracked = untracked;
    else ok = scope.fail(`${where}:untracked config should be a boolean`);
  }
  if (has(v, 'when')) {
    const when = get(v, 'when');
    const match = ARTIFACT_WHEN_VALUES.find((w) => w === when);
    if (match !== undefined) spec.when = match;
    else ok = scope.fail(`${where}:when config should be ${orList(ARTIFACT_WHEN_VALUES)}`);
  }
  if (has(v, 'expire_in')) {
    const raw = get(v, 'expire_in');
    const text = typeof raw === 'number' ? String(raw) : raw;
    if (typeof text === 'string' && parseExpireIn(text) !== null) spec.expire_in = text;
    else ok = scope.fail(`${where}:expire_in config should be a duration (e.g. "1 week", "30 mins") or "never"`);
  }
  return ok ? spec : undefined;
}

function parseCache(v: unknown, scope: Scope, key = 'cache'): CacheSpec | undefined {
  const where = scope.at(key);
  if (!isMap(v)) return scope.error(`${where} config should be a hash`);
  const extra = unknownKeys(v, new Set(['key', 'paths', 'untracked', 'policy']));
  if (extra.length > 0) return scope.error(`${where} config contains unknown keys: ${extra.join(', ')}`);
  const spec: CacheSpec = {};
  let ok = true;
  if (has(v, 'key')) {
    const raw = get(v, 'key');
    const k = typeof raw === 'number' ? String(raw) : raw;
    if (typeof k !== 'string') ok = scope.fail(`${where}:key config should be a string`);
    // The key becomes part of a storage path, so it must not traverse.
    else if (k.includes('/') || k.toLowerCase().includes('%2f')) ok = scope.fail(`${where}:key config cannot contain "/"`);
    else if (k === '.' || k === '..' || k.toLowerCase() === '%2e' || k.toLowerCase() === '%2e%2e') ok = scope.fail(`${where}:key config cannot be "." or ".."`);
    else spec.key = k;
  }
  if (has(v, 'paths')) {
    const paths = parseStringList(get(v, 'paths'), scope, `${key}:paths`);
    if (paths === undefined) ok = false;
    else spec.paths = paths;
  }
  if (has(v, 'untracked')) {
    const untracked = get(v, 'untracked');
    if (typeof untracked === 'boolean') spec.untracked = untracked;
    else ok = scope.fail(`${where}:untracked config should be a boolean`);
  }
  if (has(v, 'policy')) {
    const policy = get(v, 'policy');
    const match = CACHE_POLICIES.find((p) => p === policy);
    if (match !== undefined) spec.policy = match;
    else ok = scope.fail(`${where}:policy config should be ${orList(CACHE_POLICIES)}`);
  }
  return ok ? spec : undefined;
}

function parseRetry(v: unknown, scope: Scope): number | undefined {
  const where = scope.at('retry');
  let max: unknown = v;
  if (isMap(v)) {
    const extra = unknownKeys(v, new Set(['max']));
    if (extra.length > 0) return scope.error(`${where} config contains unknown keys: ${extra.join(', ')}`);
    max = has(v, 'max') ? get(v, 'max') : 0;
  }
  if (typeof max !== 'number' || !Number.isInteger(max)) {
    return scope.error(`${where} config should be an integer or a hash with max`);
  }
  if (max < 0 || max > 2) return scope.error(`${where} config must be between 0 and 2`);
  return max;
}

function parseTimeout(v: unknown, scope: Scope): number | undefined {
  const where = scope.at('timeout');
  const seconds = typeof v === 'string' ? parseDuration(v) : typeof v === 'number' ? parseDuration(String(v)) : null;
  if (seconds === null) return scope.error(`${where} config should be a duration (e.g. "1h 30m")`);
  if (seconds <= 0) return scope.error(`${where} config should be longer than 0 seconds`);
  return seconds;
}

function parseTags(v: unknown, scope: Scope): string[] | undefined {
  return parseStringList(v, scope, 'tags');
}

function parseEnvironment(v: unknown, scope: Scope): EnvironmentSpec | undefined {
  const where = scope.at('environment');
  if (typeof v === 'string') return v.trim() === '' ? scope.error(`${where} config should not be empty`) : { name: v, action: 'start' };
  if (!isMap(v)) return scope.error(`${where} config should be a string or a hash`);
  const extra = unknownKeys(v, new Set(['name', 'url']));
  if (extra.length > 0) return scope.error(`${where} config contains unknown keys: ${extra.join(', ')}`);
  const name = get(v, 'name');
  if (typeof name !== 'string' || name.trim() === '') return scope.error(`${where}:name config should be a non-empty string`);
  if (!has(v, 'url')) return { name, action: 'start' };
  const url = get(v, 'url');
  if (typeof url !== 'string') return scope.error(`${where}:url config should be a string`);
  return { name, url, action: 'start' };
}

type RefMatcher =
  | { kind: 'branches' }
  | { kind: 'tags' }
  | { kind: 'name'; name: string }
  | { kind: 'regex'; re: RegExp };

/** `only`/`except`: a list of ref patterns, or `{refs: [...]}`. */
function parseRefPolicy(v: unknown, scope: Scope, key: 'only' | 'except'): RefMatcher[] | undefined {
  const where = scope.at(key);
  let list: unknown = v;
  if (isMap(v)) {
    const extra = unknownKeys(v, new Set(['refs']));
    if (extra.length > 0) return scope.error(`${where} config contains unknown keys: ${extra.join(', ')}`);
    list = get(v, 'refs');
  }
  if (!isStringArray(list)) return scope.error(`${where} config should be an array of strings or regular expressions`);
  const out: RefMatcher[] = [];
  for (const entry of list) {
    if (entry === 'branches' || entry === 'tags') {
      out.push({ kind: entry });
      continue;
    }
    if (SOURCE_KEYWORDS.has(entry)) {
      return scope.error(`${where} config uses pipeline source keyword "${entry}", which is not supported`);
    }
    const rx = /^\/(.+)\/([a-z]*)$/s.exec(entry);
    if (rx !== null) {
      const flags = rx[2];
      if (/[^ims]/.test(flags)) return scope.error(`${where} config regular expression ${entry} uses unsupported flags (allowed: i, m, s)`);
      try {
        out.push({ kind: 'regex', re: new RegExp(rx[1], flags) });
      } catch {
        return scope.error(`${where} config contains an invalid regular expression: ${entry}`);
      }
      continue;
    }
    out.push({ kind: 'name', name: entry });
  }
  return out;
}

function refMatches(matchers: readonly RefMatcher[], ref: RefInfo): boolean {
  return matchers.some((m) => {
    switch (m.kind) {
      case 'branches': return !ref.tag;
      case 'tags': return ref.tag;
      case 'name': return m.name === ref.name;
      case 'regex': return m.re.test(ref.name);
    }
  });
}

// ---------------------------------------------------------------------------
// Globals and `default:`

interface Inherited {
  image?: ImageSpec;
  services?: ServiceSpec[];
  beforeScript?: string[];
  afterScript?: string[];
  cache?: CacheSpec;
  tags?: string[];
  timeout?: number;
  retry?: number;
  artifacts?: ArtifactsSpec;
}

/** Keys shared by the old top-level globals and `default:`. */
function parseInheritable(src: YamlMap, scope: Scope, out: Inherited): void {
  if (has(src, 'image')) out.image = parseImage(get(src, 'image'), scope);
  if (has(src, 'services')) out.services = parseServices(get(src, 'services'), scope);
  if (has(src, 'before_script')) out.beforeScript = parseScript(get(src, 'before_script'), scope, 'before_script');
  if (has(src, 'after_script')) out.afterScript = parseScript(get(src, 'after_script'), scope, 'after_script');
  if (has(src, 'cache')) out.cache = parseCache(get(src, 'cache'), scope);
}

function parseDefault(v: unknown, errors: string[]): Inherited {
  const scope = new Scope('default', errors);
  const out: Inherited = {};
  if (!isMap(v)) {
    scope.error('default config should be a hash');
    return out;
  }
  const extra = unknownKeys(v, DEFAULT_KEYS);
  if (extra.length > 0) scope.error(`default config contains unknown keys: ${extra.join(', ')}`);
  parseInheritable(v, scope, out);
  if (has(v, 'tags')) out.tags = parseTags(get(v, 'tags'), scope);
  if (has(v, 'timeout')) out.timeout = parseTimeout(get(v, 'timeout'), scope);
  if (has(v, 'retry')) out.retry = parseRetry(get(v, 'retry'), scope);
  if (has(v, 'artifacts')) out.artifacts = parseArtifacts(get(v, 'artifacts'), scope);
  return out;
}

function parseStages(v: unknown, errors: string[]): string[] {
  if (!isStringArray(v) || v.some((s) => s.trim() === '')) {
    errors.push('stages config should be an array of non-empty strings');
    return DEFAULT_STAGES;
  }
  const seen = new Set<string>();
  for (const s of v) {
    if (seen.has(s)) errors.push(`stages config contains duplicate stage: ${s}`);
    seen.add(s);
  }
  return v;
}

// ---------------------------------------------------------------------------
// extends

/** Resolves `extends` chains; memoised so shared parents are reported once. */
class ExtendsResolver {
  private readonly memo = new Map<string, YamlMap | null>();
  constructor(private readonly entries: ReadonlyMap<string, unknown>, private readonly errors: string[]) {}

  resolve(name: string, chain: readonly string[] = []): YamlMap | null {
    const cached = this.memo.get(name);
    if (cached !== undefined) return cached;
    if (chain.includes(name)) {
      this.errors.push(`jobs:${chain[0]} extends config contains a circular dependency: ${[...chain, name].join(' -> ')}`);
      return null;
    }
    const result = this.compute(name, [...chain, name]);
    this.memo.set(name, result);
    return result;
  }

  private compute(name: string, chain: readonly string[]): YamlMap | null {
    const raw = this.entries.get(name);
    if (!isMap(raw)) return null; // callers check existence and shape first
    const ext = get(raw, 'extends');
    const own: YamlMap = {};
    for (const [k, v] of Object.entries(raw)) if (k !== 'extends') put(own, k, v);
    if (ext === undefined || ext === null) return own;

    const parents = typeof ext === 'string' ? [ext] : ext;
    if (!isStringArray(parents) || parents.length === 0) {
      this.errors.push(`jobs:${name} extends config should be a string or an array of strings`);
      return null;
    }
    if (chain.length > MAX_EXTENDS_DEPTH) {
      this.errors.push(`jobs:${chain[0]} extends config nesting is too deep (maximum ${MAX_EXTENDS_DEPTH} levels)`);
      return null;
    }
    let base: YamlMap = {};
    for (const parent of parents) {
      if (!this.entries.has(parent)) {
        this.errors.push(`jobs:${name} extends config refers to an unknown job: ${parent}`);
        return null;
      }
      if (!isMap(this.entries.get(parent))) {
        this.errors.push(`jobs:${name} extends config refers to ${parent}, which is not a hash`);
        return null;
      }
      const resolved = this.resolve(parent, chain);
      if (resolved === null) return null;
      const merged = this.merge(name, base, resolved);
      if (merged === null) return null;
      base = merged;
    }
    return this.merge(name, base, own);
  }

  private merge(name: string, base: YamlMap, over: YamlMap): YamlMap | null {
    try {
      return deepMerge(base, over);
    } catch (e) {
      if (!(e instanceof NestingError)) throw e;
      this.errors.push(`jobs:${name} extends config cannot be merged: values are nested too deeply (cyclic YAML aliases?)`);
      return null;
    }
  }
}

// ---------------------------------------------------------------------------
// Jobs

interface DraftJob {
  plan: JobPlan;
  only?: RefMatcher[];
  except?: RefMatcher[];
  /** Source position, for stable ordering within a stage. */
  order: number;
}

function parseJob(
  name: string,
  job: YamlMap,
  ctx: { stages: ReadonlySet<string>; stageList: readonly string[]; defaults: Inherited; globals: Inherited; errors: string[] },
): DraftJob | undefined {
  const scope = new Scope(`jobs:${name}`, ctx.errors);
  const before = ctx.errors.length;

  const extra = unknownKeys(job, JOB_KEYS);
  if (extra.length > 0) scope.error(`jobs:${name} config contains unknown keys: ${extra.join(', ')}`);

  let script: string[] | undefined;
  if (!has(job, 'script')) scope.error(`jobs:${name} config should implement a script: keyword`);
  else {
    script = parseScript(get(job, 'script'), scope, 'script');
    if (script !== undefined && script.length === 0) scope.error(`jobs:${name} script config should not be empty`);
  }

  let stage = DEFAULT_JOB_STAGE;
  if (has(job, 'stage')) {
    const s = get(job, 'stage');
    if (typeof s !== 'string') scope.error(`jobs:${name} stage config should be a string`);
    else stage = s;
  }
  if (!ctx.stages.has(stage)) scope.error(`jobs:${name} stage parameter should be ${ctx.stageList.join(', ')}`);

  // Job value, else `default:`, else old-style top-level global. Inherited
  // values are cloned so jobs never share mutable objects.
  const pick = <T>(key: string, parse: (v: unknown) => T | undefined, fallback: T | undefined): T | undefined =>
    has(job, key) ? parse(get(job, key)) : fallback === undefined ? undefined : structuredClone(fallback);
  const { defaults: d, globals: g } = ctx;
  const image = pick('image', (v) => parseImage(v, scope), d.image ?? g.image);
  const services = pick('services', (v) => parseServices(v, scope), d.services ?? g.services) ?? [];
  const beforeScript = pick('before_script', (v) => parseScript(v, scope, 'before_script'), d.beforeScript ?? g.beforeScript) ?? [];
  const afterScript = pick('after_script', (v) => parseScript(v, scope, 'after_script'), d.afterScript ?? g.afterScript) ?? [];
  const cache = pick('cache', (v) => parseCache(v, scope), d.cache ?? g.cache);
  const tags = pick('tags', (v) => parseTags(v, scope), d.tags) ?? [];
  const timeout = pick('timeout', (v) => parseTimeout(v, scope), d.timeout);
  const retry = pick('retry', (v) => parseRetry(v, scope), d.retry) ?? 0;
  const artifacts = pick('artifacts', (v) => parseArtifacts(v, scope), d.artifacts);
  const variables = has(job, 'variables') ? parseVariables(get(job, 'variables'), scope) ?? {} : {};

  let dependencies: string[] | undefined;
  if (has(job, 'dependencies')) dependencies = parseStringList(get(job, 'dependencies'), scope, 'dependencies');

  let when: When = 'on_success';
  if (has(job, 'when')) {
    const w = get(job, 'when');
    const match = WHEN_VALUES.find((x) => x === w);
    if (match === undefined) scope.error(`jobs:${name} when config should be ${orList(WHEN_VALUES)}`);
    else when = match;
  }

  // Manual jobs must not block the pipeline unless asked to, as in GitLab.
  let allowFailure = when === 'manual';
  if (has(job, 'allow_failure')) {
    const af = get(job, 'allow_failure');
    if (typeof af !== 'boolean') scope.error(`jobs:${name} allow_failure config should be a boolean`);
    else allowFailure = af;
  }

  const only = has(job, 'only') ? parseRefPolicy(get(job, 'only'), scope, 'only') : undefined;
  const except = has(job, 'except') ? parseRefPolicy(get(job, 'except'), scope, 'except') : undefined;
  const environment = has(job, 'environment') ? parseEnvironment(get(job, 'environment'), scope) : undefined;

  if (ctx.errors.length > before || script === undefined) return undefined;

  const plan: JobPlan = {
    name, stage, stageIdx: -1, beforeScript, script, afterScript, services, variables, tags, when, allowFailure,
    retry: { max: retry, when: ['always'], exit_codes: [] },
  };
  if (image !== undefined) plan.image = image;
  if (artifacts !== undefined) plan.artifacts = artifacts;
  if (cache !== undefined) plan.cache = [cache];
  if (dependencies !== undefined) plan.dependencies = dependencies;
  if (timeout !== undefined) plan.timeout = timeout;
  if (environment !== undefined) plan.environment = environment;
  return { plan, only, except, order: 0 };
}

/**
 * GitLab's `!reference` tag is not understood by Bun.YAML, which would drop
 * the tag and keep the bare list — turning `!reference [.x, script]` into two
 * script lines. Detect it up front instead.
 */
function usesReferenceTag(text: string): boolean {
  return /(?:^|[\s:[,-])!reference(?=[\s[])/m.test(text);
}

// ---------------------------------------------------------------------------
// Entry point

/**
 * Parse `.gitlab-ci.yml` text into the jobs that run for `ref`.
 * Errors are collected across the whole file rather than stopping at the first.
 */
export function parseCiConfig(text: string, ref: RefInfo): ParseResult {
  let doc: unknown;
  try {
    doc = Bun.YAML.parse(text);
  } catch (e) {
    return { ok: false, errors: [e instanceof Error ? e.message : String(e)] };
  }
  if (usesReferenceTag(text)) return { ok: false, errors: ['root config uses the !reference tag, which is not supported'] };
  try {
    doc = applyMergeKeys(doc);
  } catch (e) {
    if (e instanceof MergeKeyError) return { ok: false, errors: [e.message] };
    throw e;
  }
  if (doc === null || doc === undefined) return { ok: false, errors: ['root config should contain at least one visible job'] };
  if (!isMap(doc)) return { ok: false, errors: ['root config should be a hash (a single YAML document of keys)'] };

  const errors: string[] = [];
  const rootScope = new Scope('', errors);

  // Pass 1: sort top-level keys into globals, templates and jobs.
  const entries = new Map<string, unknown>();
  const jobNames: string[] = [];
  for (const [key, value] of Object.entries(doc)) {
    if (GLOBAL_KEYS.has(key)) continue;
    if (UNSUPPORTED_GLOBAL_KEYS.has(key)) {
      errors.push(`root config contains unsupported key: ${key}`);
      continue;
    }
    entries.set(key, value);
    if (key.startsWith('.')) continue; // hidden: may hold anything (anchors, templates)
    if (!isMap(value)) {
      errors.push(`root config contains unknown key: ${key} (jobs must be hashes)`);
      continue;
    }
    jobNames.push(key);
  }

  const declared = has(doc, 'stages') ? parseStages(get(doc, 'stages'), errors) : DEFAULT_STAGES;
  const userStages = declared.filter((s) => s !== PRE && s !== POST);
  const allowedStages = [PRE, ...userStages, POST];

  const variables = has(doc, 'variables') ? parseVariables(get(doc, 'variables'), rootScope) ?? {} : {};
  const globals: Inherited = {};
  parseInheritable(doc, rootScope, globals);
  const defaults = has(doc, 'default') ? parseDefault(get(doc, 'default'), errors) : {};

  if (jobNames.length === 0 && errors.length === 0) {
    return { ok: false, errors: ['root config should contain at least one visible job'] };
  }

  // Pass 2: resolve extends and validate each visible job.
  const resolver = new ExtendsResolver(entries, errors);
  const ctx = { stages: new Set(allowedStages), stageList: allowedStages, defaults, globals, errors };
  const drafts: DraftJob[] = [];
  for (const [order, name] of jobNames.entries()) {
    const resolved = resolver.resolve(name);
    if (resolved === null) continue;
    const draft = parseJob(name, resolved, ctx);
    if (draft !== undefined) drafts.push({ ...draft, order });
  }

  // `.pre`/`.post` are implicit; list them only when declared or used.
  const used = new Set(drafts.map((d) => d.plan.stage));
  const stages = [
    ...(declared.includes(PRE) || used.has(PRE) ? [PRE] : []),
    ...userStages,
    ...(declared.includes(POST) || used.has(POST) ? [POST] : []),
  ];
  const byName = new Map<string, DraftJob>();
  for (const d of drafts) {
    d.plan.stageIdx = stages.indexOf(d.plan.stage);
    byName.set(d.plan.name, d);
  }

  // Pass 3: dependencies must name jobs from earlier stages.
  for (const d of drafts) {
    for (const dep of d.plan.dependencies ?? []) {
      const target = byName.get(dep);
      if (target === undefined) {
        // A job that exists but failed validation already has its own error.
        if (!jobNames.includes(dep)) errors.push(`jobs:${d.plan.name} dependencies config refers to an undefined job: ${dep}`);
      } else if (target.plan.stageIdx >= d.plan.stageIdx) {
        errors.push(`jobs:${d.plan.name} dependencies config refers to ${dep}, which is not in an earlier stage`);
      }
    }
  }

  if (errors.length > 0) return { ok: false, errors: [...new Set(errors)] };

  // Pass 4: keep the jobs that run for this ref.
  const selected = drafts.filter((d) =>
    (d.only === undefined || refMatches(d.only, ref)) && (d.except === undefined || !refMatches(d.except, ref)));
  const refLabel = `${ref.tag ? 'tag' : 'branch'} ${JSON.stringify(ref.name)}`;
  if (selected.length === 0) {
    return { ok: false, errors: [`root config contains no jobs that run for ${refLabel} (check only/except)`] };
  }
  if (selected.every((d) => d.plan.stage === PRE || d.plan.stage === POST)) {
    return { ok: false, errors: [`root config: the pipeline for ${refLabel} would contain only ${PRE}/${POST} jobs`] };
  }

  // A dependency that does not run for this ref simply contributes no artifacts.
  const running = new Set(selected.map((d) => d.plan.name));
  const jobs = selected
    .sort((a, b) => a.plan.stageIdx - b.plan.stageIdx || a.order - b.order)
    .map((d) => {
      if (d.plan.dependencies !== undefined) d.plan.dependencies = d.plan.dependencies.filter((n) => running.has(n));
      return d.plan;
    });
  return { ok: true, plan: { stages, variables, jobs, workflow: { autoCancel: { onNewCommit: 'conservative', onJobFailure: 'none' } } } };
}
