/**
 * R3 soak: 100 000 malformed requests (the generators of test/reliability/scenarios/fuzz.ts)
 * with more concurrency: no 5xx, the process alive with bounded memory, nothing changed.
 * Run with `npm run soak`; FUZZ_SEED=<n> replays a run.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { caseGenerators, fuzz } from '../reliability/scenarios/fuzz';
import { dumpTables } from '../reliability/support/data';
import { startFixture, type Fixture } from '../reliability/support/fixture';
import { appRoutes } from '../reliability/support/routes';

const MiB = 1024 * 1024;
let fx: Fixture;
beforeAll(async () => { fx = await startFixture({ 'max-trace-size': '1', 'max-artifact-size': '1' }, { automation: true }); }, 60_000);
afterAll(() => fx?.close());

test('R3 soak: 100 000 malformed requests', async () => {
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const before = dumpTables(fx.dataDir);
  const rss0 = fx.baton.rss()!;
  let rssMax = rss0;
  const sampler = setInterval(() => { rssMax = Math.max(rssMax, fx.baton.rss() ?? 0); }, 200);
  const report = await fuzz(fx.baton.url, caseGenerators(fx.creds, { maxTrace: MiB, maxArtifact: MiB }, appRoutes()), { requests: 100_000, seed, concurrency: 32 });
  clearInterval(sampler);
  console.log(`R3 soak seed ${seed}: ${report.sent} requests, statuses ${JSON.stringify(Object.fromEntries(report.statuses))}, RSS ${Math.round(rss0 / MiB)} → max ${Math.round(rssMax / MiB)} MiB`);
  expect(report.violations).toEqual([]);
  expect((await fetch(`${fx.baton.url}/-/health`)).status).toBe(200);
  expect(rssMax).toBeLessThan(rss0 + 600 * MiB);
  expect(dumpTables(fx.dataDir)).toBe(before);
}, 1_800_000);
