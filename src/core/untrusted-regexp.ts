/**
 * Regular expressions that come from users (a `.gitlab-ci.yml`, a CI/CD variable, an input
 * spec): `rules:if` patterns, `only`/`except` ref patterns, `coverage`, input `regex`.
 *
 * GitLab runs every such pattern with RE2 (`Gitlab::UntrustedRegexp`) so that no pattern can
 * make matching take exponential time. Baton does the same with `re2js`, a pure-JavaScript port
 * of RE2/RE2J: matching is linear in the input, and what RE2 rejects (backreferences,
 * look-around, possessive quantifiers, `\Z`, repeat counts over 1000, …) is rejected here at
 * compile time. JavaScript's own RegExp must never see a user pattern.
 *
 * Two spellings exist:
 * - a bare RE2 pattern (input `regex:`), compiled with `compileUntrusted(source, flags)`;
 * - Ruby-style `/pattern/flags` (`rules:if`, `only`/`except`, `coverage`), recognised by
 *   `parseSlashPattern` exactly as GitLab's `UntrustedRegexp::RubySyntax` does, with the
 *   flags `i s m U` turned into an RE2 `(?flags)` prefix (so `m` is RE2 multi-line: `^`/`$`
 *   at line breaks; `s` lets `.` match `\n`; `U` makes quantifiers lazy by default).
 */
import { RE2JS } from 're2js';

/** A pattern RE2 cannot compile, or text that is not a `/pattern/flags` literal. */
export class UntrustedRegexpError extends Error {
  constructor(readonly pattern: string, readonly reason: string) {
    super(`invalid regular expression ${JSON.stringify(pattern)}: ${reason}`);
    this.name = 'UntrustedRegexpError';
  }
}

/** One match: where it starts, the matched text, and each capture group (undefined when the group took no part). */
export interface UntrustedMatch {
  readonly index: number;
  readonly match: string;
  readonly captures: readonly (string | undefined)[];
  readonly named: Readonly<Record<string, string | undefined>>;
}

const FLAG_CHARS = 'ismU';
const MAX_COMPILED = 2000;
const COMPILED = new Map<string, UntrustedRegexp>();

export class UntrustedRegexp {
  /** The text RE2 compiled: `(?flags)` + source, as GitLab builds it (GitLab compares regexps by this). */
  readonly pattern: string;
  readonly groupCount: number;
  private readonly re: RE2JS;

  private constructor(readonly source: string, readonly flags: string) {
    this.pattern = flags === '' ? source : `(?${flags})${source}`;
    try {
      this.re = RE2JS.compile(this.pattern);
    } catch (e) {
      throw new UntrustedRegexpError(this.toString(), reasonOf(e));
    }
    this.groupCount = this.re.groupCount();
  }

  /** @internal use compileUntrusted */
  static create(source: string, flags: string): UntrustedRegexp {
    // Instances are immutable: the same pattern (a ref pattern on many jobs, a rule shared by
    // `!reference`) is compiled once. Bounded; the oldest entry goes first.
    const key = `${flags}/${source}`;
    const hit = COMPILED.get(key);
    if (hit) return hit;
    const re = new UntrustedRegexp(source, flags);
    if (COMPILED.size >= MAX_COMPILED) COMPILED.delete(COMPILED.keys().next().value as string);
    COMPILED.set(key, re);
    return re;
  }

  /** Whether the pattern matches anywhere in `text` (unanchored search, like GitLab's `=~`). */
  test(text: string): boolean {
    return this.re.test(text);
  }

  /**
   * GitLab's `UntrustedRegexp#match?`: false for null or blank text (empty or whitespace only)
   * unless `allowEmptyString`, otherwise whether the pattern matches anywhere. Ref patterns
   * (`only`/`except`) use the default; input `regex` checks pass `allowEmptyString: true`.
   */
  isMatch(text: string | null | undefined, options: { allowEmptyString?: boolean } = {}): boolean {
    if (text === null || text === undefined) return false;
    if (!options.allowEmptyString && isBlankString(text)) return false;
    return this.re.test(text);
  }

  /** The first match, or null. */
  exec(text: string): UntrustedMatch | null {
    const m = this.re.exec(text);
    return m === null ? null : toMatch(m as RegExpMatchArray);
  }

  /** Every non-overlapping match from left to right (an empty match advances by one character). */
  *matchAll(text: string): Generator<UntrustedMatch> {
    for (const m of this.re.matchAll(text)) yield toMatch(m);
  }

  /**
   * GitLab's `UntrustedRegexp#scan`: without capture groups, the list of matched strings;
   * with groups, one array of group values per match. `coverage` takes
   * `scan(line).flat().at(-1)` — the last group (or the whole match) of the last match on a line.
   */
  scan(text: string): string[] | (string | undefined)[][] {
    if (this.groupCount === 0) return Array.from(this.re.matchAll(text), (m) => m[0]);
    return Array.from(this.re.matchAll(text), (m) => m.slice(1) as (string | undefined)[]);
  }

  /** GitLab's `UntrustedRegexp#==`: same RE2 text (flags included). */
  equals(other: UntrustedRegexp): boolean {
    return this.pattern === other.pattern;
  }

  toString(): string {
    return `/${this.source}/${this.flags}`;
  }
}

/**
 * Compile an RE2 pattern with optional Ruby-style flags (any of `i`, `s`, `m`, `U`).
 * Throws UntrustedRegexpError for anything RE2 rejects (or an unknown flag).
 */
export function compileUntrusted(source: string, flags = ''): UntrustedRegexp {
  for (const f of flags) {
    if (!FLAG_CHARS.includes(f)) throw new UntrustedRegexpError(`/${source}/${flags}`, `unknown flag \`${f}\` (allowed: i, s, m, U)`);
  }
  return UntrustedRegexp.create(source, flags);
}

/**
 * Ruby-style `/pattern/flags` → `{ source, flags }`, or null when the text is not of that form.
 * Same as GitLab's `RubySyntax::PATTERN` (`^/(?<regexp>.*)/(?<flags>[ismU]*)$` in Ruby, where
 * `^`/`$` are line anchors and `.` stops at `\n`): the first line that starts with `/` and
 * whose last `/` is followed only by flag letters; the pattern is everything between. The
 * source is not unescaped (`\/` stays `\/`, which RE2 reads as `/`); `//` is the empty pattern.
 */
export function parseSlashPattern(text: string): { source: string; flags: string } | null {
  let lineStart = 0;
  while (lineStart <= text.length) {
    const nl = text.indexOf('\n', lineStart);
    const lineEnd = nl === -1 ? text.length : nl;
    if (text.charCodeAt(lineStart) === 0x2f /* / */) {
      const close = text.lastIndexOf('/', lineEnd - 1);
      if (close > lineStart && isFlags(text, close + 1, lineEnd)) {
        return { source: text.slice(lineStart + 1, close), flags: text.slice(close + 1, lineEnd) };
      }
    }
    if (nl === -1) break;
    lineStart = nl + 1;
  }
  return null;
}

/**
 * GitLab's `RubySyntax.fabricate!`: a `/pattern/flags` literal compiled with RE2.
 * Throws UntrustedRegexpError when the text is not a slash literal or RE2 rejects it.
 */
export function compileSlashPattern(text: string): UntrustedRegexp {
  const parsed = parseSlashPattern(text);
  if (parsed === null) throw new UntrustedRegexpError(text, 'not of the form /pattern/flags');
  return compileUntrusted(parsed.source, parsed.flags);
}

/** GitLab's `RubySyntax.valid?`: a string in `/pattern/flags` form that RE2 compiles. */
export function isValidSlashPattern(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  try {
    compileSlashPattern(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * ActiveSupport's `String#blank?`: empty or only Unicode White_Space (Ruby's `[[:space:]]`,
 * which, unlike JavaScript's `\s`, includes U+0085 and excludes U+FEFF).
 */
export function isBlankString(s: string): boolean {
  return BLANK.test(s);
}
// Fixed, linear pattern (no user input): a single character class repeated.
const BLANK = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

function isFlags(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!FLAG_CHARS.includes(text[i])) return false;
  return true;
}

function toMatch(m: RegExpMatchArray): UntrustedMatch {
  const named: Record<string, string | undefined> = {};
  if (m.groups) for (const [k, v] of Object.entries(m.groups)) named[k] = v;
  return { index: m.index ?? 0, match: m[0], captures: m.slice(1) as (string | undefined)[], named };
}

function reasonOf(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/^error parsing regexp: /, '');
}
