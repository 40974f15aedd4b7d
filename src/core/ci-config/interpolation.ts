/**
 * Step 2: a file's header `spec:inputs` and `$[[ inputs.name | fn ]]` interpolation
 * (spec ci-yaml.md §2.6). Only files with a header are interpolated; the inputs given to the
 * file (API `inputs`, `include:inputs`, `trigger:include:inputs`) are checked against the
 * declarations (type, options, regex, default), then every string of the body — keys too —
 * has its blocks replaced: a string that is exactly one block takes the typed value.
 */
import { barePattern } from './conditions';
import { ConfigError } from './errors';
import { expandExisting, type Lookup } from './expand';
import { isInteger, isMap, isString, put, rubyToS, RubyFloat, type YamlMap } from './values';

const MAX_INPUTS = 20;
const MAX_BLOCKS = 10_000;
const MAX_ACCESS = 1024;
const MAX_FUNCTIONS = 3;
const TYPES = ['string', 'number', 'boolean', 'array'] as const;
type InputType = (typeof TYPES)[number];

interface InputSpec { type: InputType; default?: unknown; options?: unknown[]; regex?: string; hasDefault: boolean }

function typeOk(type: InputType, v: unknown): boolean {
  switch (type) {
    case 'string': return isString(v);
    case 'number': return isInteger(v) || v instanceof RubyFloat;
    case 'boolean': return typeof v === 'boolean';
    case 'array': return Array.isArray(v);
  }
}

function list(names: string[]): string {
  return names.slice(0, 3).join(', ');
}

/** Validates the header and the given inputs; returns the resolved values by name. */
export function resolveInputs(header: YamlMap | null, given: Record<string, unknown> | undefined): Map<string, unknown> | null {
  const provided = given ?? {};
  if (header === null) {
    const names = Object.keys(provided);
    if (names.length) throw new ConfigError(`unknown input arguments: ${list(names)}`);
    return null;
  }
  const unknownHeader = Object.keys(header).filter((k) => k !== 'spec');
  if (unknownHeader.length) throw new ConfigError(`header config contains unknown keys: ${unknownHeader.join(', ')}`);
  const spec = header.spec;
  if (!isMap(spec)) throw new ConfigError('header:spec config should be a hash');
  const specUnknown = Object.keys(spec).filter((k) => !['inputs', 'include', 'component', 'description'].includes(k));
  if (specUnknown.length) throw new ConfigError(`header:spec config contains unknown keys: ${specUnknown.join(', ')}`);
  if (spec.include !== undefined) throw new ConfigError('header:spec:include is not supported by Baton: declare the inputs in the file itself');
  const declared = spec.inputs ?? {};
  if (!isMap(declared)) throw new ConfigError('header:spec:inputs config should be a hash');
  const specs = new Map<string, InputSpec>();
  for (const [name, raw] of Object.entries(declared)) {
    const d = raw === null ? {} : raw;
    if (!isMap(d)) throw new ConfigError(`header:spec:inputs:${name} config should be a hash`);
    const extra = Object.keys(d).filter((k) => !['type', 'default', 'description', 'options', 'regex', 'rules'].includes(k));
    if (extra.length) throw new ConfigError(`header:spec:inputs:${name} config contains unknown keys: ${extra.join(', ')}`);
    if (d.rules !== undefined) throw new ConfigError(`header:spec:inputs:${name} uses \`rules\`, which Baton does not support`);
    const type = (d.type ?? 'string') as InputType;
    if (!TYPES.includes(type)) throw new ConfigError(`header:spec:inputs:${name} input type unknown value: ${String(d.type)}`);
    if (d.options !== undefined && (!Array.isArray(d.options) || d.options.length > 50)) throw new ConfigError(`header:spec:inputs:${name} options should be an array of at most 50 values`);
    if (d.regex !== undefined && !isString(d.regex)) throw new ConfigError(`header:spec:inputs:${name} regex should be a string`);
    specs.set(name, { type, default: d.default, options: d.options as unknown[] | undefined, regex: d.regex as string | undefined, hasDefault: Object.hasOwn(d, 'default') });
  }
  if (specs.size > MAX_INPUTS) throw new ConfigError(`the number of inputs cannot exceed ${MAX_INPUTS}`);
  const unknown = Object.keys(provided).filter((k) => !specs.has(k));
  if (unknown.length) throw new ConfigError(`unknown input arguments: ${list(unknown)}`);

  const problems: string[] = [];
  const values = new Map<string, unknown>();
  for (const [name, s] of specs) {
    const isGiven = Object.hasOwn(provided, name);
    if (!isGiven && !s.hasDefault) { problems.push(`\`${name}\` input: required value has not been provided`); continue; }
    const value = isGiven ? provided[name] : s.default;
    const what = isGiven ? 'provided value' : 'default value';
    if (!typeOk(s.type, value)) { problems.push(`\`${name}\` input: ${what} is not a${s.type === 'array' ? 'n' : ''} ${s.type}`); continue; }
    if (s.options && !s.options.some((o) => rubyToS(o) === rubyToS(value))) {
      problems.push(`\`${name}\` input: \`${rubyToS(value)}\` cannot be used because it is not in the list of allowed options`);
      continue;
    }
    if (s.regex !== undefined && s.type === 'string') {
      const re = barePattern(s.regex);
      if (re === null) { problems.push(`\`${name}\` input: invalid regular expression`); continue; }
      if (!re.test(value as string)) { problems.push(`\`${name}\` input: ${what} does not match required RegEx pattern`); continue; }
    }
    values.set(name, value);
  }
  if (problems.length) throw new ConfigError(problems.slice(0, 3).join(', '));
  return values;
}

/**
 * Replaces `$[[ … ]]` blocks in every key and string of `body`. `lookup` and `masked` are the
 * variables `expand_vars` may use (a masked one is refused, as GitLab refuses it).
 */
export function interpolate(body: YamlMap, inputs: Map<string, unknown>, lookup: Lookup, masked: ReadonlySet<string> = new Set()): YamlMap {
  let blocks = 0;
  const one = (text: string): unknown => {
    if (!text.includes('$[[')) return text;
    const parts: Array<string | { value: unknown }> = [];
    let i = 0;
    while (i < text.length) {
      const start = text.indexOf('$[[', i);
      if (start === -1) { parts.push(text.slice(i)); break; }
      const end = text.indexOf(']]', start + 3);
      if (end === -1) { parts.push(text.slice(i)); break; }
      parts.push(text.slice(i, start));
      if (++blocks > MAX_BLOCKS) throw new ConfigError('too many interpolation blocks');
      const inner = text.slice(start + 3, end);
      const value = block(inner, inputs, lookup, masked);
      parts.push(value === SKIP ? text.slice(start, end + 2) : { value });
      i = end + 2;
    }
    if (parts.length === 1 && typeof parts[0] === 'object') return parts[0].value;
    const nonEmpty = parts.filter((p) => p !== '');
    if (nonEmpty.length === 1 && typeof nonEmpty[0] === 'object') return nonEmpty[0].value;
    return parts.map((p) => (typeof p === 'string' ? p : stringForm(p.value))).join('');
  };
  const walk = (v: unknown): unknown => {
    if (isString(v)) return one(v);
    if (Array.isArray(v)) return v.map(walk);
    if (isMap(v)) {
      const out: YamlMap = {};
      for (const [k, x] of Object.entries(v)) {
        const key = one(k);
        put(out, isString(key) ? key : stringForm(key), walk(x));
      }
      return out;
    }
    return v;
  };
  return walk(body) as YamlMap;
}

function stringForm(v: unknown): string {
  if (Array.isArray(v)) return JSON.stringify(v);
  return rubyToS(v);
}

const SKIP = Symbol('skip');

function block(inner: string, inputs: Map<string, unknown>, lookup: Lookup, masked: ReadonlySet<string>): unknown {
  const [access, ...fns] = inner.split('|').map((s) => s.trim());
  if (access.length > MAX_ACCESS) throw new ConfigError('maximum interpolation expression size exceeded');
  const path = access.split('.');
  if (path.length < 2 || path.some((p) => p === '')) throw new ConfigError('invalid interpolation access pattern');
  const [ctxName, name] = path;
  if (ctxName === 'matrix') return SKIP; // `needs:parallel:matrix` resolves these
  if (ctxName !== 'inputs' || path.length !== 2) throw new ConfigError(`unknown interpolation key: \`${access.replace(/^inputs\./, '')}\``);
  if (!inputs.has(name)) throw new ConfigError(`unknown interpolation key: \`${name}\``);
  if (fns.length > MAX_FUNCTIONS) throw new ConfigError('too many functions in interpolation block');
  let value = inputs.get(name);
  for (const fn of fns) value = apply(fn, value, lookup, masked);
  return value;
}

function apply(fn: string, value: unknown, lookup: Lookup, masked: ReadonlySet<string>): unknown {
  const m = /^([a-z_]+)(?:\((.*)\))?$/.exec(fn);
  const name = m?.[1];
  const args = m?.[2];
  const noMatch = () => new ConfigError(`no function matching \`${fn}\`: check that the function name, arguments, and types are correct`);
  if (!name) throw noMatch();
  if (!isString(value)) throw new ConfigError(`invalid input type: ${name} can only be used with string inputs`);
  switch (name) {
    case 'expand_vars':
      if (args !== undefined) throw noMatch();
      // GitLab's expand_existing: a reference to a variable that is not set stays as written
      return expandExisting(value, (n) => {
        const v = lookup(n);
        if (v !== undefined && masked.has(n)) throw new ConfigError('variable expansion error: masked variables cannot be expanded');
        return v;
      });
    case 'truncate': {
      const t = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(args ?? '');
      if (!t) throw noMatch();
      return [...value].slice(Number(t[1]), Number(t[1]) + Number(t[2])).join('');
    }
    case 'posix_escape':
      if (args !== undefined) throw noMatch();
      return value.replace(/([^A-Za-z0-9_\-.,:+/@\n])/g, '\\$1').replace(/\n/g, "'\n'");
    case 'split': {
      const s = /^\s*(['"])(.*)\1\s*$/.exec(args ?? '');
      if (!s) throw noMatch();
      if (s[2] === '') throw new ConfigError('split: separator cannot be empty');
      return value.split(s[2]);
    }
    default:
      throw noMatch();
  }
}
