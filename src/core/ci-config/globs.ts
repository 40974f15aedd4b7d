/**
 * Path patterns, matched by hand (no RegExp built from user text, so no pattern can make
 * matching slow: each matcher is memoised over pattern × path positions).
 *
 * - fnmatch: Ruby's `File.fnmatch?(pattern, path, FNM_PATHNAME | FNM_DOTMATCH | FNM_EXTGLOB)`,
 *   used by `rules:changes`, `rules:exists` and `only/except:changes`: `*` and `?` never
 *   cross `/`, `**\/` is zero or more directories, `[...]` classes, `{a,b}` alternatives,
 *   `\x` escapes, dot-files matched like any file.
 * - wildcard: `include:local` paths, where `*` is any run of non-`/` characters and `**` any
 *   characters at all, the rest literal.
 */

const MAX_ALTERNATIVES = 1024;

/** `{a,b}c` → [`ac`, `bc`] (nested braces too), capped. */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let start = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') { i++; continue; }
    if (c === '{') { if (depth === 0) start = i; depth++; }
    else if (c === '}' && depth > 0) {
      depth--;
      if (depth === 0) {
        const inner = pattern.slice(start + 1, i);
        const parts: string[] = [];
        let d = 0; let from = 0;
        for (let j = 0; j < inner.length; j++) {
          const x = inner[j];
          if (x === '\\') { j++; continue; }
          if (x === '{') d++; else if (x === '}') d--;
          else if (x === ',' && d === 0) { parts.push(inner.slice(from, j)); from = j + 1; }
        }
        parts.push(inner.slice(from));
        const prefix = pattern.slice(0, start);
        const rest = expandBraces(pattern.slice(i + 1));
        const out: string[] = [];
        for (const p of parts) for (const q of expandBraces(prefix + p)) for (const r of rest) {
          out.push(q + r);
          if (out.length >= MAX_ALTERNATIVES) return out;
        }
        return out;
      }
    }
  }
  return [pattern];
}

/** One `[...]` class at pattern[i] (i at `[`): [matches(c), index after `]`] or null if unclosed. */
function charClass(p: string, i: number): [(c: string) => boolean, number] | null {
  let j = i + 1;
  let negate = false;
  if (p[j] === '!' || p[j] === '^') { negate = true; j++; }
  const ranges: Array<[string, string]> = [];
  let first = true;
  while (j < p.length && (p[j] !== ']' || first)) {
    let lo = p[j];
    if (lo === '\\' && j + 1 < p.length) { j++; lo = p[j]; }
    let hi = lo;
    if (p[j + 1] === '-' && j + 2 < p.length && p[j + 2] !== ']') {
      hi = p[j + 2];
      if (hi === '\\' && j + 3 < p.length) { hi = p[j + 3]; j++; }
      j += 2;
    }
    ranges.push([lo, hi]);
    j++;
    first = false;
  }
  if (j >= p.length) return null;
  const test = (c: string) => c !== '/' && (ranges.some(([lo, hi]) => c >= lo && c <= hi) !== negate);
  return [test, j + 1];
}

function fnmatchOne(p: string, s: string): boolean {
  const memo = new Map<number, boolean>();
  const go = (pi: number, si: number): boolean => {
    const key = pi * (s.length + 1) + si;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (pi === p.length) r = si === s.length;
    else {
      const c = p[pi];
      if (c === '*' && p[pi + 1] === '*' && p[pi + 2] === '/' && (pi === 0 || p[pi - 1] === '/')) {
        // `**/`: zero directories, or one whole directory and `**/` again
        const slash = s.indexOf('/', si);
        r = go(pi + 3, si) || (slash !== -1 && go(pi, slash + 1));
      } else if (c === '*') {
        // zero characters, or one non-`/` character and `*` again
        r = go(pi + 1, si) || (si < s.length && s[si] !== '/' && go(pi, si + 1));
      } else if (c === '?') r = si < s.length && s[si] !== '/' && go(pi + 1, si + 1);
      else if (c === '[') {
        const cls = charClass(p, pi);
        if (cls === null) r = si < s.length && s[si] === '[' && go(pi + 1, si + 1);
        else r = si < s.length && cls[0](s[si]) && go(cls[1], si + 1);
      } else if (c === '\\' && pi + 1 < p.length) r = si < s.length && s[si] === p[pi + 1] && go(pi + 2, si + 1);
      else r = si < s.length && s[si] === c && go(pi + 1, si + 1);
    }
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

/** Ruby File.fnmatch? with PATHNAME | DOTMATCH | EXTGLOB. */
export function fnmatch(pattern: string, path: string): boolean {
  return expandBraces(pattern).some((p) => fnmatchOne(p, path));
}

/** `include:local` wildcard: `*` = [^/]*, `**` = anything, anchored. */
export function wildcardMatch(pattern: string, path: string): boolean {
  const memo = new Map<number, boolean>();
  const go = (pi: number, si: number): boolean => {
    const key = pi * (path.length + 1) + si;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (pi === pattern.length) r = si === path.length;
    else if (pattern[pi] === '*' && pattern[pi + 1] === '*') r = go(pi + 2, si) || (si < path.length && go(pi, si + 1));
    else if (pattern[pi] === '*') r = go(pi + 1, si) || (si < path.length && path[si] !== '/' && go(pi, si + 1)); else r = si < path.length && path[si] === pattern[pi] && go(pi + 1, si + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}
