/**
 * --min-free-disk against a real server. The free space comes from a probe that models a
 * small disk from the real files under the data dir (capacity minus what traces, archives
 * and uploads in progress take), so every byte written or deleted moves it as on a real
 * disk; one test at the end uses a real tmpfs and statfs.
 * - an upload whose Content-Length would cross the floor is 507 before a byte is stored;
 *   a chunked one is 507 as soon as it would cross; nothing partial stays;
 * - eviction deletes the oldest evictable archives first (expired before unexpired), never
 *   kept ones, never a running job's, never those of a pipeline still running; a log line
 *   and the metrics say so; an upload evicts what it needs and then succeeds;
 * - /-/readiness fails naming the disk while below the floor, /-/liveness does not.
 */
import { afterAll, afterEach, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../src/clock';
import { createLogger } from '../../src/log';
import type { Core } from '../../src/core';
import type { Job } from '../../src/db/schema';
import { spawnBaton, type BatonProcess } from '../reliability/support/process';
import { multipartStream } from '../support/fake-runner-common';
import { makePipeline, makeProject, startTestServer, type TestServer } from '../support/harness';
import { scrape } from '../support/prometheus';
import { projectRunner } from './rest-fixtures';

const MiB = 1024 * 1024;

/** Bytes of the regular files under `dir`. */
function used(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) try { n += statSync(join(e.parentPath, e.name)).size; } catch { /* just deleted */ }
  }
  return n;
}

/** A disk of `capacity` bytes holding only this data dir's traces, archives and uploads. */
function smallDisk(s: TestServer, capacity: number) {
  const dirs = ['traces', 'artifacts', 'tmp'].map((d) => join(s.dataDir, d));
  s.core.deps.disk.probe = () => capacity - dirs.reduce((sum, d) => sum + used(d), 0);
}

let s: TestServer;
afterEach(async () => { await s?.stop(); });

interface Running { job: Job; token: string }

/** A new project with one pipeline; its own runner takes the first job. */
function start(core: Core, yaml = 'job:\n  script: [x]\n  artifacts:\n    paths: [out/]\n'): Running {
  const project = makeProject(core);
  makePipeline(core, project.id, yaml);
  const claimed = core.jobs.claim(projectRunner(core, project));
  if (claimed.outcome !== 'job') throw new Error(`no job: ${claimed.outcome}`);
  return { job: claimed.context.job, token: claimed.context.token };
}

async function upload(r: Running, bytes: number, opts: { chunked?: boolean; expireIn?: string } = {}): Promise<{ status: number; body: string }> {
  const data = new Uint8Array(bytes).fill(r.job.id % 251);
  let res: Response;
  const query = opts.expireIn ? `?expire_in=${encodeURIComponent(opts.expireIn)}` : '';
  if (opts.chunked) {
    const boundary = 'baton-disk-test';
    res = await fetch(`${s.url}/api/v4/jobs/${r.job.id}/artifacts${query}`, {
      method: 'POST', headers: { 'JOB-TOKEN': r.token, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: multipartStream(boundary, 'a.zip', data, 64 * 1024),
    });
  } else {
    const form = new FormData();
    // before the file, as runners send it
    if (opts.expireIn) form.append('expire_in', opts.expireIn);
    form.append('file', new Blob([data]), 'a.zip');
    res = await fetch(`${s.url}/api/v4/jobs/${r.job.id}/artifacts`, { method: 'POST', headers: { 'JOB-TOKEN': r.token }, body: form });
  }
  return { status: res.status, body: await res.text() };
}

const finish = (core: Core, r: Running) => core.jobs.finish(r.job.id, 'success', { failureReason: null, exitCode: 0 });
const tmpFiles = () => readdirSync(join(s.dataDir, 'tmp'));
const hasArchive = (id: number) => existsSync(join(s.dataDir, 'artifacts', `${id}.zip`));

describe('uploads that would cross the floor get 507', () => {
  test('with Content-Length: refused before anything is written; the same upload fits once the floor allows it', async () => {
    s = await startTestServer({ minFreeDisk: 10 * MiB });
    const r = start(s.core);
    smallDisk(s, 10 * MiB + 512 * 1024);
    let biggestTemp = 0;
    const probe = s.core.deps.disk.probe;
    s.core.deps.disk.probe = (d) => { biggestTemp = Math.max(biggestTemp, used(join(s.dataDir, 'tmp'))); return probe(d); };
    const refused = await upload(r, 1 * MiB);
    expect(refused.status).toBe(507);
    expect(JSON.parse(refused.body).message).toMatch(/^507 Insufficient Storage - storing this upload would leave less than 10 MiB free under the data dir \(--min-free-disk\); 10.5 MiB are free$/);
    expect(biggestTemp).toBe(0);
    expect(tmpFiles()).toEqual([]);
    expect(hasArchive(r.job.id)).toBe(false);
    expect((await scrape(s.url)).value('baton_uploads_refused_low_disk_total')).toBe(1);
    const small = await upload(r, 100 * 1024);
    expect(small.status).toBe(201);
  });

  test('chunked (no Content-Length): refused while streaming, soon after the line, and the partial file is gone', async () => {
    s = await startTestServer({ minFreeDisk: 4 * MiB });
    const r = start(s.core);
    smallDisk(s, 7 * MiB);
    let biggestTemp = 0;
    const probe = s.core.deps.disk.probe;
    s.core.deps.disk.probe = (d) => { biggestTemp = Math.max(biggestTemp, used(join(s.dataDir, 'tmp'))); return probe(d); };
    const res = await upload(r, 20 * MiB, { chunked: true });
    expect(res.status).toBe(507);
    expect(res.body).toContain('--min-free-disk');
    // refused before the line (3 MiB written), at most one check interval (1 MiB) and a chunk early
    expect(biggestTemp).toBeGreaterThan(1.5 * MiB);
    expect(biggestTemp).toBeLessThanOrEqual(3 * MiB);
    expect(tmpFiles()).toEqual([]);
    expect(hasArchive(r.job.id)).toBe(false);
  });

  test('a free-space probe that fails does not fail the upload (the write meets the real error, if any)', async () => {
    s = await startTestServer({ minFreeDisk: 10 * MiB });
    const r = start(s.core);
    s.core.deps.disk.probe = () => { throw Object.assign(new Error('statfs failed'), { code: 'EIO' }); };
    expect((await upload(r, 2 * MiB)).status).toBe(201);
    const ready = await (await fetch(`${s.url}/-/readiness`)).json() as { disk_check: { status: string; message?: string }[] };
    expect(ready.disk_check).toEqual([{ status: 'failed', message: 'free disk space cannot be read: statfs failed' }]);
  });

  test('with the floor at 0 (off) the probe is not even asked', async () => {
    s = await startTestServer({ minFreeDisk: 0 });
    const r = start(s.core);
    s.core.deps.disk.probe = () => { throw new Error('asked'); };
    expect((await upload(r, 2 * MiB)).status).toBe(201);
  });
});

describe('eviction', () => {
  test('oldest evictable first: expired, then soonest to expire; never kept, never-expiring, running, or in a running pipeline', async () => {
    const clock = new FakeClock(Date.now());
    // no job times out or is stuck while the clock moves on
    s = await startTestServer({ minFreeDisk: 5 * MiB, defaultJobTimeout: 86_400, stuckTimeout: 86_400 }, { clock });
    const made: Record<string, Running> = {};
    // one MiB each, in this order (ids ascending = oldest first)
    for (const [name, expireIn] of [['old', '1 day'], ['kept', '1 day'], ['never', 'never'], ['expiredLater', '30 min'], ['young', '2 days'], ['younger', '3 days']] as const) {
      made[name] = start(s.core);
      expect((await upload(made[name], MiB, { expireIn })).status).toBe(201);
      finish(s.core, made[name]);
      clock.advance(1000);
    }
    expect((await s.api(`/api/v4/projects/${made.kept.job.projectId}/jobs/${made.kept.job.id}/artifacts/keep`, { method: 'POST' })).status).toBe(200);
    // a job of a two-stage pipeline: its pipeline is still running, a later stage may need it
    const twoStage = start(s.core, 'build:\n  stage: build\n  script: [x]\n  artifacts:\n    paths: [out/]\ntest:\n  stage: test\n  script: [y]\n');
    expect((await upload(twoStage, MiB, { expireIn: '12 hours' })).status).toBe(201); // expires before all others
    finish(s.core, twoStage);
    // a running job's own archive
    const running = start(s.core);
    expect((await upload(running, MiB, { expireIn: '12 hours' })).status).toBe(201);
    clock.advance(45 * 60_000); // expiredLater (30 min) has expired; nothing else has, and no job timed out

    // 8 MiB of archives on a 12 MiB disk with a 5 MiB floor: 1 MiB must go
    smallDisk(s, 12 * MiB);
    const evicted = s.core.reaper.sweep();
    // the expiry sweep removes the expired one first; eviction then takes the soonest to expire
    expect(evicted.artifactsExpired).toBe(1);
    expect(hasArchive(made.expiredLater.job.id)).toBe(false);
    expect(s.core.deps.disk.free()).toBeGreaterThanOrEqual(5 * MiB);
    expect(evicted.artifactsEvicted).toBe(0); // 7 MiB left: the floor holds again

    // the disk shrinks: 3 MiB must go → old, young, younger (in that order), never the others
    smallDisk(s, 9 * MiB);
    expect(s.core.jobs.get(running.job.id).status).toBe('running');
    expect(s.core.pipelines.get(twoStage.job.pipelineId).status).toBe('running');
    const round = s.core.artifacts.relieveDiskPressure();
    expect(round.count).toBe(3);
    expect(round.bytes).toBe(3 * MiB);
    for (const name of ['old', 'young', 'younger']) expect({ name, present: hasArchive(made[name].job.id) }).toEqual({ name, present: false });
    for (const j of [made.kept.job, made.never.job, twoStage.job, running.job]) expect({ id: j.id, present: hasArchive(j.id) }).toEqual({ id: j.id, present: true });
    // the evicted job says it has no archive any more
    const gone = await s.api(`/api/v4/projects/${made.old.job.projectId}/jobs/${made.old.job.id}/artifacts`);
    expect(gone.status).toBe(404);
    const m = await scrape(s.url);
    expect(m.value('baton_artifacts_evicted_total')).toBe(3);
    expect(m.value('baton_artifact_bytes_evicted_total')).toBe(3 * MiB);

    // nothing evictable is left: the disk stays below the floor, and eviction gives up quietly
    smallDisk(s, 6 * MiB);
    expect(s.core.artifacts.relieveDiskPressure().count).toBe(0);
    expect(hasArchive(made.kept.job.id)).toBe(true);
  });

  test('an upload evicts what it needs and then succeeds; the eviction is logged', async () => {
    const lines: string[] = [];
    s = await startTestServer({ minFreeDisk: 2 * MiB }, { log: createLogger('warn', { write: (l: string) => { lines.push(l); } }) });
    const first = start(s.core);
    expect((await upload(first, 2 * MiB)).status).toBe(201);
    finish(s.core, first);
    smallDisk(s, 5 * MiB); // 3 MiB free: a 2 MiB upload would leave 1 MiB
    const second = start(s.core);
    const res = await upload(second, 2 * MiB);
    expect(res.status).toBe(201);
    expect(hasArchive(first.job.id)).toBe(false);
    expect(hasArchive(second.job.id)).toBe(true);
    const log = lines.join('').split('\n').filter((l) => l.includes('artifacts evicted')).map((l) => JSON.parse(l));
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ level: 40, evicted: 1, bytes: 2 * MiB, jobIds: [first.job.id], minFree: 2 * MiB, msg: 'free disk space below --min-free-disk: artifacts evicted' });
  });
});

describe('health endpoints', () => {
  test('/-/readiness: 200 with every check ok; 503 naming the disk below the floor; liveness stays 200; no token needed', async () => {
    s = await startTestServer({ minFreeDisk: 64 * MiB });
    const ready = await fetch(`${s.url}/-/readiness`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', db_check: [{ status: 'ok' }], data_dir_check: [{ status: 'ok' }], disk_check: [{ status: 'ok' }] });
    s.core.deps.disk.probe = () => 10 * MiB;
    const low = await fetch(`${s.url}/-/readiness`);
    expect(low.status).toBe(503);
    expect(await low.json()).toEqual({
      status: 'failed', db_check: [{ status: 'ok' }], data_dir_check: [{ status: 'ok' }],
      disk_check: [{ status: 'failed', message: 'free disk space under the data dir is 10 MiB, below --min-free-disk (64 MiB)' }],
    });
    const live = await fetch(`${s.url}/-/liveness`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
  });

  test('/-/readiness: a data dir that cannot be written and a database that does not answer are named', async () => {
    s = await startTestServer();
    const store = s.core.deps.store;
    const realTemp = store.tempPath.bind(store);
    store.tempPath = () => join(s.dataDir, 'no-such-dir', 'probe');
    const res = await fetch(`${s.url}/-/readiness`);
    store.tempPath = realTemp;
    expect(res.status).toBe(503);
    const body = await res.json() as { data_dir_check: { status: string; message: string }[] };
    expect(body.data_dir_check).toEqual([{ status: 'failed', message: 'the data dir cannot be written: ENOENT' }]);
    // no probe file is left behind by the good checks either
    expect(tmpFiles()).toEqual([]);

    const other = await startTestServer();
    try {
      other.core.deps.db.$client.close();
      const down = await fetch(`${other.url}/-/readiness`);
      expect(down.status).toBe(503);
      const b = await down.json() as { status: string; db_check: { status: string; message: string }[] };
      expect(b.status).toBe('failed');
      expect(b.db_check[0].status).toBe('failed');
      expect(b.db_check[0].message).toStartWith('the database does not answer');
      expect((await fetch(`${other.url}/-/liveness`)).status).toBe(200);
    } finally {
      other.core.deps.db.$client.close = () => {};
      await other.stop().catch(() => {});
    }
  });
});

// ---------------------------------------------------------------- a real file system

const mnt = mkdtempSync(join(tmpdir(), 'baton-disk-'));
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mnt]).status === 0;
if (!mounted) console.log('disk pressure: mount is not allowed here — the tmpfs test is skipped; the probe-driven tests above still run');
let baton: BatonProcess | undefined;
afterAll(async () => {
  await baton?.stop();
  if (mounted) spawnSync('umount', ['-l', mnt]);
  rmSync(mnt, { recursive: true, force: true });
});

describe.skipIf(!mounted)('on a real 24 MiB tmpfs, free space read with statfs', () => {
  test('uploads evict the oldest finished archive, a kept one stays, and an upload that cannot fit is 507 with the floor intact', async () => {
    const dataDir = join(mnt, 'data');
    mkdirSync(dataDir);
    const free = () => { const f = statfsSync(mnt); return Number(f.bavail) * Number(f.bsize); };
    baton = await spawnBaton(dataDir, { 'min-free-disk': '8MiB', 'max-artifact-size': '32', 'log-level': 'info' });
    const ADMIN = { 'PRIVATE-TOKEN': 'reliability-admin-token-9f3c2a71', 'content-type': 'application/json' };
    const api = (path: string, init: RequestInit = {}) => fetch(baton!.url + path, { ...init, headers: { ...ADMIN, ...(init.headers as Record<string, string> ?? {}) } });
    const project = await (await api('/api/v4/projects', { method: 'POST', body: JSON.stringify({ name: 'disk', repo_url: 'https://git.example.invalid/disk.git' }) })).json() as { id: number };
    const reg = await (await fetch(`${baton.url}/api/v4/runners`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'reliability-registration-token-5d1e' }) })).json() as { token: string };
    const runJob = async (bytes: number) => {
      const p = await api(`/api/v4/projects/${project.id}/pipeline`, { method: 'POST', body: JSON.stringify({ ref: 'main', sha: 'a'.repeat(40), content: 'j:\n  script: [x]\n  artifacts:\n    paths: [o/]\n' }) });
      expect(p.status).toBe(201);
      const job = await (await fetch(`${baton!.url}/api/v4/jobs/request`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: reg.token }) })).json() as { id: number; token: string };
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(bytes).fill(7)]), 'a.zip');
      const up = await fetch(`${baton!.url}/api/v4/jobs/${job.id}/artifacts`, { method: 'POST', headers: { 'JOB-TOKEN': job.token }, body: form });
      const status = up.status;
      const body = await up.text();
      await fetch(`${baton!.url}/api/v4/jobs/${job.id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: job.token, state: 'success' }) });
      return { id: job.id, status, body };
    };
    const archive = (id: number) => existsSync(join(dataDir, 'artifacts', `${id}.zip`));
    // 24 MiB, floor 8: about 16 MiB of archives fit (less what the database takes)
    const a = await runJob(4 * MiB);
    const b = await runJob(4 * MiB);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect((await api(`/api/v4/projects/${project.id}/jobs/${a.id}/artifacts/keep`, { method: 'POST' })).status).toBe(200);
    const c = await runJob(4 * MiB);
    const d = await runJob(4 * MiB);
    const e = await runJob(4 * MiB);
    expect([c.status, d.status, e.status]).toEqual([201, 201, 201]);
    // to make room, the oldest not-kept archives went (b first), the kept one stayed
    expect(archive(a.id)).toBe(true);
    expect(archive(b.id)).toBe(false);
    expect(archive(e.id)).toBe(true);
    expect(free()).toBeGreaterThanOrEqual(8 * MiB);
    // more than the disk can ever give above the floor: 507 before it is written
    const huge = await runJob(20 * MiB);
    expect(huge.status).toBe(507);
    expect(huge.body).toContain('--min-free-disk');
    expect(free()).toBeGreaterThanOrEqual(8 * MiB);
    expect(archive(a.id)).toBe(true);
    const m = await scrape(baton.url);
    expect(m.value('baton_artifacts_evicted_total')).toBeGreaterThanOrEqual(1);
    expect(m.value('baton_uploads_refused_low_disk_total')).toBe(1);
    expect(baton.output()).toContain('artifacts evicted');
    expect(baton.output()).toContain('artifact upload refused');
    expect(await baton.stop()).toBe(0);
    baton = undefined;
  }, 60_000);
});
