/**
 * `GET …/-/jobs/:id/raw`: the log as plain text, whole or one byte range (`Range: bytes=S-E`,
 * `bytes=S-`, `bytes=-N`), streamed from the store. A range answer says in `X-Log-Lines-Before`
 * how many lines end before its first byte, so a page that shows the tail of a long log first
 * (client/log.ts) can number its lines.
 */
import type { Core } from '../core';
import type { Job } from '../db/schema';
import { SECURITY_HEADERS } from './security';

export function rawLog(core: Core, job: Job, request: Request): Response {
  const length = core.jobs.traceLength(job.id);
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'content-type': 'text/plain; charset=utf-8', 'accept-ranges': 'bytes', 'cache-control': 'no-store',
    'content-disposition': `inline; filename="job-${job.id}.log"`,
  };
  const blob = core.jobs.traceBlob(job.id);
  const range = request.headers.get('range');
  if (range === null || length === 0) {
    return new Response(length === 0 ? '' : blob.slice(0, length), { headers: { ...headers, 'content-length': String(length) } });
  }
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  let start: number;
  let end: number;
  if (!m || (m[1] === '' && m[2] === '')) return unsatisfiable(length, headers);
  if (m[1] === '') {
    start = Math.max(0, length - Number(m[2]));
    end = length - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? length - 1 : Math.min(Number(m[2]), length - 1);
  }
  if (start >= length || end < start) return unsatisfiable(length, headers);
  return new Response(blob.slice(start, end + 1), {
    status: 206,
    headers: {
      ...headers, 'content-length': String(end - start + 1), 'content-range': `bytes ${start}-${end}/${length}`,
      'x-log-lines-before': String(core.jobs.traceLinesBefore(job.id, start)),
    },
  });
}

function unsatisfiable(length: number, headers: Record<string, string>): Response {
  return new Response('', { status: 416, headers: { ...headers, 'content-range': `bytes */${length}` } });
}
