/** A job's artifacts archive as an HTTP answer, shared by the runner APIs, the REST API and the dashboard. */
import type { Core } from '../core';
import type { Job } from '../db/schema';

/** The archive, streamed from disk. */
export function artifactDownload(core: Core, job: Job): Response {
  const file = core.artifacts.file(job);
  return new Response(Bun.file(file.path), {
    status: 200,
    headers: {
      'content-type': 'application/octet-stream',
      'content-disposition': `attachment; filename=${file.filename}`,
      'content-transfer-encoding': 'binary',
      'content-length': String(file.size),
    },
  });
}
