/**
 * Lexer of the `rules:if` expression language — GitLab's `Expression::Lexer`.
 *
 * At each position, after skipping whitespace, the lexemes are tried in GitLab's order and the
 * first that matches *at that position* wins:
 *
 *   1 `(`  2 `)`  3 `$[[ inputs.name ]]`  4 `$NAME`  5 `"…"` / `'…'`  6 `/pattern/flags`
 *   7 `null`  8 `true`/`false`  9 `==`  10 `=~`  11 `!=`  12 `!~`  13 `&&`  14 `||`  15 `!`
 *
 * Nothing matches → `Unknown lexeme found!`. GitLab scans at most MAX_TOKENS (100) times and
 * raises `Too many tokens!` when the 100th token has been read, even if the input ends there:
 * so 99 tokens is the most an expression can have (the spec's "> 100" is off by one; GitLab's
 * source is the contract here).
 *
 * `${VAR}` is NOT a variable: `$` must be followed directly by ASCII word characters, so `${`
 * matches no lexeme and the expression fails with `Unknown lexeme found!` (reported by callers
 * as `invalid expression syntax`), exactly as in GitLab — even though people sometimes write
 * `$VAR`/`${VAR}` as if both worked in `rules:if` (they do in scripts and in `rules:changes`).
 *
 * Character classes follow Ruby: whitespace is `[ \t\n\v\f\r]`, word characters are ASCII
 * `[A-Za-z0-9_]`, and `.` in the string lexeme stops only at `\n`. Strings have no escapes and
 * end at the first matching quote on the same line.
 *
 * The lexer only cuts tokens; a pattern's validity is checked when the parser builds its
 * value (as in GitLab, where `Pattern.new` raises while the tree is built).
 */

export const MAX_TOKENS = 100;

export type TokenKind =
  | 'parenthesis_open'
  | 'parenthesis_close'
  | 'input'
  | 'variable'
  | 'string'
  | 'pattern'
  | 'null'
  | 'boolean'
  | 'equals'
  | 'matches'
  | 'not_equals'
  | 'not_matches'
  | 'and'
  | 'or'
  | 'not';

export interface Token {
  readonly kind: TokenKind;
  /** The matched text, e.g. `$VAR`, `"a b"`, `/x\/y/i`, `==`. */
  readonly text: string;
  /**
   * The lexeme's value: the name for `input`/`variable`, the contents for `string`, the
   * pattern text with every `\/` turned into `/` for `pattern` (as GitLab's `Pattern.new`
   * does), `true`/`false` for `boolean`; the text itself for the rest.
   */
  readonly value: string;
}

/** GitLab's `Lexer::SyntaxError`. */
export class LexerError extends Error {
  readonly kind = 'lexer' as const;
}

const WS = /[ \t\n\v\f\r]+/y;
const INPUT = /\$\[\[[ \t\n\v\f\r]*inputs\.([A-Za-z0-9_]+)[ \t\n\v\f\r]*\]\]/y;
const VARIABLE = /\$([A-Za-z0-9_]+)/y;
const STRING = /"([^\n]*?)"|'([^\n]*?)'/y;
// Ruby's `\b(?:true|false)\b` at the scan position: the scanner sees the text from its
// position on, so the leading boundary always holds before `t`/`f`.
const BOOLEAN = /(?:true|false)(?![A-Za-z0-9_])/y;

const FIXED: ReadonlyArray<readonly [TokenKind, string]> = [
  ['null', 'null'],
];
const OPERATORS: ReadonlyArray<readonly [TokenKind, string]> = [
  ['equals', '=='],
  ['matches', '=~'],
  ['not_equals', '!='],
  ['not_matches', '!~'],
  ['and', '&&'],
  ['or', '||'],
  ['not', '!'],
];

export function tokenize(text: string, maxTokens = MAX_TOKENS): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  for (let i = 0; i < maxTokens; i++) {
    WS.lastIndex = pos;
    if (WS.test(text)) pos = WS.lastIndex;
    if (pos >= text.length) return tokens;
    const token = scanOne(text, pos);
    if (token === null) throw new LexerError('Unknown lexeme found!');
    tokens.push(token);
    pos += token.text.length;
  }
  throw new LexerError('Too many tokens!');
}

function scanOne(s: string, pos: number): Token | null {
  const c = s[pos];
  if (c === '(') return { kind: 'parenthesis_open', text: '(', value: '(' };
  if (c === ')') return { kind: 'parenthesis_close', text: ')', value: ')' };

  let m = sticky(INPUT, s, pos);
  if (m) return { kind: 'input', text: m[0], value: m[1] };
  m = sticky(VARIABLE, s, pos);
  if (m) return { kind: 'variable', text: m[0], value: m[1] };
  m = sticky(STRING, s, pos);
  if (m) return { kind: 'string', text: m[0], value: m[1] ?? m[2] };

  const end = scanPattern(s, pos);
  if (end > pos) {
    const matched = s.slice(pos, end);
    return { kind: 'pattern', text: matched, value: matched.replaceAll('\\/', '/') };
  }

  for (const [kind, lit] of FIXED) if (s.startsWith(lit, pos)) return { kind, text: lit, value: lit };
  m = sticky(BOOLEAN, s, pos);
  if (m) return { kind: 'boolean', text: m[0], value: m[0] };
  for (const [kind, lit] of OPERATORS) if (s.startsWith(lit, pos)) return { kind, text: lit, value: lit };
  return null;
}

function sticky(re: RegExp, s: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(s);
}

/**
 * GitLab's pattern lexeme `^/([^/]|\\/)+[^\\]/[ismU]*`, matched at `start` with the same
 * backtracking priorities (greedy, first alternative first), but computed without
 * backtracking so its cost stays linear: returns the end of the match or -1.
 *
 * After the opening `/`, the group `([^/]|\/)+` walks over anything but `/`, or over `\/`;
 * an unescaped `/` stops it. The tail `[^\\]/` then needs one character that is not a
 * backslash followed by the closing `/`. So the body has at least two characters (`/a/` is not
 * a pattern) and `/some .* / pattern/` ends after `/some .* /`.
 *
 * ok[q] is the end of the first match the engine would find when it stands at q with at least
 * one group iteration done (it tries: another iteration via `[^/]`, another via `\/`, then the
 * tail). Positions past the first unescaped `/` are unreachable, so the table stops there.
 */
function scanPattern(s: string, start: number): number {
  if (s[start] !== '/') return -1;
  const n = s.length;
  const q0 = start + 1;
  // The first `/` the group cannot pass: one not preceded by a backslash (or right after the opener).
  let limit = n;
  for (let k = q0; k < n; k++) {
    if (s[k] === '/' && (k === q0 || s[k - 1] !== '\\')) {
      limit = k;
      break;
    }
  }
  const ok = new Int32Array(limit - q0 + 3).fill(-1); // ok[q - q0] for q in [q0, limit + 2]
  const at = (q: number) => (q > limit ? -1 : ok[q - q0]);
  for (let q = limit; q > q0; q--) {
    let end = -1;
    if (q < n && s[q] !== '/' && at(q + 1) >= 0) end = at(q + 1);
    else if (s[q] === '\\' && s[q + 1] === '/' && at(q + 2) >= 0) end = at(q + 2);
    else if (q + 1 < n && s[q] !== '\\' && s[q + 1] === '/') end = q + 2;
    ok[q - q0] = end;
  }
  let end = -1;
  if (q0 < n && s[q0] !== '/' && at(q0 + 1) >= 0) end = at(q0 + 1);
  else if (s[q0] === '\\' && s[q0 + 1] === '/' && at(q0 + 2) >= 0) end = at(q0 + 2);
  if (end < 0) return -1;
  while (end < n && 'ismU'.includes(s[end])) end++;
  return end;
}

/** Exposed for the equivalence test against GitLab's regex. */
export const _scanPatternForTest = scanPattern;
