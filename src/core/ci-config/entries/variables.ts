/**
 * `variables:` at the top level, in jobs, rules, services and triggers. A value is a scalar —
 * a string, an integer, a float or a boolean; GitLab stores its Ruby `to_s`, so `3.10` is
 * "3.1" and `yes` is "true" — or a hash `{value, description, expand, options}` (which data
 * keys are allowed depends on where; nothing counts as an empty hash). Anything else — a
 * list — is GitLab's "variable definition must be either a string or a hash".
 */
import { child, configError, type Entry } from './common';
import { isInteger, isMap, isString, isStringArray, RubyFloat, rubyToS } from '../values';

export interface VariableDef {
  key: string;
  value: string;
  /** `expand: false` */
  raw: boolean;
  description?: string;
  options?: string[];
}

function alphanumeric(v: unknown): v is string | number {
  return isString(v) || isInteger(v);
}

/**
 * GitLab's scalar check of variable values (it once allowed only strings and integers). A
 * non-integer number comes from a typed `number` input interpolated into the value.
 */
function scalar(v: unknown): boolean {
  return isString(v) || typeof v === 'number' || typeof v === 'boolean' || v instanceof RubyFloat;
}

/** Parses a variables hash; undefined when any entry is invalid. */
export function variables(e: Entry, v: unknown, allowedData: readonly string[]): VariableDef[] | undefined {
  // GitLab's Variables entry (a ComposableHash): its type check
  if (!isMap(v)) return configError(e, 'should be a hash');
  const out: VariableDef[] = [];
  let ok = true;
  for (const [key, given] of Object.entries(v)) {
    const ve = child(e, key);
    // GitLab's ComposableHash: nothing (`KEY:` or `KEY: null`) is an empty hash, so a value ""
    // where the hash form is allowed, and "config must be a string" where it is not
    const raw = given === null || given === undefined ? {} : given;
    if (scalar(raw)) {
      out.push({ key, value: rubyToS(raw), raw: false });
      continue;
    }
    if (!isMap(raw)) {
      e.errors.raw('variable definition must be either a string or a hash');
      ok = false;
      continue;
    }
    const before = e.errors.count;
    const { value, description, expand, options } = raw as Record<string, unknown>;
    if (value !== undefined && value !== null && !scalar(value)) ve.errors.add(ve.location, 'config value must be a scalar');
    if (description !== undefined && description !== null && !alphanumeric(description)) ve.errors.add(ve.location, 'config description must be an alphanumeric string');
    if (expand !== undefined && expand !== null && typeof expand !== 'boolean') ve.errors.add(ve.location, 'config expand should be a boolean value');
    if (options !== undefined && options !== null && !isStringArray(options)) ve.errors.add(ve.location, 'config options should be an array of strings');
    const extra = Object.keys(raw).filter((k) => !allowedData.includes(k));
    if (allowedData.length === 0) ve.errors.add(ve.location, 'config must be a string');
    else if (extra.length > 0) ve.errors.add(ve.location, `config uses invalid data keys: ${extra.join(', ')}`);
    const text = value === undefined || value === null ? '' : rubyToS(value);
    // GitLab compares the value itself: `1` or `true` is not the option "1" or "true"
    if (isStringArray(options) && options.length > 0 && !(isString(value) && options.includes(value))) ve.errors.add(ve.location, 'config value must be present in options');
    if (e.errors.count > before) { ok = false; continue; }
    const def: VariableDef = { key, value: text, raw: expand === false };
    if (description !== undefined && description !== null) def.description = rubyToS(description);
    if (isStringArray(options)) def.options = [...options];
    out.push(def);
  }
  return ok ? out : undefined;
}

export function toRecord(defs: readonly VariableDef[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of defs) Object.defineProperty(out, d.key, { value: d.value, enumerable: true, writable: true, configurable: true });
  return out;
}
