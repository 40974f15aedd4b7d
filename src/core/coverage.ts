/**
 * `coverage: '/regex/'` (spec ci-yaml.md §8): when a job ends, its log is scanned from the
 * last line backwards; on the first line where the pattern matches, the last match (its last
 * group, if it has groups) is taken, and the first number in it is the coverage. The pattern
 * comes from users, so it runs on RE2 (re2js: linear time, no catastrophic backtracking);
 * a pattern RE2 refuses means no coverage, silently, as in GitLab. The scan runs after the
 * job's end was committed, reading the log in chunks from the end and yielding between them,
 * so a 100 MB log neither blocks the server nor holds memory.
 * (core/untrusted-regexp.ts, written alongside, will own the pattern parsing once on main.)
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { RE2JS } from 're2js';
import { jobs } from '../db/schema';
import type { CoreDeps } from './context';

const CHUNK = 256 * 1024;
const MAX_LINE = 1024 * 1024;
/** GitLab's RubySyntax: `/pattern/flags`, flags among i, s, m, U. */
const SLASHES = /^\/(.*)\/([ismU]*)$/s;

/** The coverage a log shows for a `/pattern/`, or null. `lines` yields the log's lines, last first. */
export function coverageOf(pattern: string, lines: Iterable<string>): number | null {
  const m = SLASHES.exec(pattern.trim());
  if (!m) return null;
  let re: RE2JS;
  try {
    re = RE2JS.compile(m[2] ? `(?${m[2]})${m[1]}` : m[1]);
  } catch {
    return null;
  }
  for (const line of lines) {
    const found = lastMatch(re, line);
    if (found === null) continue;
    const number = /\d+(\.\d+)?/.exec(found);
    if (number) return Number(number[0]);
  }
  return null;
}

/** The last match on a line (its last group when the pattern has groups), or null. */
function lastMatch(re: RE2JS, line: string): string | null {
  const matcher = re.matcher(line);
  let last: string | null = null;
  const groups = re.groupCount();
  while (matcher.find()) {
    last = groups > 0 ? matcher.group(groups) : matcher.group(0);
    if (matcher.end() === matcher.start() && matcher.end() >= line.length) break;
  }
  return last;
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
    const lines: string[] = [];
    let value: number | null = null;
    // Chunks from the end; each chunk's lines are checked, newest first, before the next is read.
    for await (const batch of linesFromEnd(this.deps.store.traces, jobId)) {
      lines.length = 0;
      lines.push(...batch);
      value = coverageOf(pattern, lines);
      if (value !== null) break;
      await new Promise((r) => setImmediate(r));
    }
    if (value === null) return;
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
