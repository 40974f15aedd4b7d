/**
 * `baton backup` and `baton restore`: one tar archive of a data dir, taken while Baton serves.
 *
 * backup:
 * 1. the database: `VACUUM INTO` a temp file — one read transaction, so a consistent
 *    snapshot, taken without stopping writers (WAL: readers never block the writer);
 * 2. every file that snapshot refers to, each opened and then read up to the size it had
 *    when opened (a rename or an append afterwards does not change what is copied):
 *    - a job's archive (`artifacts/<job>.zip`, `jobs.artifacts_file`/`_size`) and each of
 *      its report files (`artifacts/<job>.<type>`, a `job_artifacts` row with its size) only
 *      if the file has the size the snapshot recorded; a file renamed into place after the
 *      snapshot (a second upload) or deleted since (expiry, eviction) is left out, and the
 *      row naming it is cleared in the copied database, so the restored instance never names
 *      a file it lacks;
 *    - the test cases Baton derived from a junit report (`artifacts/<job>.junit.json`) for
 *      each `test_reports` row: written whole before the row, so any copy is complete; a
 *      missing one drops the row in the copy;
 *    - a job's trace if a runner had taken the job at the snapshot (`started_at`). A trace
 *      is append-only and the database does not record its length, so the copy is the file's
 *      bytes at the moment it is read: complete for jobs that had ended at the snapshot, a
 *      prefix of the final log for jobs still running (their runner resynchronises with a 416
 *      if it talks to the restored instance). The trace of a job that was still pending at
 *      the snapshot is left out even when a runner took it meanwhile: the restored job is
 *      pending again, and its next runner must start from an empty log (bytes it never sent
 *      would make it resynchronise past its own end — gitlab-runner panics there); traces
 *      of jobs created after the snapshot are left out too;
 *    - `secret.key`, the key of the sealed forge and hook tokens in the database (without it
 *      the restored instance could not open them), so the archive is written 0600; left out
 *      with `withoutSecretKey` for operators who keep the key apart;
 * 3. `backup.json` last: the format, the time, and the size and sha256 of every entry.
 * The archive is written to `<to>.part` and renamed into place when complete.
 *
 * restore: refuses a non-empty target; unpacks into a sibling staging folder, accepting only
 * the names a backup holds (no path from the archive reaches the file system), checks every
 * entry against backup.json and the database with `PRAGMA integrity_check`, then renames the
 * staging folder to the target. Repository caches (git-cache/) are not in a backup; they are
 * fetched again. Archives of format 1 (before reports and the key were carried) restore too.
 */
import { Database } from 'bun:sqlite';
import { createHash } from 'node:crypto';
import {
  closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, renameSync, rmdirSync, rmSync, writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { REPORT_TYPES } from '../reports';
import { readTar, TarWriter } from './tar';

export const BACKUP_FORMAT = 'baton-backup/2';
/** formats restore accepts */
const READABLE_FORMATS: readonly string[] = ['baton-backup/1', BACKUP_FORMAT];

export interface Manifest {
  format: string;
  createdAt: string;
  version: string;
  /** name → size and sha256 of every other entry of the archive */
  files: Record<string, { size: number; sha256: string }>;
  jobs: number;
  traces: number;
  artifacts: number;
  /** archives the snapshot named but the disk no longer had as recorded (cleared in the copy) */
  artifactsDropped: number;
  /** report files (and derived test cases) copied, and those left out and cleared (format 2) */
  reports?: number;
  reportsDropped?: number;
}

export class BackupError extends Error {}

const DB = 'baton.db';
const TRACE = /^traces\/([1-9]\d{0,15})\.log$/;
const ARTIFACT = /^artifacts\/([1-9]\d{0,15})\.zip$/;
/** `artifacts/<job>.<report type>` and `artifacts/<job>.junit.json`: only Baton's own names */
const REPORT = new RegExp(`^artifacts\\/([1-9]\\d{0,15})\\.(${[...Object.keys(REPORT_TYPES), 'junit\\.json'].join('|')})$`);
const KEY = 'secret.key';

/** Copies `fd` from 0 up to `size` into the tar entry, hashing what it writes. */
function copyEntry(tar: TarWriter, name: string, fd: number, size: number, files: Manifest['files'], mtimeMs: number) {
  const hash = createHash('sha256');
  let pos = 0;
  tar.file(name, size, (buf) => {
    const n = readSync(fd, buf, 0, buf.length, pos);
    hash.update(buf.subarray(0, n));
    pos += n;
    return n;
  }, mtimeMs);
  files[name] = { size, sha256: hash.digest('hex') };
}

export interface BackupOptions {
  version: string;
  now?: () => number;
  /** leave `secret.key` out (kept apart by the operator; sealed tokens stay unreadable without it) */
  withoutSecretKey?: boolean;
}

export function backup(dataDir: string, to: string, opts: BackupOptions): Manifest {
  const dbFile = join(dataDir, DB);
  if (!existsSync(dbFile)) throw new BackupError(`--data-dir ${dataDir} holds no Baton database (${DB})`);
  const target = resolve(to);
  if (existsSync(target)) throw new BackupError(`--to ${to} exists already; give a new file name`);
  mkdirSync(dirname(target), { recursive: true });
  const work = mkdtempSync(join(dirname(target), `.${basename(target)}.work-`));
  const part = `${target}.part`;
  let out: number | undefined;
  try {
    // 1. the snapshot
    const snapshotFile = join(work, DB);
    const live = new Database(dbFile, { readonly: false, create: false });
    try {
      live.exec('PRAGMA busy_timeout = 10000');
      live.query('VACUUM INTO ?').run(snapshotFile);
    } finally {
      live.close();
    }
    // 2. what it refers to; files it cannot vouch for are cleared in the copy
    const snap = new Database(snapshotFile);
    let jobIds: Set<number>;
    /** jobs a runner had taken at the snapshot: only their traces belong to it */
    let startedIds: Set<number>;
    const artifacts: { id: number; size: number }[] = [];
    const reports: { id: number; type: string; size: number }[] = [];
    let testReportIds: number[] = [];
    try {
      jobIds = new Set((snap.query('SELECT id FROM jobs').values() as [number][]).map((r) => r[0]));
      startedIds = new Set((snap.query('SELECT id FROM jobs WHERE started_at IS NOT NULL').values() as [number][]).map((r) => r[0]));
      for (const [id, size] of snap.query('SELECT id, artifacts_size FROM jobs WHERE artifacts_file IS NOT NULL').values() as [number, number | null][]) {
        artifacts.push({ id, size: size ?? -1 });
      }
      for (const [id, type, size] of snap.query('SELECT job_id, file_type, size FROM job_artifacts ORDER BY job_id, file_type').values() as [number, string, number][]) {
        reports.push({ id, type, size });
      }
      testReportIds = (snap.query('SELECT job_id FROM test_reports ORDER BY job_id').values() as [number][]).map((r) => r[0]);
    } catch (e) {
      snap.close();
      throw e;
    }
    out = openSync(part, 'w', 0o600);
    const tar = new TarWriter(out);
    const files: Manifest['files'] = {};
    const started = opts.now?.() ?? Date.now();
    /** Copies `name` when it exists with `size` bytes (any size when null); false when left out. */
    const copy = (name: string, size: number | null): boolean => {
      if (!allowed(name)) return false; // a name restore would refuse is never written
      let fd: number;
      try { fd = openSync(join(dataDir, name), 'r'); } catch { return false; }
      try {
        const st = fstatSync(fd);
        if (size !== null && st.size !== size) return false;
        copyEntry(tar, name, fd, st.size, files, st.mtimeMs);
        return true;
      } finally {
        closeSync(fd);
      }
    };
    tar.folder('artifacts', started);
    let artifactCount = 0;
    const dropped: number[] = [];
    for (const a of artifacts) {
      if (copy(`artifacts/${a.id}.zip`, a.size)) artifactCount++;
      else dropped.push(a.id);
    }
    let reportCount = 0;
    const droppedReports: { id: number; type: string }[] = [];
    for (const r of reports) {
      if (copy(`artifacts/${r.id}.${r.type}`, r.size)) reportCount++;
      else droppedReports.push(r);
    }
    const droppedTestReports: number[] = [];
    for (const id of testReportIds) {
      if (copy(`artifacts/${id}.junit.json`, null)) reportCount++;
      else droppedTestReports.push(id);
    }
    tar.folder('traces', started);
    let traceCount = 0;
    let traceNames: string[] = [];
    try { traceNames = readdirSync(join(dataDir, 'traces')); } catch { /* no traces yet */ }
    for (const f of traceNames) {
      const m = TRACE.exec(`traces/${f}`);
      if (!m || !startedIds.has(Number(m[1]))) continue;
      if (copy(`traces/${f}`, null)) traceCount++; // else deleted meanwhile
    }
    if (!opts.withoutSecretKey) copy(KEY, null);
    try {
      snap.transaction(() => {
        const clear = snap.prepare('UPDATE jobs SET artifacts_file = NULL, artifacts_size = NULL, artifacts_expire_at = NULL WHERE id = ?');
        for (const id of dropped) clear.run(id);
        const forget = snap.prepare('DELETE FROM job_artifacts WHERE job_id = ? AND file_type = ?');
        for (const r of droppedReports) forget.run(r.id, r.type);
        const unreport = snap.prepare('DELETE FROM test_reports WHERE job_id = ?');
        for (const id of droppedTestReports) unreport.run(id);
      })();
    } finally {
      snap.close();
    }
    const dbFd = openSync(snapshotFile, 'r');
    try { copyEntry(tar, DB, dbFd, fstatSync(dbFd).size, files, started); } finally { closeSync(dbFd); }
    const manifest: Manifest = {
      format: BACKUP_FORMAT, createdAt: new Date(started).toISOString(), version: opts.version, files,
      jobs: jobIds.size, traces: traceCount, artifacts: artifactCount, artifactsDropped: dropped.length,
      reports: reportCount, reportsDropped: droppedReports.length + droppedTestReports.length,
    };
    tar.bytes('backup.json', new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n'), started);
    tar.end();
    closeSync(out);
    out = undefined;
    renameSync(part, target);
    return manifest;
  } finally {
    if (out !== undefined) closeSync(out);
    rmSync(part, { force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

/** Which names may come out of an archive, and where they go. */
function allowed(name: string): boolean {
  return name === DB || name === 'backup.json' || name === KEY || name === 'traces/' || name === 'artifacts/'
    || TRACE.test(name) || ARTIFACT.test(name) || REPORT.test(name);
}

export function restore(from: string, dataDir: string): Manifest {
  const target = resolve(dataDir);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new BackupError(`--data-dir ${dataDir} is not empty; restore makes a new data dir and never overwrites one`);
  }
  let input: number;
  try { input = openSync(from, 'r'); } catch (e) { throw new BackupError(`--from ${from}: ${(e as { code?: string }).code ?? (e as Error).message}`); }
  mkdirSync(dirname(target), { recursive: true });
  const staging = mkdtempSync(join(dirname(target), `.${basename(target)}.restoring-`));
  try {
    const seen: Manifest['files'] = {};
    let manifestText: string | null = null;
    for (const d of ['traces', 'artifacts', 'tmp']) mkdirSync(join(staging, d));
    readTar(input, (entry, content) => {
      if (!allowed(entry.name)) throw new BackupError(`--from ${from}: unexpected entry "${entry.name}" (not a Baton backup?)`);
      if (entry.type === 'folder') return;
      if (entry.name === 'backup.json') {
        if (entry.size > 64 * 1024 * 1024) throw new BackupError('backup.json is implausibly large');
        const parts: Uint8Array[] = [];
        content((c) => parts.push(c.slice()));
        manifestText = Buffer.concat(parts).toString('utf8');
        return;
      }
      const hash = createHash('sha256');
      const fd = openSync(join(staging, entry.name), 'wx', entry.name === KEY ? 0o600 : 0o666);
      try {
        content((c) => {
          hash.update(c);
          for (let off = 0; off < c.length;) off += writeSync(fd, c, off, c.length - off);
        });
      } finally {
        closeSync(fd);
      }
      seen[entry.name] = { size: entry.size, sha256: hash.digest('hex') };
    });
    if (manifestText === null) throw new BackupError(`--from ${from}: no backup.json (not a Baton backup, or cut short)`);
    let manifest: Manifest;
    try { manifest = JSON.parse(manifestText) as Manifest; } catch { throw new BackupError('backup.json is not JSON'); }
    if (!READABLE_FORMATS.includes(manifest.format)) throw new BackupError(`--from ${from}: format "${manifest.format}" is not ${READABLE_FORMATS.join(' or ')}`);
    const wanted = Object.keys(manifest.files).sort();
    const got = Object.keys(seen).sort();
    const missing = wanted.filter((n) => !seen[n]);
    const extra = got.filter((n) => !manifest.files[n]);
    if (missing.length || extra.length) throw new BackupError(`--from ${from}: entries differ from backup.json (missing ${missing.slice(0, 5).join(', ') || 'none'}; unlisted ${extra.slice(0, 5).join(', ') || 'none'})`);
    const damaged = wanted.filter((n) => seen[n].size !== manifest.files[n].size || seen[n].sha256 !== manifest.files[n].sha256);
    if (damaged.length) throw new BackupError(`--from ${from}: ${damaged.length} entr${damaged.length === 1 ? 'y does' : 'ies do'} not match backup.json (${damaged.slice(0, 5).join(', ')})`);
    if (!seen[DB]) throw new BackupError(`--from ${from}: no ${DB}`);
    const db = new Database(join(staging, DB));
    try {
      const check = db.query('PRAGMA integrity_check').values() as [string][];
      if (check[0]?.[0] !== 'ok') throw new BackupError(`the database in ${from} fails its integrity check: ${check[0]?.[0]}`);
      db.exec('PRAGMA journal_mode = WAL');
    } finally {
      db.close();
    }
    if (existsSync(target)) rmdirSync(target); // empty, checked above
    renameSync(staging, target);
    return manifest;
  } finally {
    closeSync(input);
    rmSync(staging, { recursive: true, force: true });
  }
}
