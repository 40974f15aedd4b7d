/** The small job keywords: tags, interruptible, resource_group, coverage, when/start_in, manual_confirmation. */
import { attrError, configError, stringList, type Entry } from './common';
import { isValidSlashPattern } from '../conditions';
import { isString } from '../values';
import { parseDuration } from '../../duration';
import type { When } from '../../../db/job-spec';

export const MAX_TAGS = 50;

export function tags(e: Entry, v: unknown): string[] | undefined {
  const list = stringList(e, v);
  if (list && list.length >= MAX_TAGS) return configError(e, `must be less than the limit of ${MAX_TAGS} tags`);
  return list;
}

const RESOURCE_GROUP = /^[\p{L}\p{N}_\-/${}. ]+$/u;

export function resourceGroup(e: Entry, v: unknown): string | undefined {
  if (!isString(v)) return attrError(e, 'resource_group', 'should be a string');
  if (!RESOURCE_GROUP.test(v) || v.startsWith('/') || v.endsWith('/')) {
    return attrError(e, 'resource_group', "can contain only letters, digits, '-', '_', '/', '$', '{', '}', '.', and spaces, but it cannot start or end with '/'");
  }
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
  if (!isString(v)) return attrError(e, 'when', 'should be a string');
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
