/**
 * Artifact upload and download over HTTP, shared by both runner protocols (and the REST
 * API's download): the multipart body is streamed part by part into the core's store.
 */
import type { Core } from '../core';
import type { Job } from '../db/schema';
import { badRequest } from '../core/errors';
import { boundaryOf, MultipartReader } from '../http/multipart';

/** Streams the `file` part of a multipart upload into the job's archive (or, with `report`, one of its reports). */
export async function receiveArtifacts(core: Core, job: Job, request: Request, expireIn: string | undefined,
  report?: { type: string; format: string | null }): Promise<Job> {
  const boundary = boundaryOf(request.headers.get('content-type'));
  if (!boundary || !request.body) throw badRequest('400 (Bad request) "Missing artifacts file!" not given');
  const reader = new MultipartReader(request.body, boundary);
  const length = Number(request.headers.get('content-length') ?? NaN);
  const declared = Number.isSafeInteger(length) && length >= 0 ? length : undefined;
  try {
    let stored: Job | null = null;
    for (let part = await reader.nextPart(); part; part = await reader.nextPart()) {
      if (part.name === 'file' && part.filename !== null && !stored) {
        if (report) {
          await core.artifacts.storeReport(job, report.type, report.format, part.filename, reader.partData(), expireIn);
          stored = core.jobs.get(job.id);
        } else {
          stored = await core.artifacts.store(job, part.filename, reader.partData(), expireIn, declared);
        }
      } else if (part.name === 'expire_in' && !stored) {
        expireIn = (await reader.partText()).trim();
      } else {
        await reader.partText(1024 * 1024);
      }
    }
    if (!stored) throw badRequest('400 (Bad request) "Missing artifacts file!" not given');
    return stored;
  } finally {
    reader.cancel();
  }
}

/** The download is the same for the runners, the REST API and the dashboard. */
export { artifactDownload } from '../http/download';
