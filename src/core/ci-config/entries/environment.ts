/**
 * `environment:` — a name, or `{name, url, action, on_stop, auto_stop_in, deployment_tier,
 * kubernetes}`. Name and url are expanded when the pipeline is created (plan.ts); `on_stop`
 * is checked against the other jobs there too.
 */
import type { EnvironmentSpec } from '../../../db/job-spec';
import { attrError, configError, knownKeys, type Entry } from './common';
import { isMap, isString } from '../values';
import { isBlankString } from '../../untrusted-regexp';

const KEYS = ['name', 'url', 'action', 'on_stop', 'auto_stop_in', 'kubernetes', 'deployment_tier'];
const ACTIONS = ['start', 'prepare', 'verify', 'access', 'stop'] as const;
const TIERS = ['production', 'staging', 'testing', 'development', 'other'] as const;
// GitLab's environment_name_regex: ASCII letters and digits (Ruby's a-zA-Z0-9)
const NAME = /^[a-zA-Z0-9_\-/${}. ]+$/;
export const ENVIRONMENT_NAME_MESSAGE = "can contain only letters, digits, '-', '_', '/', '$', '{', '}', '.', and spaces, but it cannot start or end with '/'";

export function validEnvironmentName(name: string): boolean {
  return NAME.test(name) && !name.startsWith('/') && !name.endsWith('/');
}

/**
 * A name (or resource group key) GitLab's Environment and ResourceGroup models accept once
 * variables are expanded: present, at most 255 characters, of the allowed characters.
 */
export function storableEnvironmentName(name: string): boolean {
  return !isBlankString(name) && name.length <= 255 && validEnvironmentName(name);
}

export function environment(e: Entry, v: unknown): EnvironmentSpec | undefined {
  if (isString(v)) {
    if (isBlankString(v)) return attrError(e, 'name', "can't be blank");
    if (!validEnvironmentName(v)) return attrError(e, 'name', ENVIRONMENT_NAME_MESSAGE);
    return { name: v, action: 'start' };
  }
  if (!isMap(v)) return configError(e, 'should be a hash or a string');
  if (!knownKeys(e, v, KEYS)) return undefined;
  const before = e.errors.count;
  const { name, url, action, on_stop, auto_stop_in, deployment_tier } = v as Record<string, unknown>;
  if (name === undefined || name === null || (isString(name) && isBlankString(name))) attrError(e, 'name', "can't be blank");
  else if (!isString(name) || !validEnvironmentName(name)) attrError(e, 'name', ENVIRONMENT_NAME_MESSAGE);
  const spec: EnvironmentSpec = { name: name as string, action: 'start' };
  if (url !== undefined && url !== null) {
    if (!isString(url)) attrError(e, 'url', 'should be a string');
    else if (url.length > 255) attrError(e, 'url', 'is too long (maximum is 255 characters)');
    else spec.url = url;
  }
  if (action !== undefined && action !== null) {
    const a = ACTIONS.find((x) => x === action);
    if (!a) attrError(e, 'action', 'should be start, stop, prepare, verify, or access');
    else spec.action = a;
  }
  if (on_stop !== undefined && on_stop !== null) {
    if (!isString(on_stop)) attrError(e, 'on_stop', 'should be a string'); else spec.on_stop = on_stop;
  }
  // a string (it may hold variables, expanded when the pipeline is created); a stop job may
  // carry one too (gitlab-docs' review_stop does), as GitLab's entry has no rule against it
  if (auto_stop_in !== undefined && auto_stop_in !== null) {
    if (!isString(auto_stop_in)) attrError(e, 'auto_stop_in', 'should be a string');
    else spec.auto_stop_in = auto_stop_in;
  }
  if (deployment_tier !== undefined && deployment_tier !== null) {
    const t = TIERS.find((x) => x === deployment_tier);
    if (!t) attrError(e, 'deployment_tier', `must be one of ${TIERS.join(', ')}`); else spec.deployment_tier = t;
  }
  return e.errors.count === before ? spec : undefined;
}
