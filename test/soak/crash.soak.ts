/**
 * R2 soak: 40 × kill -9 during a 500-job run with traces and artifacts (see
 * test/reliability/scenarios/crash.ts for what is checked). Run with `npm run soak`.
 */
import { afterAll, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { crashRun } from '../reliability/scenarios/crash';
import { tempDataDir } from '../reliability/support/process';

const dir = tempDataDir('soak-r2');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('R2 soak: 40 × kill -9 during a 500-job run loses nothing and needs no repair', async () => {
  const kills = 40;
  const r = await crashRun({
    dataDir: dir, pipelines: 50, jobsPerPipeline: 10, runners: 8, kills,
    uptimeMs: [300, 3000], stepMs: [10, 60], abandonRate: 0.03, deadlineMs: 1_200_000,
    log: (l) => console.log(l),
  });
  console.log(`R2 soak: ${r.jobs} jobs, ${r.kills} kills (${r.killsDuringRun} mid-run), ${r.requests} requests, ${r.serverErrors} 5xx, ` +
    `jobs ${JSON.stringify(r.statuses)}, reasons ${JSON.stringify(r.failureReasons)}, pipelines ${JSON.stringify(r.pipelineStatuses)}, ${Math.round(r.ms / 1000)} s`);
  expect(r.violations).toEqual([]);
  expect(r.killsDuringRun).toBe(kills);
  expect(r.integrity).toEqual(Array(kills + 1).fill('ok'));
  expect(r.serverErrors).toBe(0);
}, 1_500_000);
