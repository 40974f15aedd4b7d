/**
 * What every keyword entry shares: the error list with GitLab's location prefixes, the
 * "unknown keys" check, and the small value validators GitLab's entries reuse
 * (`should be an array of strings`, `should be a boolean value`, durations …).
 * Attribute messages name the attribute as GitLab's validator does (humanized:
 * `start_in` → `start in`); everything is lower-cased by Errors.add.
 */
import { parseDuration } from '../../duration';
import { at, type Errors } from '../errors';
import { humanize, isInteger, isMap, isString, isStringArray, type YamlMap } from '../values';

export { at };

/** Validation context: where we are and where problems go. */
export interface Entry {
  errors: Errors;
  /** `jobs:rspec`, `default`, `` (root) … */
  location: string;
}

export function child(e: Entry, key: string): Entry {
  return { errors: e.errors, location: at(e.location, key) };
}

/** `<loc> config contains unknown keys: a, b`; true when all keys are known. */
export function knownKeys(e: Entry, value: YamlMap, allowed: readonly string[]): boolean {
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length === 0) return true;
  e.errors.add(e.location, `config contains unknown keys: ${unknown.join(', ')}`);
  return false;
}

/** `<loc> config these keys cannot be used together: a, b`. */
export function exclusiveKeys(e: Entry, value: YamlMap, keys: readonly string[]): boolean {
  const present = Object.keys(value).filter((k) => keys.includes(k));
  if (present.length <= 1) return true;
  e.errors.add(e.location, `config these keys cannot be used together: ${present.join(', ')}`);
  return false;
}

/** An attribute-level message: `<loc> <attribute humanized> <message>`. */
export function attrError(e: Entry, attribute: string, message: string): undefined {
  e.errors.add(e.location, `${humanize(attribute)} ${message}`);
  return undefined;
}

export function configError(e: Entry, message: string): undefined {
  e.errors.add(e.location, `config ${message}`);
  return undefined;
}

export function asHash(e: Entry, v: unknown): YamlMap | undefined {
  if (isMap(v)) return v;
  return configError(e, 'should be a hash');
}

export function stringList(e: Entry, v: unknown, attribute = 'config'): string[] | undefined {
  if (isStringArray(v)) return [...v];
  return attribute === 'config' ? configError(e, 'should be an array of strings') : attrError(e, attribute, 'should be an array of strings');
}

export function stringOrList(e: Entry, v: unknown, attribute = 'config'): string[] | undefined {
  if (isString(v)) return [v];
  if (isStringArray(v)) return [...v];
  return attribute === 'config'
    ? configError(e, 'should be an array of strings or a string')
    : attrError(e, attribute, 'should be an array of strings or a string');
}

export function boolean(e: Entry, v: unknown, attribute: string): boolean | undefined {
  if (typeof v === 'boolean') return v;
  return attrError(e, attribute, 'should be a boolean value');
}

export function integerOrList(e: Entry, v: unknown, attribute: string): number[] | undefined {
  if (isInteger(v)) return [v];
  if (Array.isArray(v) && v.every(isInteger)) return [...v];
  return attrError(e, attribute, 'should be an array of integers or an integer');
}

/** Seconds of a GitLab (ChronicDuration) duration; numbers are seconds. */
export function duration(v: unknown): number | null {
  if (isInteger(v)) return v;
  if (!isString(v)) return null;
  return parseDuration(v);
}

/** `${…}`/`$X` inside a value GitLab validates only after expansion. */
export function hasVariable(v: unknown): boolean {
  return isString(v) && /\$(?:\{[a-zA-Z_][a-zA-Z0-9_]*\}|[a-zA-Z_][a-zA-Z0-9_]*)|%[a-zA-Z_][a-zA-Z0-9_]*%/.test(v);
}
