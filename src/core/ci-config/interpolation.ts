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
import { isInteger, isMap, isString, put, rubyInspect, rubyToS, RubyFloat, type YamlMap } from './values';

const MAX_INPUTS = 20;
const MAX_BLOCKS = 10_000;
const MAX_ACCESS = 1024;
const MAX_FUNCTIONS = 3;
const MAX_OPTIONS = 50;
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

/** GitLab's Interpolator surfaces at most three of its errors, joined. */
function fail(problems: string[]): never {
  throw new ConfigError(problems.slice(0, 3).join(', '));
}

/** Ruby's AlphanumericValidator: a String, Symbol or Integer. */
function alphanumeric(v: unknown): boolean {
  return isString(v) || isInteger(v);
}

/** Validates the header and the given inputs; returns the resolved values by name. */
export function resolveInputs(header: YamlMap | null, given: Record<string, unknown> | undefined): Map<string, unknown> | null {
  const provided = given ?? {};
  if (header === null) {
    // GitLab's Interpolator refuses inputs for a file that declares none
    if (Object.keys(provided).length) throw new ConfigError('Given inputs not defined in the `spec` section of the included configuration file');
    return null;
  }
  // Header entry messages are lower-cased, location included, as every entry message is
  const entryError = (location: string, message: string) => new ConfigError(`${location} ${message}`.toLowerCase());
  const unknownHeader = Object.keys(header).filter((k) => k !== 'spec');
  if (unknownHeader.length) throw entryError('header', `config contains unknown keys: ${unknownHeader.join(', ')}`);
  const spec = header.spec;
  if (!isMap(spec)) throw new ConfigError('header:spec config should be a hash');
  // Header::Spec allows only these three
  const specUnknown = Object.keys(spec).filter((k) => !['inputs', 'include', 'component'].includes(k));
  if (specUnknown.length) throw entryError('header:spec', `config contains unknown keys: ${specUnknown.join(', ')}`);
  if (spec.include !== undefined) throw new ConfigError('header:spec:include is not supported by Baton: declare the inputs in the file itself');
  const declared = spec.inputs ?? {};
  if (!isMap(declared)) throw new ConfigError('header:spec:inputs config should be a hash');
  const specs = new Map<string, InputSpec>();
  // an input entry runs all of its validations; the Interpolator shows the first three problems
  const headerProblems: string[] = [];
  for (const [name, raw] of Object.entries(declared)) {
    const at = `header:spec:inputs:${name}`;
    const problem = (message: string) => headerProblems.push(`${at} ${message}`.toLowerCase());
    const d = raw === null ? {} : raw;
    if (!isMap(d)) { problem('config should be a hash'); continue; }
    const extra = Object.keys(d).filter((k) => !['type', 'default', 'description', 'options', 'regex', 'rules'].includes(k));
    if (extra.length) problem(`config contains unknown keys: ${extra.join(', ')}`);
    if (d.rules !== undefined) throw new ConfigError(`${at} uses \`rules\`, which Baton does not support`);
    if (d.description !== undefined && d.description !== null && !alphanumeric(d.description)) problem('input description must be an alphanumeric string');
    const regex = d.regex ?? undefined;
    if (regex !== undefined && !isString(regex)) problem('input regex should be a string');
    const type = (d.type ?? 'string') as InputType;
    if (!TYPES.includes(type)) problem(`input type unknown value: ${String(d.type)}`);
    const options = d.options ?? undefined;
    if (options !== undefined && !Array.isArray(options)) problem('input options should be a array');
    if (Array.isArray(options) && options.length > MAX_OPTIONS) problem(`config cannot define more than ${MAX_OPTIONS} options`);
    if (Array.isArray(options) && options.some((o) => o === null)) problem('config options array cannot contain null values');
    specs.set(name, { type, default: d.default, options: options as unknown[] | undefined, regex: regex as string | undefined, hasDefault: Object.hasOwn(d, 'default') });
  }
  if (headerProblems.length) fail(headerProblems);
  if (specs.size > MAX_INPUTS) throw new ConfigError(`the number of inputs cannot exceed ${MAX_INPUTS}`);
  // every unknown name is listed (only the list of errors is cut at three)
  const unknown = Object.keys(provided).filter((k) => !specs.has(k));
  if (unknown.length) throw new ConfigError(`unknown input arguments: ${unknown.join(', ')}`);

  const problems: string[] = [];
  const values = new Map<string, unknown>();
  for (const [name, s] of specs) {
    const isGiven = Object.hasOwn(provided, name);
    if (!isGiven && !s.hasDefault) { problems.push(`\`${name}\` input: required value has not been provided`); continue; }
    const value = isGiven ? provided[name] : s.default;
    const what = isGiven ? 'provided value' : 'default value';
    if (!typeOk(s.type, value)) { problems.push(`\`${name}\` input: ${what} is not a${s.type === 'array' ? 'n' : ''} ${s.type}`); continue; }
    if (s.options) {
      // BaseInput refuses options; only StringInput and NumberInput check them (worded apart)
      if (s.type !== 'string' && s.type !== 'number') { problems.push(`\`${name}\` input: Options can only be used with string and number inputs`); continue; }
      if (!s.options.some((o) => rubyToS(o) === rubyToS(value))) {
        const the = s.type === 'number' ? 'the ' : '';
        problems.push(`\`${name}\` input: \`${rubyToS(value)}\` cannot be used because it is not in the list of ${the}allowed options`);
        continue;
      }
    }
    if (s.regex !== undefined) {
      if (s.type !== 'string') { problems.push(`\`${name}\` input: RegEx validation can only be used with string inputs`); continue; }
      const re = barePattern(s.regex);
      if (re === null) { problems.push(`\`${name}\` input: invalid regular expression`); continue; }
      if (!re.test(value as string)) { problems.push(`\`${name}\` input: ${what} does not match required RegEx pattern`); continue; }
    }
    values.set(name, value);
  }
  if (problems.length) fail(problems);
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

/** What `to_s` gives for a block inside a longer string: an array is Ruby's inspect of it. */
function stringForm(v: unknown): string {
  if (Array.isArray(v)) return rubyInspect(v);
  return rubyToS(v);
}

const SKIP = Symbol('skip');

function block(inner: string, inputs: Map<string, unknown>, lookup: Lookup, masked: ReadonlySet<string>): unknown {
  const [access, ...fns] = inner.split('|').map((s) => s.trim());
  if (access.length > MAX_ACCESS) throw new ConfigError('maximum interpolation expression size exceeded');
  const path = access.split('.');
  if (path.length < 2 || path.some((p) => p === '')) throw new ConfigError('invalid interpolation access pattern');
  if (path[0] === 'matrix') return SKIP; // `needs:parallel:matrix` resolves these
  // GitLab's Access walks the context key by key and names the first key that is not there
  let value: unknown = new Map([['inputs', inputs]]);
  for (const key of path) {
    if (!(value instanceof Map) || !value.has(key)) throw new ConfigError(`unknown interpolation key: \`${key}\``);
    value = value.get(key);
  }
  if (fns.length > MAX_FUNCTIONS) throw new ConfigError('too many functions in interpolation block');
  // the whole stack is matched before any function runs
  const stack = fns.map((fn) => {
    const fun = FUNCTIONS.find((f) => f.pattern.test(fn));
    if (!fun) throw new ConfigError(`no function matching \`${fn}\`: check that the function name, arguments, and types are correct`);
    return { fun, args: fun.pattern.exec(fn)! };
  });
  for (const { fun, args } of stack) {
    const error = (message: string) => new ConfigError(`error in \`${fun.name}\` function: ${message}`);
    if (!isString(value)) throw error(`invalid input type: ${fun.name} can only be used with string inputs`);
    value = fun.run(value, args, { lookup, masked, error });
  }
  return value;
}

interface FunctionEnv { lookup: Lookup; masked: ReadonlySet<string>; error: (message: string) => ConfigError }

/**
 * GitLab's FunctionsStack as it is by default: `split` sits behind the
 * ci_interpolation_split_function flag, which is off, so it matches nothing.
 */
const FUNCTIONS: ReadonlyArray<{ name: string; pattern: RegExp; run: (value: string, args: RegExpExecArray, env: FunctionEnv) => string }> = [
  {
    name: 'truncate',
    // the closing parenthesis is optional in GitLab's pattern
    pattern: /^truncate\(\s*(\d+)\s*,\s*(\d+)\s*\)?$/,
    run: (value, [, offset, length]) => [...value].slice(Number(offset), Number(offset) + Number(length)).join(''),
  },
  {
    name: 'expand_vars',
    pattern: /^expand_vars$/,
    // GitLab's expand_existing: a reference to a variable that is not set stays as written
    run: (value, _args, { lookup, masked, error }) => expandExisting(value, (n) => {
      const v = lookup(n);
      if (v !== undefined && masked.has(n)) throw error('variable expansion error: masked variables cannot be expanded');
      return v;
    }),
  },
  {
    name: 'posix_escape',
    pattern: /^posix_escape$/,
    // Shellwords.shellescape: '' for nothing, one backslash per character (not per UTF-16 unit)
    run: (value) => (value === '' ? "''" : value.replace(/[^A-Za-z0-9_\-.,:+/@\n]/gu, '\\$&').replace(/\n/g, "'\n'")),
  },
];
