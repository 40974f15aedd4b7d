/**
 * R5 Storage faults. The data dir lives on a small tmpfs mounted for the test (we run as
 * root, so chmod would not stop a write; a real full or read-only file system does):
 * - filled up: writes (trace, artifact, a job claim in SQLite) answer 507 with a message,
 *   reads still work, nothing stored before is damaged, and service resumes once space
 *   returns — same process, no repair;
 * - remounted read-only (with the server stopped: Linux refuses to remount a file system
 *   with files open for writing): the server refuses to start with one line naming the
 *   cause (or serves and answers writes 503); after rw it starts and serves as before.
 * Where `mount` is not allowed the tmpfs test is skipped (it says so), and a fault injected
 * into the blob store (a LocalBlobStore subclass swapped into the running core) still
 * proves the ENOSPC/EROFS → 507/503 mapping of traces and artifacts.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBlobStore, storageError } from '../../src/core/storage';
import { startTestServer } from '../support/harness';
import { integrityCheck, seed } from './support/data';
import { REGISTRATION_TOKEN, spawnBaton, type BatonProcess } from './support/process';
import { V1Client } from './support/v1';

const enc = new TextEncoder();
const mnt = mkdtempSync(join(tmpdir(), 'baton-mnt-'));
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mnt]).status === 0;
if (!mounted) console.log('R5: mount is not allowed here — the tmpfs test is skipped; the injected-fault test still runs');
let baton: BatonProcess | undefined;

afterAll(async () => {
  await baton?.stop();
  if (mounted) spawnSync('umount', ['-l', mnt]);
  rmSync(mnt, { recursive: true, force: true });
});

/** Fills the file system of `dir` up to the last byte; returns the filler's path. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const chunk = new Uint8Array(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOSPC') throw e;
    // then byte by byte, so not even a small write fits
    try { for (;;) writeSync(fd, chunk.subarray(0, 512)); } catch { /* full */ }
  } finally {
    closeSync(fd);
  }
  return path;
}

describe.skipIf(!mounted)('R5 on a real file system (tmpfs)', () => {
  test('disk full → 507, read-only → 503, nothing damaged, service resumes without a restart', async () => {
    const dataDir = join(mnt, 'data');
    mkdirSync(dataDir);
    // 16 jobs, 8 of them in the first stage: the claims below (1 + 5 + 1) never run out of
    // pending jobs, whichever of them the full disk lets through
    await seed(dataDir, { projects: 1, pipelines: 1, jobsPerPipeline: 16 });
    baton = await spawnBaton(dataDir);
    const v1 = new V1Client(() => baton!.url);
    const runner = (await v1.register(REGISTRATION_TOKEN)).token!;
    const job = (await v1.requestJob(runner)).job!;
    const trace = enc.encode('stored before the fault\n');
    expect((await v1.patchTrace(job.id, job.token, 0, trace)).status).toBe(202);
    const archive = new Uint8Array(200 * 1024).map((_, i) => i % 251);
    expect(await v1.uploadArtifact(job.id, job.token, archive)).toBe(201);
    const ask = (method: string, path: string, init: RequestInit = {}) => fetch(baton!.url + path, { method, ...init });

    // ---- disk full
    const filler = fill(mnt);
    const more = enc.encode('x'.repeat(64 * 1024));
    const p = await v1.patchTrace(job.id, job.token, trace.length, more);
    expect(p.status).toBe(507);
    const upload = await fetch(`${baton.url}/ci/api/v1/builds/${job.id}/artifacts`, { method: 'POST', headers: { 'BUILD-TOKEN': job.token }, body: (() => { const f = new FormData(); f.append('file', new Blob([new Uint8Array(512 * 1024)]), 'b.zip'); return f; })() });
    expect(upload.status).toBe(507);
    expect(await upload.text()).toContain('full');
    // a claim writes to SQLite: either it fits in pages SQLite already has, or it is a clear 507
    const claims: number[] = [];
    for (let i = 0; i < 5; i++) claims.push((await v1.requestJob(runner)).status);
    for (const status of claims) expect([201, 507]).toContain(status);
    // reads still work, and what was stored is intact
    expect((await ask('GET', '/-/health')).status).toBe(200);
    const down = await v1.downloadArtifact(job.id, job.token);
    expect(Buffer.from(down.bytes!).equals(Buffer.from(archive))).toBe(true);
    expect(readFileSync(join(dataDir, 'traces', `${job.id}.log`), 'latin1')).toBe('stored before the fault\n');

    // ---- space returns: the same process serves writes again
    rmSync(filler);
    const resumed = await v1.patchTrace(job.id, job.token, trace.length, more);
    expect(resumed.status).toBe(202);
    expect(await v1.uploadArtifact(job.id, job.token, archive)).toBe(201);
    expect((await v1.requestJob(runner)).status).toBe(201);
    expect(integrityCheck(dataDir)).toBe('ok');

    // ---- read-only: a mount with files open for writing cannot be made read-only, so the
    // server is stopped, the file system remounted ro and the server started on it.
    expect(await baton.stop()).toBe(0);
    baton = undefined;
    expect(spawnSync('mount', ['-o', 'remount,ro', mnt]).status).toBe(0);
    try {
      const err = await spawnBaton(dataDir).then((b) => { baton = b; return ''; }, (e: Error) => e.message);
      // either it refuses to start with one line naming the cause, or it serves and refuses writes
      if (err) expect(err).toMatch(/baton: .*(read-?only|EROFS)/i);
      else {
        expect(await v1.update(job.id, runner, 'success')).toBe(503);
        await baton!.stop();
        baton = undefined;
      }
    } finally {
      expect(spawnSync('mount', ['-o', 'remount,rw', mnt]).status).toBe(0);
    }
    baton = await spawnBaton(dataDir);
    expect((await v1.patchTrace(job.id, job.token, trace.length + more.length, enc.encode('more\n'))).status).toBe(202);
    expect(await v1.update(job.id, runner, 'success')).toBe(200);
    expect(Buffer.from((await v1.downloadArtifact(job.id, job.token)).bytes!).equals(Buffer.from(archive))).toBe(true);
    expect(await baton.stop()).toBe(0);
    baton = undefined;
    expect(integrityCheck(dataDir)).toBe('ok');
  }, 60_000);
});

/** The blob store with a switch: when set, every write fails as the file system would. */
class FaultyStore extends LocalBlobStore {
  fault: 'ENOSPC' | 'EROFS' | null = null;
  private fail() { throw storageError(Object.assign(new Error(`injected ${this.fault}`), { code: this.fault })); }
  override appendTrace(jobId: number, start: number, bytes: Uint8Array) {
    if (this.fault && bytes.length > 0 && start === this.traceLength(jobId)) this.fail();
    return super.appendTrace(jobId, start, bytes);
  }
  override replaceTrace(jobId: number, bytes: Uint8Array) { if (this.fault) this.fail(); return super.replaceTrace(jobId, bytes); }
  override commitArtifact(jobId: number, temp: string) { if (this.fault) { this.discard(temp); this.fail(); } return super.commitArtifact(jobId, temp); }
}

test('R5 injected: a failing blob store answers 507 / 503 and serves again once healed', async () => {
  const srv = await startTestServer();
  try {
    const store = new FaultyStore(srv.dataDir);
    srv.core.deps.store = store;
    const v1 = new V1Client(() => srv.url);
    const project = srv.core.projects.create({ name: 'r5', repoUrl: '/nonexistent/r5.git' });
    const { planFor } = await import('../support/compile');
    srv.core.pipelines.create(project.id, { ref: 'main', tag: false, sha: 'c'.repeat(40) }, await planFor('a:\n  script: [x]\n'));
    const runner = (await v1.register(srv.config.registrationToken!)).token!;
    const job = (await v1.requestJob(runner)).job!;
    for (const [fault, status] of [['ENOSPC', 507], ['EROFS', 503]] as const) {
      store.fault = fault;
      expect((await v1.patchTrace(job.id, job.token, 0, enc.encode('a'))).status).toBe(status);
      expect(await v1.uploadArtifact(job.id, job.token, new Uint8Array(100))).toBe(status);
      expect(await v1.update(job.id, runner, 'running', 'whole log')).toBe(status);
      expect(srv.core.jobs.get(job.id).status).toBe('running');
    }
    store.fault = null;
    expect((await v1.patchTrace(job.id, job.token, 0, enc.encode('a'))).status).toBe(202);
    expect(await v1.uploadArtifact(job.id, job.token, new Uint8Array(100))).toBe(201);
    expect(await v1.update(job.id, runner, 'success', 'whole log')).toBe(200);
  } finally {
    await srv.stop();
  }
});
