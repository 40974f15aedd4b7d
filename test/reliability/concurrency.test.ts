/**
 * R1 Concurrency (small version; the 64 × 10 000 run is test/soak/concurrency.soak.ts):
 * 32 simulated runners drain 1 000 jobs from one Baton process, and 16 runners drain 500
 * jobs from two Baton processes serving the same data dir. Zero jobs handed out twice,
 * zero lost, every pipeline ends in a final status.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { drain, type DrainReport } from './scenarios/drain';
import { FINAL, jobRows, seed, statusCounts, withDb } from './support/data';
import { REGISTRATION_TOKEN, spawnBaton, tempDataDir, type BatonProcess } from './support/process';
import { sleep, V1Client } from './support/v1';

const procs: BatonProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function expectNoLossNoDuplicate(dataDir: string, report: DrainReport, total: number) {
  const twice = [...report.handedOut].filter(([, n]) => n > 1);
  expect(twice).toEqual([]);
  expect(Object.fromEntries(report.unexpected)).toEqual({});
  const rows = jobRows(dataDir);
  expect(rows.length).toBe(total);
  expect(report.handedOut.size).toBe(total);
  expect(rows.filter((r) => !report.handedOut.has(r.id))).toEqual([]);
  expect(statusCounts(dataDir, 'jobs')).toEqual({ success: total });
  const pipelines = statusCounts(dataDir, 'pipelines');
  expect(Object.keys(pipelines).every((s) => FINAL.has(s))).toBe(true);
  expect(pipelines).toEqual({ success: withDb(dataDir, (db) => (db.query('SELECT count(*) AS n FROM pipelines').get() as { n: number }).n) });
}

describe('R1 concurrency', () => {
  test('32 runners drain 1 000 jobs from one process: none twice, none lost', async () => {
    const dataDir = tempDataDir('r1a');
    dirs.push(dataDir);
    const seeded = await seed(dataDir, { projects: 4, pipelines: 5, jobsPerPipeline: 50 });
    expect(seeded.jobs).toBe(1000);
    const baton = await spawnBaton(dataDir);
    procs.push(baton);
    const report = await drain({ urls: [baton.url], runners: 32, totalJobs: seeded.jobs, deadlineMs: 100_000 });
    console.log(`R1 one process: ${seeded.jobs} jobs, 32 runners, ${report.requests} requests, ${report.conflicts} conflicts, ${Math.round(report.ms)} ms`);
    expectNoLossNoDuplicate(dataDir, report, seeded.jobs);
    expect(await baton.stop()).toBe(0);
  }, 120_000);

  test('two processes on one data dir drain 500 jobs: none twice, none lost', async () => {
    const dataDir = tempDataDir('r1b');
    dirs.push(dataDir);
    const seeded = await seed(dataDir, { projects: 2, pipelines: 5, jobsPerPipeline: 50 });
    const a = await spawnBaton(dataDir);
    const b = await spawnBaton(dataDir);
    procs.push(a, b);
    const report = await drain({ urls: [a.url, b.url], runners: 16, totalJobs: seeded.jobs, deadlineMs: 100_000 });
    console.log(`R1 two processes: ${seeded.jobs} jobs, 16 runners, ${report.requests} requests, ${report.conflicts} conflicts, ${Math.round(report.ms)} ms`);
    expectNoLossNoDuplicate(dataDir, report, seeded.jobs);
    // Both processes really served work.
    expect(new Set(jobRows(dataDir).map((r) => r.runner_id)).size).toBe(16);
  }, 120_000);

  test('a process starting on the data dir leaves the upload another process is receiving alone', async () => {
    const dataDir = tempDataDir('r1c');
    dirs.push(dataDir);
    await seed(dataDir, { projects: 1, pipelines: 1, jobsPerPipeline: 1 });
    const a = await spawnBaton(dataDir);
    procs.push(a);
    const v1 = new V1Client(() => a.url);
    const job = (await v1.requestJob((await v1.register(REGISTRATION_TOKEN)).token!)).job!;
    const enc = new TextEncoder();
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const upload = fetch(`${a.url}/ci/api/v1/builds/${job.id}/artifacts`, {
      method: 'POST', headers: { 'BUILD-TOKEN': job.token, 'content-type': 'multipart/form-data; boundary=XyZ' }, body: readable,
    });
    const w = writable.getWriter();
    await w.write(enc.encode('--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.zip"\r\n\r\n'));
    await w.write(new Uint8Array(64 * 1024).fill(1));
    for (let i = 0; i < 100 && readdirSync(join(dataDir, 'tmp')).length === 0; i++) await sleep(20);
    expect(readdirSync(join(dataDir, 'tmp')).length).toBe(1);
    // the second process clears tmp/ of dead processes at start — not of this live one
    const b = await spawnBaton(dataDir);
    procs.push(b);
    await w.write(new Uint8Array(64 * 1024).fill(2));
    await w.write(enc.encode('\r\n--XyZ--\r\n'));
    await w.close();
    expect((await upload).status).toBe(201);
    expect((await v1.downloadArtifact(job.id, job.token)).bytes!.length).toBe(128 * 1024);
  }, 60_000);
});
