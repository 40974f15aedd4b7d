/**
 * The pure parts of people: which repo_url reads the server's disk, expiry dates, the
 * failed-sign-in window, the cross-origin rule and cookie parsing — as tables of cases.
 */
import { describe, expect, test } from 'bun:test';
import { readsServerDisk } from '../../src/core/people/access';
import { FailureWindow } from '../../src/core/people/sessions';
import { futureDate, isExpired, parseDate } from '../../src/core/people/tokens';
import { cookieValue, credentialOf, isCrossOrigin } from '../../src/http/auth';

describe('readsServerDisk: what only admins may use as repo_url', () => {
  test.each([
    ['/srv/git/app.git', true], ['./app', true], ['../app', true], ['app', true], ['~/app.git', true],
    ['file:///srv/app.git', true], ['FILE://host/app', true], ['ext::sh -c touch% /tmp/x', true], ['fd::17', true], ['C:\\repos\\app', true], ['C:/repos/app', true],
    ['https://git.example.com/a.git', false], ['http://h/a', false], ['ssh://git@h:22/a.git', false], ['git://h/a', false],
    ['git@github.com:owner/repo.git', false], ['host:path/to/repo', false], ['HTTPS://H/A', false],
  ])('%s → %p', (url, local) => {
    expect(readsServerDisk(url)).toBe(local);
  });
});

describe('dates: tokens and memberships end at midnight UTC of their date', () => {
  const now = Date.UTC(2026, 0, 15, 13, 30);
  test.each([
    ['2026-01-16', Date.UTC(2026, 0, 16)], ['2030-12-31', Date.UTC(2030, 11, 31)], ['2028-02-29', Date.UTC(2028, 1, 29)],
  ])('%s is accepted', (raw, ms) => {
    expect(parseDate(raw)).toBe(ms);
    expect(futureDate('expires_at', raw, now)).toBe(ms);
  });
  test.each(['2026-02-30', '2027-02-29', '2026-1-5', '26-01-05', '2026-01-05T00:00:00Z', 'tomorrow', ''])('%p is not a date', (raw) => {
    if (raw === '') expect(futureDate('expires_at', raw, now)).toBeNull();
    else expect(() => futureDate('expires_at', raw, now)).toThrow('expires_at is invalid');
  });
  test.each(['2026-01-15', '2026-01-14', '1999-01-01'])('%s is not after today → refused', (raw) => {
    expect(() => futureDate('expires_at', raw, now)).toThrow('expires_at must be a date after today');
  });
  test('expired from its midnight on; never without a date', () => {
    const at = Date.UTC(2026, 0, 16);
    expect([isExpired(at, at - 1), isExpired(at, at), isExpired(null, Number.MAX_SAFE_INTEGER)]).toEqual([false, true, false]);
  });
});

describe('FailureWindow: at most N failures per key within the window', () => {
  test('the N+1th try waits until the oldest failure leaves the window', () => {
    const w = new FailureWindow(3, 1000);
    for (const t of [0, 100, 200]) { expect(w.wait('k', t)).toBe(0); w.fail('k', t); }
    expect(w.wait('k', 300)).toBe(700);
    expect(w.wait('other', 300)).toBe(0);
    expect(w.wait('k', 1000)).toBe(0);
    w.fail('k', 1000);
    expect(w.wait('k', 1000)).toBe(100);
    w.reset('k');
    expect(w.wait('k', 1000)).toBe(0);
  });
  test('memory is bounded: the oldest keys are forgotten beyond the cap', () => {
    const w = new FailureWindow(1, 1000, 3);
    for (const k of ['a', 'b', 'c', 'd']) w.fail(k, 0);
    expect(['a', 'b', 'c', 'd'].map((k) => w.wait(k, 1))).toEqual([0, 999, 999, 999]);
  });
});

describe('isCrossOrigin (cookie-authenticated writes)', () => {
  const req = (headers: Record<string, string>) => new Request('http://ci.local:8080/api/v4/projects', { method: 'POST', headers: { host: 'ci.local:8080', ...headers } });
  test.each([
    [{}, false],
    [{ origin: 'http://ci.local:8080' }, false],
    [{ origin: 'https://ci.example.com' }, false], // the external URL
    [{ origin: 'http://ci.local:8080', 'sec-fetch-site': 'same-origin' }, false],
    [{ 'sec-fetch-site': 'none' }, false],
    [{ origin: 'http://evil.example' }, true],
    [{ origin: 'http://ci.local:8081' }, true],
    [{ origin: 'null' }, true],
    [{ origin: 'not a url' }, true],
    [{ 'sec-fetch-site': 'cross-site' }, true],
    [{ 'sec-fetch-site': 'same-site', origin: 'http://ci.local:8080' }, true],
  ] as [Record<string, string>, boolean][])('%j → %p', (headers, cross) => {
    expect(isCrossOrigin(req(headers), 'https://ci.example.com')).toBe(cross);
  });
});

describe('credentials of a request', () => {
  test('PRIVATE-TOKEN, then Bearer, then the session cookie', () => {
    const r = (h: Record<string, string>) => credentialOf(new Request('http://x/', { headers: h }));
    expect(r({ 'private-token': 'a', authorization: 'Bearer b', cookie: 'baton_session=c' })).toEqual({ token: 'a' });
    expect(r({ authorization: 'bearer b', cookie: 'baton_session=c' })).toEqual({ token: 'b' });
    expect(r({ authorization: 'Basic YTpi', cookie: 'x=1; baton_session=c; y=2' })).toEqual({ session: 'c' });
    expect(r({ cookie: 'baton_sessionx=c; xbaton_session=d' })).toEqual({});
    expect(r({})).toEqual({});
  });
  test('cookieValue reads one cookie, trimmed; an empty value is none', () => {
    const c = (v: string) => cookieValue(new Request('http://x/', { headers: { cookie: v } }), 'baton_session');
    expect([c('baton_session=abc'), c(' a=1 ;baton_session = abc ; b=2'), c('baton_session='), c('other=abc')]).toEqual(['abc', 'abc', undefined, undefined]);
  });
});
