/**
 * Human-readable durations as GitLab CI writes them ("1 week", "2 hrs 20 min",
 * "1h 30m", "3600"), used for `artifacts:expire_in`, job `timeout` and the
 * `--artifacts-expire-in` flag. Pure: no I/O.
 *
 * Conventions callers rely on:
 * - `parseDuration` returns whole seconds, `0` for a zero duration ("0",
 *   "0 days"), and `null` for anything it cannot read, including "never"
 *   (which is not a length of time).
 * - For expiry settings, `0` means "no expiry". `parseExpireIn` maps "never"
 *   to `0` so that `expire_in: never` and `expire_in: 0` behave the same, as
 *   they do in GitLab.
 */

const SECOND = 1;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
// Calendar-free approximations, matching what GitLab users expect from
// "1 month" / "1 year" in CI config.
const MONTH = 30 * DAY;
const YEAR = 365 * DAY;

const UNITS: ReadonlyMap<string, number> = new Map<string, number>([
  ...aliases(SECOND, 's', 'sec', 'secs', 'second', 'seconds'),
  ...aliases(MINUTE, 'm', 'min', 'mins', 'minute', 'minutes'),
  ...aliases(HOUR, 'h', 'hr', 'hrs', 'hour', 'hours'),
  ...aliases(DAY, 'd', 'day', 'days'),
  ...aliases(WEEK, 'w', 'wk', 'wks', 'week', 'weeks'),
  ...aliases(MONTH, 'mo', 'mos', 'month', 'months'),
  ...aliases(YEAR, 'y', 'yr', 'yrs', 'year', 'years'),
]);

function aliases(seconds: number, ...names: string[]): Array<[string, number]> {
  return names.map((n) => [n, seconds]);
}

type Token = { kind: 'number'; value: number } | { kind: 'word'; value: string };

/** Split into numbers and words; `null` on any other character. */
function tokenize(text: string): Token[] | null {
  const tokens: Token[] = [];
  // Commas are separators only; anything else that is not a number, a word or
  // whitespace makes the whole string unreadable (e.g. "-5", "1e3", "5%").
  const re = /(\d+(?:\.\d+)?|\.\d+)|([a-z]+)|([\s,]+)|(.)/gy;
  for (const m of text.toLowerCase().matchAll(re)) {
    if (m[1] !== undefined) tokens.push({ kind: 'number', value: Number(m[1]) });
    else if (m[2] !== undefined) tokens.push({ kind: 'word', value: m[2] });
    else if (m[4] !== undefined) return null;
  }
  return tokens;
}

/**
 * Parse a duration such as "7d", "1 week", "2 hrs 20 min", "1.5 hours",
 * "1 day and 2 hours" or "3600" (bare number = seconds) into whole seconds.
 * Case-insensitive; commas and "and" are ignored. A bare number is only
 * accepted as the last component ("1 hour 30" = 1h 30s).
 * Returns `null` for unparsable text, negative values and "never".
 */
export function parseDuration(text: string): number | null {
  if (typeof text !== 'string') return null;
  const tokens = tokenize(text.trim());
  if (tokens === null) return null;
  const parts = tokens.filter((t) => !(t.kind === 'word' && t.value === 'and'));
  if (parts.length === 0) return null;

  let total = 0;
  for (let i = 0; i < parts.length; i++) {
    const num = parts[i];
    if (num.kind !== 'number') return null;
    const next = parts[i + 1];
    if (next === undefined) {
      total += num.value * SECOND;
      break;
    }
    if (next.kind !== 'word') return null; // two numbers in a row: "5 3"
    const unit = UNITS.get(next.value);
    if (unit === undefined) return null;
    total += num.value * unit;
    i++;
  }
  if (!Number.isFinite(total) || total > Number.MAX_SAFE_INTEGER) return null;
  return Math.round(total);
}

/**
 * Parse an artifact expiry: like `parseDuration`, but "never" is accepted and
 * yields `0`. Callers treat `0` as "keep forever".
 */
export function parseExpireIn(text: string): number | null {
  if (typeof text === 'string' && text.trim().toLowerCase() === 'never') return 0;
  return parseDuration(text);
}
