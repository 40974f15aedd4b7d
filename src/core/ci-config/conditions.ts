/**
 * The compiler's one door to user regular expressions and `if:` expressions: RE2 semantics
 * (src/core/untrusted-regexp.ts) and GitLab's expression language (./expressions/). Nothing
 * else in ci-config compiles a user pattern; JavaScript's RegExp never sees one.
 */
import { compileSlashPattern, compileUntrusted, isValidSlashPattern, parseSlashPattern, type UntrustedRegexp } from '../untrusted-regexp';

export { isValidSlashPattern, parseSlashPattern };

/** `/re/flags` compiled, or null when the text is no valid slash literal (GitLab's `fabricate(fallback: true)`). */
export function slashPattern(text: string): UntrustedRegexp | null {
  if (parseSlashPattern(text) === null) return null;
  try { return compileSlashPattern(text); } catch { return null; }
}

/** A bare RE2 pattern (input `regex:`), or null when RE2 refuses it. */
export function barePattern(source: string): UntrustedRegexp | null {
  try { return compileUntrusted(source); } catch { return null; }
}
