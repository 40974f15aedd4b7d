/**
 * Unit tests for src/core/duration.ts: GitLab-style human durations
 * (`artifacts:expire_in`, job `timeout`, `--artifacts-expire-in`).
 */
import { describe, test, expect } from 'bun:test';
import { parseDuration, parseExpireIn } from '../../src/core/duration';

const MIN = 60;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

describe('parseDuration: valid input', () => {
  const cases: Array<[string, number]> = [
    // bare numbers are seconds
    ['0', 0],
    ['3600', 3600],
    ['  42  ', 42],
    ['1.5', 2], // rounded to whole seconds
    // every unit alias
    ['1s', 1], ['2 sec', 2], ['3 secs', 3], ['1 second', 1], ['4 seconds', 4],
    ['1m', MIN], ['2 min', 2 * MIN], ['3 mins', 3 * MIN], ['1 minute', MIN], ['30 minutes', 30 * MIN],
    ['1h', HOUR], ['2 hr', 2 * HOUR], ['2 hrs', 2 * HOUR], ['1 hour', HOUR], ['3 hours', 3 * HOUR],
    ['7d', 7 * DAY], ['1 day', DAY], ['7 days', 7 * DAY],
    ['1w', WEEK], ['1 wk', WEEK], ['2 wks', 2 * WEEK], ['1 week', WEEK], ['2 weeks', 2 * WEEK],
    ['1mo', 30 * DAY], ['1 month', 30 * DAY], ['2 months', 60 * DAY],
    ['1y', 365 * DAY], ['1 yr', 365 * DAY], ['2 yrs', 730 * DAY], ['1 year', 365 * DAY], ['2 years', 730 * DAY],
    // combinations and separators
    ['2 hrs 20 min', 2 * HOUR + 20 * MIN],
    ['3 mins 4 sec', 3 * MIN + 4],
    ['1h 30m', HOUR + 30 * MIN],
    ['1h30m', HOUR + 30 * MIN],
    ['1 day and 2 hours', DAY + 2 * HOUR],
    ['1 day, 2 hours, and 3 minutes', DAY + 2 * HOUR + 3 * MIN],
    ['1 hour 30', HOUR + 30], // trailing bare number = seconds
    ['1h 1h', 2 * HOUR], // repeated units add up
    // decimals
    ['1.5 hours', 5400],
    ['.5 min', 30],
    ['0.5d', 12 * HOUR],
    // case-insensitive
    ['1 HOUR', HOUR], ['2 Weeks', 2 * WEEK], ['3D', 3 * DAY],
    // zero durations are valid (callers treat 0 as "no expiry")
    ['0 days', 0],
    ['0s', 0],
  ];
  test.each(cases)('%p → %p', (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });
});

describe('parseDuration: invalid input → null', () => {
  const cases: string[] = [
    '', '   ', 'and', ',', 'never', 'forever', 'hour', '1 fortnight', '5 3', '1 hour 2 3',
    '-5', '-1 hour', '1e3', '5%', '1,5', '1 hour!', 'h1', '1:30', 'in 1 hour', 'hours 2',
    '1 hour hour', '1..5 hours', '9'.repeat(400),
  ];
  test.each(cases)('%p', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  test('non-string input is rejected, not thrown on', () => {
    expect(parseDuration(undefined as unknown as string)).toBeNull();
    expect(parseDuration(42 as unknown as string)).toBeNull();
  });
});

describe('parseExpireIn', () => {
  const cases: Array<[string, number | null]> = [
    ['never', 0],
    ['  Never ', 0],
    ['NEVER', 0],
    ['0', 0],
    ['1 week', WEEK],
    ['30 days', 30 * DAY],
    ['3600', 3600],
    ['garbage', null],
    ['', null],
    ['never 1 day', null],
  ];
  test.each(cases)('%p → %p', (text, expected) => {
    expect(parseExpireIn(text)).toBe(expected);
  });
});
