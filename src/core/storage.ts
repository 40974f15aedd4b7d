/**
 * The blob store: job traces and artifact archives on local disk under the data dir.
 * File names are derived from job ids only — no request data ever becomes a path.
 * This is the seam where an object store would plug in later.
 *
 *   <data>/traces/<job id>.log        append-only trace
 *   <data>/artifacts/<job id>.zip     the archive, renamed into place when complete
 *   <data>/artifacts/<job id>.<type>  a report (junit, dotenv, …) and derived files (junit.json)
 *   <data>/tmp/                        uploads in progress (cleared at start)
 */
import { closeSync, constants, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DomainError } from './errors';
import { systemClock, type Clock } from '../clock';

/** At most this many trace files are kept open (well under common fd limits of 1024). */
const OPEN_TRACES = 256;
/** An open trace file is asked for its length and link count at least this often (ms). */
export const TRACE_RECHECK_MS = 1000;
/** Line counts remembered per trace (countTraceLines). */
const LINE_MARKS = 32;

interface OpenTrace { fd: number; size: number; checked: number }

export class LocalBlobStore {
  readonly traces: string;
  readonly artifacts: string;
  readonly tmp: string;

  constructor(readonly root: string, private readonly clock: Clock = systemClock) {
    this.traces = join(root, 'traces');
    this.artifacts = join(root, 'artifacts');
    this.tmp = join(root, 'tmp');
    for (const d of [this.traces, this.artifacts, this.tmp]) mkdirSync(d, { recursive: true });
    // An upload cut off by a crash never became visible; its temp file is garbage now. Only
    // files of dead processes go: a second Baton on this data dir may be uploading right now.
    for (const f of readdirSync(this.tmp)) if (!ownedByLiveProcess(f)) rmSync(join(this.tmp, f), { force: true });
  }

  private tracePath(jobId: number) { return join(this.traces, `${Math.trunc(jobId)}.log`); }
  artifactPath(jobId: number) { return join(this.artifacts, `${Math.trunc(jobId)}.zip`); }

  /**
   * Trace files of running jobs stay open between appends (most recently used last):
   * runners PATCH several times a second, and open + close were half of an append's
   * syscalls (bench P4). Closed when the job ends, on eviction and by close().
   *
   * `size` is the length as this process last saw it (opened, or after its own write), so
   * an append at that offset needs no fstat (bench P4). Another process on this data dir may
   * have appended since; then the runner's next offset is past ours, and a mismatch asks the
   * file before answering. Writes are positional: a chunk the runner sends again (its answer
   * from the other process was lost) lands on the same bytes — a runner's log at an offset is
   * the same whoever writes it. The file is asked at least every TRACE_RECHECK_MS anyway, so
   * one removed or changed behind the server is noticed within that (the runner then resends
   * from the stored length, so nothing acknowledged meanwhile is lost).
   */
  private openTraces = new Map<number, OpenTrace>();

  /** Reads the open trace's length from the file (true), or closes it if it no longer names the file (false). */
  private refreshTrace(jobId: number, t: OpenTrace): boolean {
    try {
      const st = fstatSync(t.fd);
      t.checked = this.clock.now();
      // Deleted meanwhile (pipeline or project removed, maybe by another process): writing
      // to the orphaned inode would acknowledge bytes nobody can read.
      if (st.nlink > 0) {
        t.size = st.size;
        return true;
      }
    } catch { /* fall through: reopen */ }
    this.closeTrace(jobId);
    return false;
  }

  private openTrace(jobId: number): OpenTrace {
    const cached = this.openTraces.get(jobId);
    if (cached) {
      this.openTraces.delete(jobId);
      this.openTraces.set(jobId, cached);
      return cached;
    }
    // Not O_APPEND: on Linux that makes every write go to the end, whatever its position.
    const fd = openSync(this.tracePath(jobId), constants.O_WRONLY | constants.O_CREAT, 0o666);
    const t: OpenTrace = { fd, size: 0, checked: this.clock.now() };
    this.openTraces.set(jobId, t);
    if (this.openTraces.size > OPEN_TRACES) {
      const oldest = this.openTraces.keys().next().value!;
      this.closeTrace(oldest);
    }
    try { t.size = fstatSync(fd).size; } catch (e) { this.closeTrace(jobId); throw e; }
    return t;
  }

  /** Forgets the open descriptor of a job's trace (the job ended, or it is evicted). */
  closeTrace(jobId: number) {
    const t = this.openTraces.get(jobId);
    if (t === undefined) return;
    this.openTraces.delete(jobId);
    try { closeSync(t.fd); } catch { /* already gone */ }
  }

  /** Closes every open trace file. */
  close() {
    for (const jobId of [...this.openTraces.keys()]) this.closeTrace(jobId);
  }

  traceLength(jobId: number): number {
    const cached = this.openTraces.get(jobId);
    if (cached && this.refreshTrace(jobId, cached)) return cached.size;
    try { return statSync(this.tracePath(jobId)).size; } catch { return 0; }
  }

  /**
   * Writes `bytes` at `start` only if the trace is exactly `start` bytes long; returns the
   * new length, or the stored length as `mismatch` when the offset is wrong. An offset other
   * than the length this process knows is checked against the file before it is refused.
   */
  appendTrace(jobId: number, start: number, bytes: Uint8Array): { length: number; mismatch: boolean } {
    let t: OpenTrace;
    try {
      t = this.openTrace(jobId);
      const stale = start !== t.size || this.clock.now() - t.checked >= TRACE_RECHECK_MS;
      if (stale && !this.refreshTrace(jobId, t)) t = this.openTrace(jobId);
    } catch (e) {
      throw storageError(e);
    }
    if (start !== t.size) return { length: t.size, mismatch: true };
    try {
      if (bytes.length > 0) writeAll(t.fd, bytes, start);
      t.size = start + bytes.length;
      return { length: t.size, mismatch: false };
    } catch (e) {
      // A slice cut short (disk full) is taken back whole: the runner sends it again.
      try { ftruncateSync(t.fd, start); } catch { /* the next append re-syncs with a 416 */ }
      this.closeTrace(jobId);
      throw storageError(e);
    }
  }

  replaceTrace(jobId: number, bytes: Uint8Array): number {
    this.lineMarks.delete(jobId);
    this.closeTrace(jobId);
    const fd = openSync(this.tracePath(jobId), 'a+');
    try {
      ftruncateSync(fd, 0);
      writeAll(fd, bytes);
      return bytes.length;
    } catch (e) {
      throw storageError(e);
    } finally {
      closeSync(fd);
    }
  }

  /** The trace as a Blob, for streaming it (or a range of it) in an answer without reading it into memory. */
  traceBlob(jobId: number): Blob {
    return Bun.file(this.tracePath(jobId));
  }

  /** The trace from `offset` on (whole trace by default), at most `limit` bytes. */
  readTrace(jobId: number, offset = 0, limit = Infinity): Uint8Array {
    let fd: number;
    try { fd = openSync(this.tracePath(jobId), 'r'); } catch { return new Uint8Array(0); }
    try {
      const size = fstatSync(fd).size;
      if (offset >= size) return new Uint8Array(0);
      const buf = new Uint8Array(Math.min(size - offset, limit));
      let read = 0;
      while (read < buf.length) {
        const n = readSync(fd, buf, read, buf.length - read, offset + read);
        if (n <= 0) break;
        read += n;
      }
      return buf.subarray(0, read);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Line counts already made, per trace: (offset, lines before it), so that asking again for
   * the tail of a long log counts only what was added since (a trace only grows, except when
   * replaced, which forgets them). Bounded: LINE_MARKS per trace, OPEN_TRACES traces.
   */
  private lineMarks = new Map<number, { offset: number; lines: number }[]>();

  /**
   * How many lines end before byte `offset` of a trace (so a page that shows the tail of a
   * long log can number its lines): counted from the nearest earlier count, in 1 MiB slices,
   * never the whole file at once.
   */
  countTraceLines(jobId: number, offset: number): number {
    const marks = this.lineMarks.get(jobId) ?? [];
    const from = marks.filter((m) => m.offset <= offset).at(-1) ?? { offset: 0, lines: 0 };
    if (from.offset === offset) return from.lines;
    let fd: number;
    try { fd = openSync(this.tracePath(jobId), 'r'); } catch { return 0; }
    let lines = from.lines;
    try {
      const buf = Buffer.allocUnsafe(Math.min(2 ** 20, offset - from.offset));
      for (let at = from.offset; at < offset;) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, offset - at), at);
        if (n <= 0) break;
        for (let i = buf.indexOf(10, 0); i !== -1 && i < n; i = buf.indexOf(10, i + 1)) lines++;
        at += n;
      }
    } finally {
      closeSync(fd);
    }
    const next = [...marks, { offset, lines }].sort((a, b) => a.offset - b.offset).slice(-LINE_MARKS);
    this.lineMarks.delete(jobId);
    this.lineMarks.set(jobId, next);
    if (this.lineMarks.size > OPEN_TRACES) this.lineMarks.delete(this.lineMarks.keys().next().value!);
    return lines;
  }

  deleteTrace(jobId: number) {
    this.closeTrace(jobId);
    this.lineMarks.delete(jobId);
    rmSync(this.tracePath(jobId), { force: true });
  }

  /** A fresh temp file for an upload in progress. */
  tempPath(): string { return join(this.tmp, `${process.pid}-${BOOT_ID}-${Date.now()}-${randomBytes(8).toString('hex')}.part`); }

  /** Makes a finished upload the job's archive in one atomic rename. */
  commitArtifact(jobId: number, temp: string) {
    try { renameSync(temp, this.artifactPath(jobId)); } catch (e) { throw storageError(e); }
  }

  artifactSize(jobId: number): number | null {
    try { return statSync(this.artifactPath(jobId)).size; } catch { return null; }
  }

  deleteArtifact(jobId: number) { rmSync(this.artifactPath(jobId), { force: true }); }

  /**
   * A report file of a job (`artifacts:reports`), or what Baton derived from one
   * (`junit.json`): the name is built from the id and a type from Baton's own list only.
   */
  reportPath(jobId: number, type: string) {
    if (!/^[a-z_0-9.]+$/.test(type)) throw new Error(`not a report type: ${type}`);
    return join(this.artifacts, `${Math.trunc(jobId)}.${type}`);
  }

  commitReport(jobId: number, type: string, temp: string) {
    try { renameSync(temp, this.reportPath(jobId, type)); } catch (e) { throw storageError(e); }
  }

  /** Every report file of a job (the job is gone). */
  deleteReports(jobId: number) {
    const prefix = `${Math.trunc(jobId)}.`;
    for (const f of readdirSync(this.artifacts)) if (f.startsWith(prefix) && f !== `${prefix}zip`) rmSync(join(this.artifacts, f), { force: true });
  }

  writeFile(path: string, bytes: Uint8Array | string) {
    const temp = this.tempPath();
    try {
      const fd = openSync(temp, 'w');
      try { writeAll(fd, typeof bytes === 'string' ? Buffer.from(bytes) : bytes); } finally { closeSync(fd); }
      renameSync(temp, path);
    } catch (e) {
      rmSync(temp, { force: true });
      throw storageError(e);
    }
  }
  discard(temp: string) { rmSync(temp, { force: true }); }
}

/** Tells this process's temp files from those of an earlier process that had the same pid. */
const BOOT_ID = randomBytes(4).toString('hex');

/** `<pid>-<boot>-…`: is that process alive (and, if it is this pid, this very process)? */
function ownedByLiveProcess(file: string): boolean {
  const m = /^(\d+)-([0-9a-f]{8})-/.exec(file);
  if (!m) return false;
  const pid = Number(m[1]);
  if (pid === process.pid) return m[2] === BOOT_ID;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/** Writes all of `bytes`, at `position` if given (else at the descriptor's offset). */
function writeAll(fd: number, bytes: Uint8Array, position?: number) {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off, position === undefined ? null : position + off);
}

/** Disk full or read-only become errors a user can act on, not 500s. */
export function storageError(e: unknown): Error {
  const code = (e as { code?: string })?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new DomainError('storage_full', 'Insufficient storage: the data directory is full');
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return new DomainError('unavailable', 'Storage unavailable: the data directory is not writable');
  return e instanceof Error ? e : new Error(String(e));
}
