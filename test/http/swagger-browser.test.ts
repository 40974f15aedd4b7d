/**
 * The Swagger page in a real headless Chromium (test/support/browser.ts finds one: Debian's
 * /usr/bin/chromium, else the one inside @sparticuz/chromium) with every request outside
 * loopback blocked: proves the page needs no CDN and renders the operations of both runner
 * APIs. Set BATON_SCREENSHOT_DIR to keep the screenshot.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBrowser, type Browser } from '../support/browser';
import { startTestServer, type TestServer } from '../support/harness';

let s: TestServer;
let browser: Browser;
beforeAll(async () => {
  s = await startTestServer();
  browser = await openBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await s?.stop();
});

test('the Swagger UI renders every operation, incl. both runner APIs, with no network beyond Baton', async () => {
  const doc = (await (await fetch(`${s.url}/swagger/json`)).json()) as { paths: Record<string, Record<string, { tags?: string[] }>> };
  const operations = Object.values(doc.paths).flatMap((ops) => Object.values(ops));
  const byTag = (tag: string) => operations.filter((op) => op.tags?.includes(tag)).length;
  // Both runner protocols must be documented, or the page below proves less than it claims.
  expect({ v1: byTag('runner-v1') > 0, v4: byTag('runner-v4') > 0 }).toEqual({ v1: true, v4: true });

  const page = await browser.newPage();
  const served: string[] = [];
  // recorded here, then handed on to the browser's loopback-only rule
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') served.push(url.pathname);
    return route.fallback();
  });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  const res = await page.goto(`${s.url}/swagger`, { waitUntil: 'load' });
  expect(res?.status()).toBe(200);
  await page.waitForSelector('.opblock', { timeout: 20_000 });
  await page.waitForFunction(`document.querySelectorAll('.opblock').length >= ${operations.length}`, undefined, { timeout: 20_000 });

  // Runs in the page (a string, so this file needs no DOM typings).
  const info = await page.evaluate<{ title: string; sections: { tag: string; paths: string[] }[]; operations: number }>(`({
    title: document.querySelector('.info .title')?.textContent ?? '',
    sections: [...document.querySelectorAll('.opblock-tag-section')].map((sec) => ({
      tag: sec.querySelector('.opblock-tag')?.getAttribute('data-tag') ?? '',
      paths: [...sec.querySelectorAll('.opblock-summary-path')].map((p) => p.getAttribute('data-path') ?? p.textContent ?? ''),
    })),
    operations: document.querySelectorAll('.opblock').length,
  })`);
  expect(info.title).toContain('Baton');
  expect(info.operations).toBe(operations.length);
  const v1 = info.sections.find((sec) => sec.tag === 'runner-v1');
  const v4 = info.sections.find((sec) => sec.tag === 'runner-v4');
  expect(v1?.paths).toContain('/ci/api/v1/runners/register');
  expect(v4?.paths).toContain('/api/v4/runners');
  expect(v4?.paths).toContain('/api/v4/jobs/request');

  expect(served).toEqual(expect.arrayContaining(['/swagger', '/swagger/assets/swagger-ui-bundle.js', '/swagger/assets/swagger-ui.css', '/swagger/json']));
  expect(browser.blocked).toEqual([]);
  expect(pageErrors).toEqual([]);

  const dir = process.env.BATON_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'baton-swagger-'));
  mkdirSync(dir, { recursive: true });
  const shot = join(dir, 'swagger.png');
  await page.screenshot({ path: shot, fullPage: false });
  expect(statSync(shot).size).toBeGreaterThan(10_000);
  if (!process.env.BATON_SCREENSHOT_DIR) rmSync(dir, { recursive: true, force: true });
  await page.close();
}, 60_000);

test('the browser of the tests refuses every request beyond loopback (so the test above can fail)', async () => {
  const page = await browser.newPage();
  await page.goto(`${s.url}/api/v4/version`);
  const before = browser.blocked.length;
  // .invalid never resolves; the route aborts it before any lookup
  const outcome = await page.evaluate<string>(`fetch('http://cdn.example.invalid/ui.js').then(() => 'loaded', () => 'refused')`);
  expect(outcome).toBe('refused');
  expect(browser.blocked.slice(before)).toEqual(['http://cdn.example.invalid/ui.js']);
  await page.close();
}, 30_000);
