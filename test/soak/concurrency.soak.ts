/**
 * R1 soak: 64 simulated runners drain 10 000 jobs from one Baton process, then 64 runners
 * drain 10 000 jobs from two processes on one data dir. Zero handed out twice, zero lost,
 * every pipeline final. Run with `npm run soak` (not part of `npm test`).
 */
import { afterAll, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { drain } from '../reliability/scenarios/drain';
import { jobRows, seed, statusCounts } from '../reliability/support/data';
import { spawnBaton, tempDataDir, type BatonProcess } from '../reliability/support/process';

const procs: BatonProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

for (const [name, processes, runners, projects, pipelines, perPipeline] of [
  ['64 runners × 10 000 jobs, one process', 1, 64, 10, 10, 100],
  ['64 runners × 10 000 jobs, two processes on one data dir', 2, 64, 10, 10, 100],
] as const) {
  test(`R1 soak: ${name}`, async () => {
    const dataDir = tempDataDir('soak-r1');
    dirs.push(dataDir);
    const seeded = await seed(dataDir, { projects, pipelines, jobsPerPipeline: perPipeline });
    const servers = [];
    for (let i = 0; i < processes; i++) servers.push(await spawnBaton(dataDir));
    procs.push(...servers);
    const report = await drain({ urls: servers.map((s) => s.url), runners, totalJobs: seeded.jobs, deadlineMs: 1_500_000 });
    console.log(`R1 soak ${name}: ${seeded.jobs} jobs, ${report.requests} requests, ${report.conflicts} conflicts, ${Math.round(report.ms / 1000)} s`);
    expect([...report.handedOut].filter(([, n]) => n > 1)).toEqual([]);
    expect(Object.fromEntries(report.unexpected)).toEqual({});
    expect(report.handedOut.size).toBe(seeded.jobs);
    expect(jobRows(dataDir).length).toBe(seeded.jobs);
    expect(statusCounts(dataDir, 'jobs')).toEqual({ success: seeded.jobs });
    expect(Object.keys(statusCounts(dataDir, 'pipelines'))).toEqual(['success']);
  }, 1_800_000);
}
