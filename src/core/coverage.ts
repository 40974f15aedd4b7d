/**
 * `coverage: '/regex/'` (spec ci-yaml.md §8): when a job ends, its log is scanned from the
 * last line backwards; on the first line where the pattern matches, GitLab's
 * `scan(line).flatten.last` is taken (the last group of the last match, or the last match),
 * and the first number in it is the coverage. The pattern comes from users, so it goes
 * through core/untrusted-regexp.ts like every user regex (RE2 semantics, linear time; the
 * `/…/flags` literal parsed as GitLab's RubySyntax); a pattern RE2 refuses, or a last group
 * that took no part in the match, means no coverage, silently, as in GitLab. The scan runs
 * after the job's end was committed, reading the log in chunks from the end and yielding
 * between them, so a 100 MB log neither blocks the server nor holds memory.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { jobs } from '../db/schema';
import type { CoreDeps } from './context';
import { compileSlashPattern, type UntrustedRegexp } from './untrusted-regexp';

const CHUNK = 256 * 1024;
const MAX_LINE = 1024 * 1024;

/** The compiled `coverage:` literal, or null when it is not one RE2 accepts. */
export function coveragePattern(pattern: string): UntrustedRegexp | null {
  try {
    return compileSlashPattern(pattern);
  } catch {
    return null;
  }
}

/**
 * The coverage a log shows, `lines` being its lines, last first: a number, `null` when these
 * lines show none, or `'stop'` when GitLab would give up (its last group did not take part).
 */
export function coverageIn(re: UntrustedRegexp, lines: Iterable<string>): number | null | 'stop' {
  for (const line of lines) {
    const found = re.scan(line).flat();
    if (found.length === 0) continue;
    const last = found.at(-1);
    if (last === undefined) return 'stop';
    // fixed pattern, no user input
    const number = /\d+(\.\d+)?/.exec(last);
    if (number) return Number(number[0]);
  }
  return null;
}

/** The coverage of a whole log given as lines (last first) for a `/pattern/`, or null. */
export function coverageOf(pattern: string, lines: Iterable<string>): number | null {
  const re = coveragePattern(pattern);
  if (re === null) return null;
  const v = coverageIn(re, lines);
  return v === 'stop' ? null : v;
}

export class CoverageService {
  private running = new Set<Promise<void>>();

  constructor(private deps: CoreDeps) {}

  /** Scans the log of a job that just ended, when it has `coverage:`. */
  schedule(jobId: number) {
    const job = this.deps.db.select({ spec: jobs.spec }).from(jobs).where(eq(jobs.id, jobId)).get();
    const pattern = job?.spec.coverage;
    if (!pattern) return;
    const task = this.scan(jobId, pattern).catch((e) => this.deps.log.warn({ err: e, job: jobId }, 'coverage not read')).finally(() => this.running.delete(task));
    this.running.add(task);
  }

  /** Resolves when every scan started so far has ended (tests, shutdown). */
  async idle() {
    while (this.running.size) await Promise.all([...this.running]);
  }

  private async scan(jobId: number, pattern: string) {
    const re = coveragePattern(pattern);
    if (re === null) return;
    let value: number | null | 'stop' = null;
    // Chunks from the end; each chunk's lines are checked, newest first, before the next is read.
    for await (const batch of linesFromEnd(this.deps.store.traces, jobId)) {
      value = coverageIn(re, batch);
      if (value !== null) break;
      await new Promise((r) => setImmediate(r));
    }
    if (value === null || value === 'stop') return;
    this.deps.db.update(jobs).set({ coverage: value }).where(eq(jobs.id, jobId)).run();
  }
}

/** The lines of a job's log in batches, last line first; a line cut by a chunk border is kept whole. */
async function* linesFromEnd(traces: string, jobId: number): AsyncGenerator<string[]> {
  let fd: number;
  try { fd = openSync(`${traces}/${Math.trunc(jobId)}.log`, 'r'); } catch { return; }
  try {
    let pos = fstatSync(fd).size;
    let carry = Buffer.alloc(0);
    while (pos > 0) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, pos);
      const all = Buffer.concat([buf, carry]);
      // The bytes before the first newline may continue in the previous chunk (split on bytes,
      // so no character is cut); a line longer than MAX_LINE keeps only its end.
      const nl = pos > 0 ? all.indexOf(0x0a) : -1;
      if (pos > 0 && nl === -1) { carry = all.subarray(Math.max(0, all.length - MAX_LINE)); continue; }
      carry = pos > 0 ? Buffer.from(all.subarray(0, nl)) : Buffer.alloc(0);
      const text = all.subarray(pos > 0 ? nl + 1 : 0).toString('utf8');
      yield text.split('\n').reverse().map((l) => l.replace(/\r$/, ''));
    }
    if (carry.length) yield [carry.toString('utf8').replace(/\r$/, '')];
  } finally {
    closeSync(fd);
  }
}
