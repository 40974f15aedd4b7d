/**
 * One job (or bridge: a job with `trigger:`) — its keys checked and each keyword parsed by its
 * own entry module, defaults applied as `inherit:` allows. The result is a JobEntry: the
 * static part of the JobSpec plus what is decided per pipeline (rules, only/except, needs,
 * parallel, variables), which rules/ and plan.ts use.
 */
import type { JobSpec, When } from '../../../db/job-spec';
import { artifacts } from './artifacts';
import { caches, type CacheEntry } from './cache';
import { attrError, child, configError, exclusiveKeys, knownKeys, type Entry } from './common';
import { inherit, inherits, type Defaults, type Inherit } from './defaults';
import { environment } from './environment';
import { allowFailure, retry, timeout } from './failure';
import { image, services } from './image';
import { BRIDGE_WHEN, coverage, JOB_WHEN, pages as pagesEntry, publish as publishEntry, resourceGroup, startIn, tags, when as whenEntry } from './misc';
import { dependencies, needs, type NeedEntry } from './needs';
import { parallel, type ParallelEntry } from './parallel';
import { policy, type PolicyEntry } from './policy';
import { release } from './release';
import { JOB_RULES, rules, type RuleEntry } from './rules';
import { commands, hooks } from './script';
import { trigger } from './trigger';
import { unsupported } from './unsupported';
import { variables, type VariableDef } from './variables';
import { isMap, isString, type YamlMap } from '../values';

const PROCESSABLE_KEYS = ['extends', 'stage', 'only', 'except', 'rules', 'variables', 'inherit', 'allow_failure', 'when', 'needs', 'resource_group', 'environment', 'interruptible'];
const JOB_KEYS = [
  'tags', 'script', 'image', 'services', 'start_in', 'artifacts', 'cache', 'dependencies', 'before_script', 'after_script',
  'hooks', 'coverage', 'retry', 'parallel', 'timeout', 'release', 'id_tokens', 'publish', 'pages', 'manual_confirmation', 'run',
  'secrets', 'inputs', 'identity', 'dast_configuration', ...PROCESSABLE_KEYS,
];
const BRIDGE_KEYS = ['trigger', 'parallel', 'inputs', ...PROCESSABLE_KEYS];

export const DEFAULT_STAGE = 'test';

export interface JobEntry {
  name: string;
  /** position in the merged file (plan order within a stage) */
  order: number;
  bridge: boolean;
  /** the static part of the spec; stageIdx, variables and needs are filled per pipeline */
  spec: JobSpec;
  jobVariables: VariableDef[];
  inherit: Inherit;
  rules?: RuleEntry[];
  only?: PolicyEntry;
  except?: PolicyEntry;
  needs?: NeedEntry[];
  parallel?: ParallelEntry;
  cacheEntries?: CacheEntry[];
  /** `allow_failure` written on the job (rules may override it) */
  allowFailureDefined: boolean;
  /** the job's config as merged (lint shows `only`/`except` from it) */
  config: YamlMap;
}

export interface JobContext {
  defaults: Defaults;
  hasWorkflowRules: boolean;
}

export function isBridgeConfig(name: string, v: unknown): boolean {
  return !name.startsWith('.') && isMap(v) && Object.hasOwn(v, 'trigger');
}

export function isJobConfig(name: string, v: unknown): boolean {
  return !name.startsWith('.') && isMap(v) && (Object.hasOwn(v, 'script') || Object.hasOwn(v, 'run'));
}

export function job(e: Entry, name: string, order: number, v: YamlMap, ctx: JobContext): JobEntry | undefined {
  const bridge = !isJobConfig(name, v) && isBridgeConfig(name, v);
  const before = e.errors.count;
  if (name.length > 255) attrError(e, 'name', 'is too long (maximum is 255 characters)');
  exclusiveKeys(e, v, ['script', 'trigger']);
  exclusiveKeys(e, v, ['run', 'trigger']);
  knownKeys(e, v, bridge ? BRIDGE_KEYS : JOB_KEYS);
  exclusiveKeys(e, v, ['script', 'run']);
  const hasRules = v.rules !== undefined && v.rules !== null;
  if (hasRules) {
    const clash = Object.keys(v).filter((k) => ['only', 'except', 'start_in'].includes(k) && v[k] !== null && v[k] !== undefined);
    if (clash.length) configError(e, `key may not be used with \`rules\`: ${clash.join(', ')}`);
  }
  if (e.errors.count > before) return undefined;

  const set = (k: string) => v[k] !== undefined && v[k] !== null;
  const inh = inherit(child(e, 'inherit'), v.inherit);
  const d = ctx.defaults;
  const fromDefault = <K extends keyof Defaults>(key: string, field: K): Defaults[K] | undefined =>
    inherits(inh, key) && d[field] !== undefined ? structuredClone(d[field]) : undefined;

  for (const key of ['id_tokens', 'secrets', 'run', 'inputs', 'identity', 'dast_configuration']) if (set(key)) unsupported(e, key);
  if (set('pages')) pagesEntry(child(e, 'pages'), v.pages);
  if (set('publish')) publishEntry(child(e, 'publish'), v.publish);

  let script: string[] = [];
  if (!bridge && !set('run')) {
    const s = set('script') ? commands(child(e, 'script'), v.script) : undefined;
    if (s !== undefined && s.length > 0 && !(s.length === 1 && s[0] === '')) script = s;
    else if (s !== undefined || !set('script')) attrError(e, 'script', "can't be blank");
  }
  let stage = DEFAULT_STAGE;
  if (set('stage')) {
    if (!isString(v.stage)) configError(child(e, 'stage'), 'should be a string');
    else stage = v.stage;
  }
  const jobVariables = set('variables') ? variables(child(e, 'variables'), v.variables, ['value', 'expand']) ?? [] : [];

  let when: When = 'on_success';
  if (set('when')) when = whenEntry(e, v.when, bridge ? BRIDGE_WHEN : JOB_WHEN) ?? 'on_success';
  let delay: number | undefined;
  if (when === 'delayed') delay = startIn(e, v.start_in);
  else if (set('start_in') && !hasRules) attrError(e, 'start_in', 'must be blank');

  const af = set('allow_failure') ? allowFailure(e, v.allow_failure) : undefined;
  const ruleList = hasRules ? rules(e, v.rules, JOB_RULES) : undefined;
  const only = set('only') ? policy(child(e, 'only'), v.only) : undefined;
  const except = set('except') ? policy(child(e, 'except'), v.except) : undefined;
  const needList = set('needs') ? needs(child(e, 'needs'), v.needs) : undefined;
  const deps = set('dependencies') ? dependencies(e, v.dependencies) : undefined;
  if (deps && deps.length && needList && needList.length) {
    const missing = deps.filter((x) => !needList.some((n) => n.job === x));
    if (missing.length) attrError(e, 'dependencies', `the ${missing.join(', ')} should be part of needs`);
  }
  const par = set('parallel') ? parallel(child(e, 'parallel'), v.parallel) : undefined;

  const spec: JobSpec = {
    name, stage, stageIdx: -1, beforeScript: [], script, afterScript: [], services: [], variables: {}, tags: [], when,
    allowFailure: af ? af.value : when === 'manual', retry: { max: 0, when: ['always'], exit_codes: [] },
  };
  if (af?.exitCodes) spec.allowFailureExitCodes = af.exitCodes;
  if (delay !== undefined) spec.startIn = delay;
  if (deps !== undefined) spec.dependencies = deps;
  if (set('resource_group')) { const r = resourceGroup(e, v.resource_group); if (r !== undefined) spec.resourceGroup = r; }
  if (set('environment')) { const env = environment(child(e, 'environment'), v.environment); if (env) spec.environment = env; }
  if (set('interruptible')) { if (typeof v.interruptible !== 'boolean') attrError(child(e, 'interruptible'), 'config', 'should be a boolean value'); else spec.interruptible = v.interruptible; }
  else { const i = fromDefault('interruptible', 'interruptible'); if (i !== undefined) spec.interruptible = i; }
  let cacheEntries: CacheEntry[] | undefined;

  if (bridge) {
    const t = trigger(child(e, 'trigger'), v.trigger);
    if (t) spec.trigger = t;
    spec.script = [];
  } else {
    const pick = <T>(key: string, field: keyof Defaults, parse: (x: unknown) => T | undefined): T | undefined =>
      set(key) ? parse(v[key]) : (fromDefault(key, field) as T | undefined);
    spec.beforeScript = pick('before_script', 'beforeScript', (x) => commands(child(e, 'before_script'), x)) ?? [];
    spec.afterScript = pick('after_script', 'afterScript', (x) => commands(child(e, 'after_script'), x)) ?? [];
    const hk = pick('hooks', 'hooks', (x) => hooks(child(e, 'hooks'), x));
    if (hk) spec.hooks = hk;
    const img = pick('image', 'image', (x) => image(child(e, 'image'), x));
    if (img) spec.image = img;
    spec.services = pick('services', 'services', (x) => services(child(e, 'services'), x)) ?? [];
    cacheEntries = pick('cache', 'cache', (x) => caches(child(e, 'cache'), x));
    spec.tags = pick('tags', 'tags', (x) => tags(child(e, 'tags'), x)) ?? [];
    const to = pick('timeout', 'timeout', (x) => timeout(child(e, 'timeout'), x));
    if (to !== undefined) spec.timeout = to;
    spec.retry = pick('retry', 'retry', (x) => retry(child(e, 'retry'), x)) ?? spec.retry;
    const art = pick('artifacts', 'artifacts', (x) => artifacts(child(e, 'artifacts'), x));
    if (art) spec.artifacts = art;
    if (set('coverage')) { const c = coverage(child(e, 'coverage'), v.coverage); if (c) spec.coverage = c; }
    if (set('release')) { const r = release(child(e, 'release'), v.release); if (r) spec.release = r; }
    if (set('manual_confirmation')) { if (!isString(v.manual_confirmation)) attrError(e, 'manual_confirmation', 'should be a string'); else spec.manualConfirmation = v.manual_confirmation; }
  }
  if (e.errors.count > before) return undefined;
  const out: JobEntry = { name, order, bridge, spec, jobVariables, inherit: inh, allowFailureDefined: af !== undefined, config: v };
  if (ruleList) out.rules = ruleList;
  if (only) out.only = only;
  if (except) out.except = except;
  if (needList) out.needs = needList;
  if (par) out.parallel = par;
  if (cacheEntries) out.cacheEntries = cacheEntries;
  return out;
}
