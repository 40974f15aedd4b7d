/**
 * Live streams (Server-Sent Events) of a job's log and of a pipeline's statuses: what they
 * send is in streams.ts, how they are framed, bounded and woken in src/http/sse.ts.
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import type { Actor } from '../core/people/access';
import { peopleAuth } from '../http/auth';
import { eventStream, resumeOffset, StreamSlots, type StreamSource } from '../http/sse';
import { Errors, JobParams, PipelineParams, restDoc } from './common';
import { jobIn, pipelineIn } from './lookup';
import { Presenter } from './presenters';
import { pipelineSource, TraceFeeds, traceSource } from './streams';

const Stream = t.String({ description: 'text/event-stream' });

export function liveRoutes(core: Core, slots: StreamSlots) {
  const show = new Presenter(core);
  const feeds = new TraceFeeds(core);
  // The slot first: a caller over the limit gets its 429 before any source is made.
  const open = (request: Request, actor: Actor, source: () => StreamSource, coalesceMs?: number) => {
    const release = slots.take(String(actor.userId));
    return eventStream({ request, source: source(), coalesceMs, keepAliveMs: slots.limits.keepAliveMs, release, closed: () => core.deps.notifier.isClosed });
  };
  const jobsDoc = restDoc('jobs');
  const pipelinesDoc = restDoc('pipelines');
  return new Elysia({ name: 'rest-api.live', prefix: '/api/v4/projects/:id' })
    .use(peopleAuth(core))
    .get('/jobs/:job_id/trace/stream', ({ project, params, query, request, actor }) => {
      const job = jobIn(core, project, params.job_id);
      const from = resumeOffset(request, query.offset);
      return open(request, actor, () => traceSource(core, show, feeds, project, job, from));
    }, {
      can: 'read_trace', params: JobParams,
      query: t.Object({ offset: t.Optional(t.String({ description: 'byte offset to start at (Last-Event-ID wins when sent)' })) }),
      response: { 200: Stream, ...Errors, 429: Errors[400] },
      ...jobsDoc('Follow the log of a job (Server-Sent Events)',
        'Events: `trace` (id = byte offset after the slice, data = the slice as a JSON string), `status` (data = the job), `reset` (the log was replaced; it follows from 0), `end` (the job ended, all bytes sent). Reconnecting with Last-Event-ID resumes exactly. 429 beyond the open-stream limits.'),
    })

    .get('/pipelines/:pipeline_id/stream', ({ project, params, request, actor }) => {
      const pipeline = pipelineIn(core, project, params.pipeline_id);
      // A burst of job changes (a stage released at once) makes one event.
      return open(request, actor, () => pipelineSource(core, show, project, pipeline), 100);
    }, {
      can: 'read_pipeline', params: PipelineParams, response: { 200: Stream, ...Errors, 429: Errors[400] },
      ...pipelinesDoc('Follow the statuses of a pipeline and its jobs (Server-Sent Events)',
        'Events: `pipeline` (data = {pipeline, jobs}: the whole state, at start and on every change), `end` (the pipeline finished). 429 beyond the open-stream limits.'),
    });
}
