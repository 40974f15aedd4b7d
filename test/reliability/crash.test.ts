/**
 * R2 Crashes (small version; the 500-job run is test/soak/crash.soak.ts): the server is
 * killed with SIGKILL 20 times at random moments of a 100-job run with traces and
 * artifacts, and started again each time on the same data dir without any repair.
 * Afterwards: integrity_check ok after every kill, every job final (finished, or failed as
 * stuck — never lost, never running), every trace a prefix of what was sent, no partial
 * archive ever served, every acknowledged write still there.
 */
import { afterAll, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { crashRun } from './scenarios/crash';
import { tempDataDir } from './support/process';

const dir = tempDataDir('r2');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('R2: 20 × kill -9 during a 100-job run loses nothing and needs no repair', async () => {
  const r = await crashRun({
    dataDir: dir, pipelines: 10, jobsPerPipeline: 10, runners: 4, kills: 20,
    uptimeMs: [300, 1500], stepMs: [20, 90], abandonRate: 0.05, deadlineMs: 150_000,
  });
  console.log(`R2: ${r.jobs} jobs, ${r.kills} kills (${r.killsDuringRun} mid-run), ${r.requests} requests, ${r.serverErrors} 5xx, ` +
    `${r.abandoned} abandoned, jobs ${JSON.stringify(r.statuses)}, reasons ${JSON.stringify(r.failureReasons)}, ` +
    `pipelines ${JSON.stringify(r.pipelineStatuses)}, ${Math.round(r.ms / 1000)} s`);
  expect(r.violations).toEqual([]);
  expect(r.kills).toBe(20);
  expect(r.killsDuringRun).toBeGreaterThanOrEqual(20);
  expect(r.integrity).toEqual(Array(21).fill('ok'));
  expect(r.serverErrors).toBe(0);
  expect(r.statuses.success).toBeGreaterThan(r.jobs / 2);
}, 180_000);
