/**
 * The values a loaded `.gitlab-ci.yml` is made of, and the few operations every stage of the
 * compiler needs on them. A loaded file is plain data: hashes are plain objects (keys set with
 * defineProperty, so `__proto__` or `constructor` are ordinary keys), lists are arrays,
 * integers are numbers, and the YAML 1.1 types JavaScript lacks keep their own classes:
 * a Ruby Float (so `3.10` stringifies as GitLab does, `3.1`, and is no Integer), and an
 * unresolved `!reference [...]`.
 */

export type YamlMap = Record<string, unknown>;

/** A YAML float (Psych: Float). Kept apart from integers: GitLab accepts one where it refuses the other. */
export class RubyFloat {
  constructor(readonly value: number) {}
  toString(): string { return rubyFloatToS(this.value); }
}

/** `!reference [job, key, …]`, resolved after includes and extends (reference.ts). */
export class Reference {
  constructor(readonly path: unknown) {}
}

export function isMap(v: unknown): v is YamlMap {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function isInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Own property only: YAML keys like `constructor` must not hit the prototype. */
export function get(obj: YamlMap, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Present and not null (`key:` with no value counts as not set, as in GitLab's entries). */
export function has(obj: YamlMap, key: string): boolean {
  return Object.hasOwn(obj, key) && obj[key] !== null && obj[key] !== undefined;
}

/** Assignment that is safe for keys such as `__proto__`. */
export function put<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

export function newMap(): YamlMap {
  return {};
}

export function keysOf(v: YamlMap): string[] {
  return Object.keys(v);
}

/** Ruby's `flatten`: nested lists (anchors, `!reference`) spliced in, at any depth — GitLab's ComposableArray entries (needs, cache, services). */
export function flattenDeep(v: readonly unknown[]): unknown[] {
  return v.some(Array.isArray) ? v.flatMap((x) => (Array.isArray(x) ? flattenDeep(x) : [x])) : [...v];
}

export function isString(v: unknown): v is string {
  return typeof v === 'string';
}

export function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** GitLab's deep_merge: hashes merge key by key, recursively; anything else in `over` replaces. */
export function deepMerge(base: YamlMap, over: YamlMap, depth = 0): YamlMap {
  if (depth > 200) throw new Error('values nested too deeply to merge');
  const out: YamlMap = {};
  for (const [k, v] of Object.entries(base)) put(out, k, v);
  for (const [k, v] of Object.entries(over)) {
    const prev = get(out, k);
    put(out, k, isMap(prev) && isMap(v) ? deepMerge(prev, v, depth + 1) : v);
  }
  return out;
}

/** A copy of a hash without some keys. */
export function without(v: YamlMap, ...keys: string[]): YamlMap {
  const out: YamlMap = {};
  for (const [k, x] of Object.entries(v)) if (!keys.includes(k)) put(out, k, x);
  return out;
}

/** Ruby's `to_s` of a YAML scalar (GitLab stringifies variables and matrix values this way). */
export function rubyToS(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? v.toFixed(0) : rubyFloatToS(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof RubyFloat) return rubyFloatToS(v.value);
  return String(v);
}

/** Ruby's Float#to_s: shortest round-trip digits; fixed notation for 1e-4 <= |x| < 1e16, else `1.0e+16`. */
export function rubyFloatToS(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, expText] = Math.abs(x).toExponential().split('e');
  const digits = mant.replace('.', '');
  const decpt = Number(expText) + 1;
  if (decpt < -3 || decpt > 16) {
    const e = decpt - 1;
    return `${sign}${digits[0]}.${digits.slice(1) || '0'}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

/** Ruby's `inspect` (Ruby before 3.4: `{"k"=>"v"}`). */
export function rubyInspect(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (isString(v)) return inspectString(v);
  if (Array.isArray(v)) return `[${v.map(rubyInspect).join(', ')}]`;
  if (isMap(v)) return `{${Object.entries(v).map(([k, x]) => `${inspectString(k)}=>${rubyInspect(x)}`).join(', ')}}`;
  if (typeof v === 'number' && !Number.isInteger(v)) return rubyFloatToS(v);
  return rubyToS(v);
}

const NAMED_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\v': '\\v', '\f': '\\f', '\r': '\\r', '\x1b': '\\e', '"': '\\"', '\\': '\\\\' };

/** Ruby's String#inspect of a UTF-8 string: `#` is escaped before `{`, `$` and `@`; what is not printable becomes `\uXXXX` (U+0085 is printed as is). */
export function inspectString(s: string): string {
  const body = s.replace(/#(?=[{$@])|[\x07\b\t\n\v\f\r\x1b"\\]|[\p{Cc}\p{Cn}\p{Zl}\p{Zp}]/gu, (c) => {
    if (c === '#') return '\\#';
    if (NAMED_ESCAPES[c]) return NAMED_ESCAPES[c];
    const cp = c.codePointAt(0)!;
    if (cp === 0x85) return c;
    const hex = cp.toString(16).toUpperCase();
    return cp > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, '0')}`;
  });
  return `"${body}"`;
}

/** Ruby's inspect of a value, for messages that show one (`{"yolo":"x.yml"}`). */
export function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x instanceof RubyFloat ? x.value : x instanceof Reference ? { '!reference': x.path } : x));
}

/** ActiveSupport's humanize, as GitLab's messages apply it to attribute names (`build_image` → `Build image`). */
export function humanize(name: string): string {
  let s = name.replace(/\./g, '_').replace(/^_+/, '');
  if (s.endsWith('_id')) s = s.slice(0, -3);
  s = s.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** `a, b or c` */
export function orList(values: readonly string[]): string {
  return values.length <= 1 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}
