/** The pure parts of triggers: signature checks (GitHub's test vector), [skip ci] matching, push decisions, cron slots. */
import { describe, expect, test } from 'bun:test';
import { CronSchedule, checkTimeZone } from '../../src/core/triggers/cron';
import { splitRef, wantsSkipCi, whyNoPipeline, type PushEvent } from '../../src/core/triggers/push-event';
import { hmacMatches, tokenVerdict } from '../../src/core/triggers/webhooks/shared';
import { forgeState } from '../../src/core/outbox/commit-status';
import { hookTime } from '../../src/core/outbox/hook-payloads';

describe('signatures', () => {
  test("GitHub's documented test vector", () => {
    expect(hmacMatches("It's a Secret to Everybody", 'Hello, World!', '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17')).toBe(true);
    expect(hmacMatches("It's a Secret to Everybody", 'Hello, World!', '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18')).toBe(false);
    expect(hmacMatches("It's a Secret to Everybody", 'Hello, World!', 'not hex')).toBe(false);
    expect(hmacMatches("It's a Secret to Everybody", 'Hello, World!', '')).toBe(false);
  });
  test('a plain token: missing, wrong, right; an empty stored secret never matches', () => {
    expect([tokenVerdict(null, 's3cret'), tokenVerdict('', 's3cret'), tokenVerdict('nope', 's3cret'), tokenVerdict('s3cret', 's3cret'), tokenVerdict('x', '')])
      .toEqual(['missing', 'missing', 'mismatch', 'ok', 'mismatch']);
  });
});

describe('[skip ci]', () => {
  const cases: [string, boolean][] = [
    ['fix [skip ci]', true], ['[ci skip] docs', true], ['x [SKIP CI]', true], ['[skip_ci]', true], ['[ci-skip]', true], ['[Skip-Ci] y', true],
    ['skip ci', false], ['[skipci]', false], ['(skip ci)', false], ['[ skip ci ]', false], ['', false],
  ];
  for (const [message, skip] of cases) test(`${JSON.stringify(message)} → ${skip}`, () => expect(wantsSkipCi(message)).toBe(skip));
});

describe('push decisions', () => {
  const base: PushEvent = { forge: 'github', ref: 'refs/heads/main', refName: 'main', tag: false, before: 'a'.repeat(40), after: 'b'.repeat(40), checkoutSha: 'b'.repeat(40), commit: null, pusher: null };
  test.each([
    ['a push', {}, null],
    ['a deletion (after = 0)', { after: '0'.repeat(40), checkoutSha: null }, 'branch main was deleted: no pipeline'],
    ['a SHA-256 deletion', { after: '0'.repeat(64), checkoutSha: null }, 'branch main was deleted: no pipeline'],
    ['a test delivery', { checkoutSha: '0'.repeat(40), after: '0'.repeat(39) + '1' }, 'a test delivery (no real commit): no pipeline'],
    ['before = after', { before: 'b'.repeat(40) }, 'before and after are the same commit (a test delivery): no pipeline'],
    ['[skip ci]', { commit: { message: 'wip [ci skip]', authorName: '', authorEmail: '', timestamp: '' } }, 'the head commit asks for [skip ci]: no pipeline'],
  ] as [string, Partial<PushEvent>, string | null][])('%s', (_, change, why) => expect(whyNoPipeline({ ...base, ...change })).toBe(why));
  test('refs', () => {
    expect([splitRef('refs/heads/feature/x'), splitRef('refs/tags/v1'), splitRef('refs/merge-requests/1/head')])
      .toEqual([{ refName: 'feature/x', tag: false }, { refName: 'v1', tag: true }, null]);
  });
});

describe('cron', () => {
  const at = (iso: string) => new Date(iso).getTime();
  const next = (cron: string, from: string, tz = 'UTC') => new Date(new CronSchedule(cron, tz).next(at(from))!).toISOString();
  test.each([
    ['*/15 * * * *', '2026-01-01T10:07:00Z', 'UTC', '2026-01-01T10:15:00.000Z'],
    ['0 9-17/4 * * *', '2026-01-01T10:00:00Z', 'UTC', '2026-01-01T13:00:00.000Z'],
    ['0 0 * * sun', '2026-01-01T00:00:00Z', 'UTC', '2026-01-04T00:00:00.000Z'],
    ['0 0 1,15 * *', '2026-01-02T00:00:00Z', 'UTC', '2026-01-15T00:00:00.000Z'],
    ['0 12 * feb-mar *', '2026-01-10T00:00:00Z', 'UTC', '2026-02-01T12:00:00.000Z'],
    ['@hourly', '2026-01-01T10:07:00Z', 'UTC', '2026-01-01T11:00:00.000Z'],
    ['@daily', '2026-01-01T10:07:00Z', 'UTC', '2026-01-02T00:00:00.000Z'],
    ['@midnight', '2026-01-01T10:07:00Z', 'UTC', '2026-01-02T00:00:00.000Z'],
    ['@weekly', '2026-01-01T10:07:00Z', 'UTC', '2026-01-04T00:00:00.000Z'],
    ['@monthly', '2026-01-01T10:07:00Z', 'UTC', '2026-02-01T00:00:00.000Z'],
    ['@yearly', '2026-01-01T10:07:00Z', 'UTC', '2027-01-01T00:00:00.000Z'],
    ['0 9 * * *', '2026-07-01T00:00:00Z', 'America/New_York', '2026-07-01T13:00:00.000Z'],
    // 09:00 in Tokyo is 00:00 UTC; a slot is strictly after the time asked
    ['0 9 * * *', '2026-01-01T00:00:00Z', 'Asia/Tokyo', '2026-01-02T00:00:00.000Z'],
  ])('%s after %s in %s', (cron, from, tz, want) => expect(next(cron, from, tz)).toBe(want));
  test('the day-of-month / day-of-week pair is an OR (as in Vixie cron and GitLab)', () => {
    expect(next('0 0 13 * fri', '2026-01-01T00:00:00Z')).toBe('2026-01-02T00:00:00.000Z'); // a Friday before the 13th
  });
  test.each(['', '* * * *', '* * * * * *', '60 * * * *', '* 24 * * *', '* * 32 * *', '* * * 13 *', '* * * * 8', '@often', 'a b c d e', '0 0 30 2 *', '*/0 * * * *'])('%j is refused', (cron) => {
    expect(() => new CronSchedule(cron, 'UTC')).toThrow(/cron is (invalid|missing)/);
  });
  test('time zones: IANA names only', () => {
    expect(checkTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    for (const tz of ['Mars/Base', '+01:00', 'Not a zone']) expect(() => checkTimeZone(tz)).toThrow(/cron_timezone is invalid/);
  });
});

describe('status mapping and hook times', () => {
  test.each([
    ['created', 'pending', 'pending', 'pending'], ['pending', 'pending', 'pending', 'pending'], ['running', 'pending', 'pending', 'running'],
    ['success', 'success', 'success', 'success'], ['failed', 'failure', 'failure', 'failed'], ['canceled', 'failure', 'error', 'canceled'],
    ['skipped', 'success', 'success', 'skipped'], ['manual', 'pending', 'pending', 'pending'],
  ])('%s → gitea %s, github %s, gitlab %s', (status, gitea, github, gitlab) => {
    expect([forgeState('gitea', status), forgeState('forgejo', status), forgeState('github', status), forgeState('gitlab', status)]).toEqual([gitea, gitea, github, gitlab]);
  });
  test("GitLab's hook timestamps", () => expect(hookTime(Date.UTC(2016, 7, 12, 15, 23, 28, 123))).toBe('2016-08-12 15:23:28 UTC'));
});
