/**
 * The incremental trace PATCH, shared by both runner protocols: authenticate the job token,
 * require `Content-Range`, read the slice (bounded), append at its start offset. Each
 * protocol says how the outcome is written on the wire (its status header, its body).
 */
import type { Core } from '../core';
import { DomainError } from '../core/errors';
import type { TraceJob } from '../core/jobs';
import { rangeStart } from '../core/trace';
import { json } from '../http/respond';
import { idParam, jobToken, readBody } from './credentials';

export interface TraceDialect {
  tokenHeader: 'build-token' | 'job-token';
  /** v1: the project's runners token is also a build token; v4: only the job's own */
  allowProjectToken: boolean;
  /** `Build-Status` (v1) or `Job-Status` (v4) */
  statusHeader: string;
  /** the 202 answer, given the job status and the stored length */
  accepted(status: string, length: number, job: TraceJob): Response;
  /** headers a 416 carries besides `Range` */
  rangeHeaders?(job: TraceJob): Record<string, string>;
}

export async function patchTrace(core: Core, id: string, request: Request, d: TraceDialect): Promise<Response> {
  const token = jobToken(request, d.tokenHeader);
  const job = core.jobs.authenticateTrace(idParam(id), token, { allowProjectToken: d.allowProjectToken });
  const range = request.headers.get('content-range');
  if (range === null) return json({ error: '400 Missing header Content-Range' }, 400);
  const bytes = await readBody(request, core.deps.limits.maxTraceSize);
  if (bytes === null) return json({ message: '413 Request Entity Too Large' }, 413);
  try {
    // Only the start counts: 1.x sends an exclusive end, 11.x an inclusive one.
    const { length, status } = core.jobs.appendTrace(job, rangeStart(range), bytes, token);
    return d.accepted(status, length, job);
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    // The stored length never exceeds what this job's runner sent; a larger one crashes runners.
    if (e.code === 'range_mismatch') {
      return json({ error: '416 Range Not Satisfiable' }, 416, { Range: `0-${e.details!.length}`, ...d.rangeHeaders?.(job) });
    }
    // Over --max-trace-size the core fails the job; 403 makes a runner stop at once, whereas
    // a 413 would be retried every tick until the script ends.
    if (e.code === 'too_large') {
      return json({ message: `403 Forbidden  - ${e.message}` }, 403, { [d.statusHeader]: core.jobs.get(job.id).status });
    }
    throw e;
  }
}
