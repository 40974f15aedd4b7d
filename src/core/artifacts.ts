/**
 * Job artifacts: streamed to a temp file while counting bytes (refused at the limit, with
 * nothing kept), renamed into place only when complete, expired by the reaper. A job has one
 * archive (a second upload replaces it, as GitLab 8.x–9.x did) and at most one file of each
 * report type (`artifacts:reports`, reports.ts): dotenv and junit are read on upload.
 *
 * Disk pressure (--min-free-disk): an upload that would leave less than the floor free is
 * refused with 507 — checked against its Content-Length before the first byte is written
 * and every MiB while it streams — after evicting what may go. Evictable are archives that
 * can expire (kept ones, `artifacts/keep` or `expire_in: never`, have no expiry and stay),
 * of jobs that are not running in pipelines that have ended (an active pipeline's later
 * stages may still download them): expired ones first, then those closest to expiry, which
 * with one default expiry is oldest first. The reaper relieves pressure on every sweep.
 */
import { and, asc, eq, inArray, isNotNull, lte, ne, notExists, sql } from 'drizzle-orm';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { jobArtifacts, jobs, jobVariables, pipelines, testReports, type Job } from '../db/schema';
import type { CoreDeps } from './context';
import { badRequest, DomainError, forbidden, notFound } from './errors';
import { formatBytes } from './disk';
import { parseExpireIn } from './duration';
import { DOTENV_MAX_BYTES, parseDotenv, parseJunitFile, REPORT_TYPES, type TestCase } from './reports';
import { storageError } from './storage';
import { listZip, ZipError, type ZipListing } from './zip';

function writeAll(fd: number, bytes: Uint8Array) {
  for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** CarrierWave's rule: anything but letters, digits, `_ . - +` becomes `_`. */
export function sanitizeFilename(name: string): string {
  const base = name.replace(/[^A-Za-z0-9_.\-+]/g, '_');
  return base === '' || base === '.' || base === '..' ? 'artifacts.zip' : base.slice(0, 255);
}

/** How often (in bytes written) an upload looks at the free space again. */
const DISK_CHECK_EVERY = 1024 * 1024;
/** Pipeline statuses whose jobs may still download earlier artifacts. */
const ACTIVE_PIPELINE = ['created', 'pending', 'running', 'manual'];

export interface Eviction { count: number; bytes: number }

export class ArtifactService {
  constructor(private deps: CoreDeps) {}

  private get db() { return this.deps.db; }

  /**
   * Stores the archive of a running job from a byte stream. `expireIn` is GitLab's human
   * duration; absent → the instance default; "0" or unparsable → never.
   */
  async store(job: Job, filename: string, body: AsyncIterable<Uint8Array>, expireIn: string | undefined, declaredSize?: number): Promise<Job> {
    this.checkUpload(job, filename);
    const { temp, size } = await this.receive(job, body, declaredSize);
    this.stillWelcome(job, temp);
    this.deps.store.commitArtifact(job.id, temp);
    this.deps.metrics.artifactBytes.inc(size);
    const now = this.deps.clock.now();
    this.db.update(jobs).set({
      artifactsFile: sanitizeFilename(filename),
      artifactsSize: size,
      artifactsExpireAt: this.expireAt(expireIn),
      updatedAt: now,
    }).where(eq(jobs.id, job.id)).run();
    this.deps.notifier.pipelines.signal(job.pipelineId);
    return this.db.select().from(jobs).where(eq(jobs.id, job.id)).get()!;
  }

  /**
   * Stores a report file (`artifact_type` other than archive) in the format GitLab expects for
   * its type. A dotenv report is parsed first: a bad one is refused with GitLab's message and
   * kept nowhere. A junit report is parsed into the job's test report.
   */
  async storeReport(job: Job, type: string, format: string | null, filename: string, body: AsyncIterable<Uint8Array>, expireIn: string | undefined) {
    const known = REPORT_TYPES[type];
    if (!known) throw badRequest(`artifact_type: "${type}" is not a report type GitLab knows`);
    if ((format ?? known.format) !== known.format) throw badRequest(`artifact_format: "${format}" is not valid for a ${type} report (${known.format})`);
    this.checkUpload(job, filename);
    if (this.db.select({ t: jobArtifacts.fileType }).from(jobArtifacts).where(and(eq(jobArtifacts.jobId, job.id), eq(jobArtifacts.fileType, type))).get()) {
      throw badRequest('another artifact of the same type already exists');
    }
    const { temp, size } = await this.receive(job, body);
    let dotenv: { key: string; value: string }[] | null = null;
    try {
      if (type === 'dotenv') {
        if (size >= DOTENV_MAX_BYTES) throw badRequest(`Dotenv Artifact Too Big. Maximum Allowable Size: ${DOTENV_MAX_BYTES}`);
        const raw = readFileSync(temp);
        let text: string;
        try {
          text = new TextDecoder('utf-8').decode(known.format === 'gzip' ? gunzipSync(raw, { maxOutputLength: 1024 * 1024 }) : raw);
        } catch {
          throw badRequest('Invalid Format');
        }
        dotenv = parseDotenv(text);
      }
      this.stillWelcome(job, temp);
    } catch (e) {
      this.deps.store.discard(temp);
      throw e;
    }
    this.deps.store.commitReport(job.id, type, temp);
    const now = this.deps.clock.now();
    this.db.insert(jobArtifacts).values({
      jobId: job.id, fileType: type, fileFormat: known.format, filename: sanitizeFilename(filename), size,
      expireAt: this.expireAt(expireIn), createdAt: now,
    }).onConflictDoNothing().run();
    if (dotenv) {
      this.db.delete(jobVariables).where(eq(jobVariables.jobId, job.id)).run();
      if (dotenv.length) this.db.insert(jobVariables).values(dotenv.map((v) => ({ jobId: job.id, key: v.key, value: v.value, source: 'dotenv' }))).run();
    }
    if (type === 'junit') await this.readJunit(job);
    return { type, format: known.format, filename: sanitizeFilename(filename), size };
  }

  /** The test cases of a job's junit report, counted into test_reports and kept as JSON beside it. */
  private async readJunit(job: Job) {
    const parsed = await parseJunitFile(this.deps.store.reportPath(job.id, 'junit'), REPORT_TYPES.junit.format);
    const count = (s: TestCase['status']) => parsed.cases.filter((c) => c.status === s).length;
    const totalTime = parsed.cases.reduce((t, c) => t + c.execution_time, 0);
    this.deps.store.writeFile(this.deps.store.reportPath(job.id, 'junit.json'), JSON.stringify(parsed.cases));
    const suiteName = job.spec.parallel && !job.spec.parallel.matrix ? job.spec.parallel.group : job.name;
    const row = {
      jobId: job.id, pipelineId: job.pipelineId, suiteName, totalTime, total: parsed.cases.length,
      success: count('success'), failed: count('failed'), skipped: count('skipped'), error: count('error'), suiteError: parsed.error,
    };
    this.db.insert(testReports).values(row).onConflictDoUpdate({ target: testReports.jobId, set: row }).run();
  }

  /** The parsed test cases of a job (empty when its report could not be read). */
  testCases(jobId: number): TestCase[] {
    try { return JSON.parse(readFileSync(this.deps.store.reportPath(jobId, 'junit.json'), 'utf8')) as TestCase[]; } catch { return []; }
  }

  /**
   * A pipeline's test report by suite (GitLab: the latest attempts' junit reports, jobs of one
   * `parallel: N` group in one suite). Cases are read only when `withCases`.
   */
  testSuites(pipelineId: number, withCases: boolean): { suite: SuiteReport; cases: TestCase[] }[] {
    const rows = this.db.select({ r: testReports, retried: jobs.retried }).from(testReports).innerJoin(jobs, eq(jobs.id, testReports.jobId))
      .where(and(eq(testReports.pipelineId, pipelineId), eq(jobs.retried, false))).orderBy(testReports.jobId).all().map((x) => x.r);
    const suites = new Map<string, { suite: SuiteReport; cases: TestCase[] }>();
    for (const r of rows) {
      let s = suites.get(r.suiteName);
      if (!s) {
        s = { suite: { name: r.suiteName, jobIds: [], totalTime: 0, total: 0, success: 0, failed: 0, skipped: 0, error: 0, suiteError: null }, cases: [] };
        suites.set(r.suiteName, s);
      }
      const x = s.suite;
      x.jobIds.push(r.jobId);
      x.totalTime += r.totalTime; x.total += r.total; x.success += r.success; x.failed += r.failed; x.skipped += r.skipped; x.error += r.error;
      x.suiteError ??= r.suiteError;
      if (withCases && !r.suiteError) s.cases.push(...this.testCases(r.jobId).map((c) => ({ ...c, jobId: r.jobId })));
    }
    return [...suites.values()];
  }

  /** The report files of a job (GitLab's `artifacts[]` of the job entity, besides the archive). */
  reports(jobId: number) {
    return this.db.select().from(jobArtifacts).where(eq(jobArtifacts.jobId, jobId)).all();
  }

  private checkUpload(job: Job, filename: string) {
    if (job.status !== 'running') throw forbidden('403 Forbidden  - Job is not running');
    if (filename.includes('/') || filename.includes('\\') || filename.includes('\0') || filename === '.' || filename === '..') {
      throw badRequest('file: invalid filename');
    }
  }

  /**
   * Streams a body to a temp file, refusing it at --max-artifact-size. The request's
   * Content-Length bounds it: refused before writing when it cannot fit above the disk floor;
   * without one, every check asks for room for the next DISK_CHECK_EVERY bytes, so the floor
   * is never crossed by more than one chunk.
   */
  private async receive(job: Job, body: AsyncIterable<Uint8Array>, declaredSize?: number): Promise<{ temp: string; size: number }> {
    const limit = this.deps.limits.maxArtifactSize;
    if (declaredSize === undefined || declaredSize < limit) this.makeRoom(job, declaredSize ?? DISK_CHECK_EVERY);
    const temp = this.deps.store.tempPath();
    let size = 0;
    let checkedAt = 0;
    let fd: number | undefined;
    try {
      fd = openSync(temp, 'w');
    } catch (e) {
      throw storageError(e);
    }
    try {
      for await (const chunk of body) {
        size += chunk.length;
        if (size >= limit) throw new DomainError('too_large', '413 Request Entity Too Large');
        if (size - checkedAt >= DISK_CHECK_EVERY) {
          checkedAt = size;
          this.makeRoom(job, declaredSize !== undefined ? Math.max(0, declaredSize - size) : DISK_CHECK_EVERY);
        }
        // Written synchronously (page cache): while an async write was awaited, Bun kept
        // reading the socket into memory — a 1 GiB upload peaked near 200 MB RSS (bench P5).
        writeAll(fd, chunk);
      }
      closeSync(fd);
      fd = undefined;
      if (size >= limit) throw new DomainError('too_large', '413 Request Entity Too Large');
    } catch (e) {
      if (fd !== undefined) try { closeSync(fd); } catch { /* already failing */ }
      this.deps.store.discard(temp);
      throw e instanceof DomainError ? e : storageError(e);
    }
    return { temp, size };
  }

  /**
   * The job may have ended while the bytes flowed; its files are still welcome then (the
   * runner uploads after the script, before its final update), but not after a cancel.
   */
  private stillWelcome(job: Job, temp: string) {
    const current = this.db.select({ status: jobs.status }).from(jobs).where(eq(jobs.id, job.id)).get();
    if (!current || current.status === 'canceled') {
      this.deps.store.discard(temp);
      throw forbidden('403 Forbidden  - Job is not running');
    }
  }

  /** `expireIn` is GitLab's human duration; absent → the instance default; "0" or unparsable → never. */
  private expireAt(expireIn: string | undefined): number | null {
    const secs = expireIn === undefined || expireIn === '' ? this.deps.limits.artifactsExpireIn : parseExpireIn(expireIn) ?? 0;
    return secs > 0 ? this.deps.clock.now() + secs * 1000 : null;
  }

  /** The archive of a job, for streaming from disk. Expired-but-present archives are still served. */
  file(job: Job): { path: string; filename: string; size: number } {
    const size = job.artifactsFile ? this.deps.store.artifactSize(job.id) : null;
    if (!job.artifactsFile || size === null) throw notFound('Artifacts');
    return { path: this.deps.store.artifactPath(job.id), filename: job.artifactsFile, size };
  }

  /** The files inside a job's archive (bounded; see zip.ts); 404 without an archive. */
  entries(job: Job): ZipListing {
    const { path } = this.file(job);
    try {
      return listZip(path);
    } catch (e) {
      if (e instanceof ZipError) throw new DomainError('bad_request', `The artifacts archive cannot be listed: ${e.message}`);
      throw e;
    }
  }

  remove(job: Job) {
    this.deps.store.deleteArtifact(job.id);
    this.db.update(jobs).set({ artifactsFile: null, artifactsSize: null, artifactsExpireAt: null }).where(eq(jobs.id, job.id)).run();
    this.deps.notifier.pipelines.signal(job.pipelineId);
  }

  keep(job: Job): Job {
    if (!job.artifactsFile) throw notFound('Artifacts');
    this.db.update(jobs).set({ artifactsExpireAt: null }).where(eq(jobs.id, job.id)).run();
    return this.db.select().from(jobs).where(eq(jobs.id, job.id)).get()!;
  }

  /**
   * Makes sure `bytes` more can be written above the floor, evicting if needed; otherwise
   * the upload is refused (507) with a log line and a count.
   */
  private makeRoom(job: Pick<Job, 'id'>, bytes: number) {
    const disk = this.deps.disk;
    if (disk.fits(bytes)) return;
    this.relieveDiskPressure(bytes);
    if (disk.fits(bytes)) return;
    this.deps.metrics.uploadsRefused.inc();
    const free = disk.free();
    this.deps.log.warn({ jobId: job.id, bytes, free, minFree: disk.minFree }, 'artifact upload refused: it would leave less than --min-free-disk free');
    throw new DomainError('storage_full',
      `507 Insufficient Storage - storing this upload would leave less than ${disk.floorText()} free under the data dir (--min-free-disk); ${formatBytes(Math.max(0, free))} are free`);
  }

  /**
   * Deletes evictable archives (see the file comment), in order, until `bytes` more fit above
   * the floor or nothing evictable is left. One log line per round.
   */
  relieveDiskPressure(bytes = 0): Eviction {
    const disk = this.deps.disk;
    const done: Eviction = { count: 0, bytes: 0 };
    if (disk.fits(bytes)) return done;
    const freeBefore = disk.free();
    const jobIds: number[] = [];
    for (let more = true; more && !disk.fits(bytes);) {
      const batch = this.db.select().from(jobs).where(and(
        isNotNull(jobs.artifactsExpireAt), isNotNull(jobs.artifactsFile), ne(jobs.status, 'running'),
        notExists(this.db.select({ one: sql`1` }).from(pipelines).where(and(eq(pipelines.id, jobs.pipelineId), inArray(pipelines.status, ACTIVE_PIPELINE)))),
      )).orderBy(asc(jobs.artifactsExpireAt), asc(jobs.id)).limit(32).all();
      more = batch.length > 0;
      for (const j of batch) {
        const size = this.deps.store.artifactSize(j.id) ?? 0;
        this.remove(j);
        done.count++;
        done.bytes += size;
        if (jobIds.length < 100) jobIds.push(j.id);
        if (disk.fits(bytes)) break;
      }
    }
    if (done.count > 0) {
      this.deps.metrics.artifactsEvicted.inc(done.count);
      this.deps.metrics.artifactBytesEvicted.inc(done.bytes);
      this.deps.log.warn({ evicted: done.count, bytes: done.bytes, jobIds, freeBefore, freeAfter: disk.free(), minFree: disk.minFree },
        'free disk space below --min-free-disk: artifacts evicted');
    }
    return done;
  }

  /** Deletes every expired archive and report file; returns how many archives. */
  sweepExpired(): number {
    const now = this.deps.clock.now();
    const expired = this.db.select().from(jobs)
      .where(and(isNotNull(jobs.artifactsExpireAt), lte(jobs.artifactsExpireAt, now))).all();
    for (const j of expired) this.remove(j);
    const reports = this.db.select().from(jobArtifacts).where(and(isNotNull(jobArtifacts.expireAt), lte(jobArtifacts.expireAt, now))).all();
    for (const r of reports) {
      this.deps.store.discard(this.deps.store.reportPath(r.jobId, r.fileType));
      this.db.delete(jobArtifacts).where(and(eq(jobArtifacts.jobId, r.jobId), eq(jobArtifacts.fileType, r.fileType))).run();
    }
    return expired.length;
  }
}

/** One suite of a pipeline's test report: the jobs that share a suite name, their cases merged. */
export interface SuiteReport {
  name: string;
  jobIds: number[];
  totalTime: number;
  total: number;
  success: number;
  failed: number;
  skipped: number;
  error: number;
  suiteError: string | null;
}
