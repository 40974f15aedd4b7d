/** The small job keywords: tags, interruptible, resource_group, coverage, when/start_in, manual_confirmation, pages/publish. */
import { attrError, configError, stringList, type Entry } from './common';
import { isValidSlashPattern } from '../conditions';
import { isInteger, isMap, isString } from '../values';
import { parseDuration, parseExpireIn } from '../../duration';
import type { When } from '../../../db/job-spec';

export const MAX_TAGS = 50;

export function tags(e: Entry, v: unknown): string[] | undefined {
  const list = stringList(e, v);
  if (list && list.length >= MAX_TAGS) return configError(e, `must be less than the limit of ${MAX_TAGS} tags`);
  return list;
}

/**
 * GitLab checks only the type here; the key's format is the resource group's, checked once
 * variables are expanded (plan.ts): a key it cannot have leaves the job without a group.
 */
export function resourceGroup(e: Entry, v: unknown): string | undefined {
  if (!isString(v)) return attrError(e, 'resource_group', 'should be a string');
  return v;
}

/** `coverage: '/regex/'` — a Ruby-style RE2 pattern, applied to the job log by the runtime. */
export function coverage(e: Entry, v: unknown): string | undefined {
  if (!isString(v)) return configError(e, 'should be a string');
  if (!isValidSlashPattern(v)) return configError(e, 'must be a regular expression with re2 syntax');
  return v;
}

export const JOB_WHEN: readonly When[] = ['on_success', 'on_failure', 'always', 'manual', 'delayed'];
export const BRIDGE_WHEN: readonly When[] = ['on_success', 'on_failure', 'always', 'manual'];

export function when(e: Entry, v: unknown, allowed: readonly When[]): When | undefined {
  // GitLab checks only the inclusion: a number is "should be one of" too
  const w = allowed.find((x) => x === v);
  if (!w) return attrError(e, 'when', `should be one of: ${allowed.join(', ')}`);
  return w;
}

const ONE_WEEK = 7 * 24 * 3600;

export function startIn(e: Entry, v: unknown): number | undefined {
  const seconds = isString(v) ? parseDuration(v) : null;
  if (seconds === null) return attrError(e, 'start_in', 'should be a duration');
  if (seconds > ONE_WEEK) return attrError(e, 'start_in', 'should not exceed the limit');
  return seconds;
}

/**
 * `pages:` (true/false or `{publish, path_prefix, expire_in}`, GitLab's Entry::Pages) and the
 * deprecated job-level `publish:` (a string). Baton hosts no Pages site: a job that deploys
 * Pages runs as an ordinary job (its artifacts are kept) and lint warns about it, so the
 * settings are checked as GitLab checks them and otherwise have nothing to act on.
 * Returns whether the job is a Pages deployment.
 */
export function pages(e: Entry, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (!isMap(v)) { configError(e, 'should be a hash or a boolean value'); return false; }
  const unknown = Object.keys(v).filter((k) => !PAGES_KEYS.includes(k));
  if (unknown.length) configError(e, `contains unknown keys: ${unknown.join(', ')}`);
  if (v.path_prefix !== undefined && v.path_prefix !== null && !isString(v.path_prefix)) attrError(e, 'path_prefix', 'should be a string');
  if (v.publish !== undefined && v.publish !== null && !isString(v.publish)) attrError(e, 'publish', 'should be a string');
  if (v.expire_in !== undefined && v.expire_in !== null) {
    if (!isString(v.expire_in) || parseExpireIn(v.expire_in) === null) attrError(e, 'expire_in', 'should be a duration');
  }
  return true;
}

const PAGES_KEYS = ['path_prefix', 'expire_in', 'publish'];

export function publish(e: Entry, v: unknown): string | undefined {
  if (!isString(v)) return configError(e, 'should be a string');
  return v;
}
