/**
 * `baton backup` and `baton restore`: one tar archive of a data dir, taken while Baton serves.
 *
 * backup:
 * 1. the database: `VACUUM INTO` a temp file — one read transaction, so a consistent
 *    snapshot, taken without stopping writers (WAL: readers never block the writer);
 * 2. the files that snapshot refers to, each opened and then read up to the size it had
 *    when opened (a rename or an append afterwards does not change what is copied):
 *    - an artifact only if the snapshot names one for its job and the file has the size the
 *      snapshot recorded; a file renamed into place after the snapshot (a second upload) or
 *      deleted since (expiry, eviction) is left out, and the job's archive columns are cleared
 *      in the copied database, so the restored instance never names a file it lacks;
 *    - a job's trace if the snapshot has the job. A trace is append-only and the database
 *      does not record its length, so the copy is the file's bytes at the moment it is read:
 *      complete for jobs that had ended at the snapshot, a prefix of the final log for jobs
 *      still running (their runner resynchronises with a 416 if it talks to the restored
 *      instance); traces of jobs created after the snapshot are left out;
 * 3. `backup.json` last: the format, the time, and the size and sha256 of every entry.
 * The archive is written to `<to>.part` and renamed into place when complete.
 *
 * restore: refuses a non-empty target; unpacks into a sibling staging folder, accepting only
 * the names a backup holds (no path from the archive reaches the file system), checks every
 * entry against backup.json and the database with `PRAGMA integrity_check`, then renames the
 * staging folder to the target. Repository caches (git-cache/) are not in a backup; they are
 * fetched again.
 */
import { Database } from 'bun:sqlite';
import { createHash } from 'node:crypto';
import {
  closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, renameSync, rmdirSync, rmSync, writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { readTar, TarWriter } from './tar';

export const BACKUP_FORMAT = 'baton-backup/1';

export interface Manifest {
  format: typeof BACKUP_FORMAT;
  createdAt: string;
  version: string;
  /** name → size and sha256 of every other entry of the archive */
  files: Record<string, { size: number; sha256: string }>;
  jobs: number;
  traces: number;
  artifacts: number;
  /** archives the snapshot named but the disk no longer had as recorded (cleared in the copy) */
  artifactsDropped: number;
}

export class BackupError extends Error {}

const DB = 'baton.db';
const TRACE = /^traces\/([1-9]\d{0,15})\.log$/;
const ARTIFACT = /^artifacts\/([1-9]\d{0,15})\.zip$/;

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

export function backup(dataDir: string, to: string, opts: { version: string; now?: () => number }): Manifest {
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
    // 2. what it refers to; archives it cannot vouch for are cleared in the copy
    const snap = new Database(snapshotFile);
    let jobIds: Set<number>;
    const artifacts: { id: number; size: number }[] = [];
    const dropped: number[] = [];
    try {
      jobIds = new Set((snap.query('SELECT id FROM jobs').values() as [number][]).map((r) => r[0]));
      for (const [id, size] of snap.query('SELECT id, artifacts_size FROM jobs WHERE artifacts_file IS NOT NULL').values() as [number, number | null][]) {
        artifacts.push({ id, size: size ?? -1 });
      }
    } catch (e) {
      snap.close();
      throw e;
    }
    out = openSync(part, 'w');
    const tar = new TarWriter(out);
    const files: Manifest['files'] = {};
    const started = opts.now?.() ?? Date.now();
    tar.folder('artifacts', started);
    let artifactCount = 0;
    for (const a of artifacts) {
      const name = `artifacts/${a.id}.zip`;
      let fd: number;
      try { fd = openSync(join(dataDir, name), 'r'); } catch { dropped.push(a.id); continue; }
      try {
        const st = fstatSync(fd);
        if (st.size !== a.size) { dropped.push(a.id); continue; }
        copyEntry(tar, name, fd, st.size, files, st.mtimeMs);
        artifactCount++;
      } finally {
        closeSync(fd);
      }
    }
    tar.folder('traces', started);
    let traceCount = 0;
    let traceNames: string[] = [];
    try { traceNames = readdirSync(join(dataDir, 'traces')); } catch { /* no traces yet */ }
    for (const f of traceNames) {
      const m = TRACE.exec(`traces/${f}`);
      if (!m || !jobIds.has(Number(m[1]))) continue;
      let fd: number;
      try { fd = openSync(join(dataDir, 'traces', f), 'r'); } catch { continue; } // deleted meanwhile
      try {
        const st = fstatSync(fd);
        copyEntry(tar, `traces/${f}`, fd, st.size, files, st.mtimeMs);
        traceCount++;
      } finally {
        closeSync(fd);
      }
    }
    try {
      if (dropped.length) {
        const clear = snap.prepare('UPDATE jobs SET artifacts_file = NULL, artifacts_size = NULL, artifacts_expire_at = NULL WHERE id = ?');
        snap.transaction(() => { for (const id of dropped) clear.run(id); })();
      }
    } finally {
      snap.close();
    }
    const dbFd = openSync(snapshotFile, 'r');
    try { copyEntry(tar, DB, dbFd, fstatSync(dbFd).size, files, started); } finally { closeSync(dbFd); }
    const manifest: Manifest = {
      format: BACKUP_FORMAT, createdAt: new Date(started).toISOString(), version: opts.version, files,
      jobs: jobIds.size, traces: traceCount, artifacts: artifactCount, artifactsDropped: dropped.length,
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
  return name === DB || name === 'backup.json' || name === 'traces/' || name === 'artifacts/' || TRACE.test(name) || ARTIFACT.test(name);
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
      const fd = openSync(join(staging, entry.name), 'wx');
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
    if (manifest.format !== BACKUP_FORMAT) throw new BackupError(`--from ${from}: format "${manifest.format}" is not ${BACKUP_FORMAT}`);
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
