/**
 * What the live streams send (framing, limits and wake-ups: src/http/sse.ts).
 *
 * The log of a job — `GET /api/v4/projects/:id/jobs/:job_id/trace/stream`:
 *   event: trace    id: <byte offset after this slice>    data: "<the slice as a JSON string>"
 *   event: status   data: <the job, as GET …/jobs/:job_id answers it>   (at start, then on change)
 *   event: reset    id: 0   data: {"offset":0}   the log was replaced by a shorter one (a v1
 *                   runner's final full log): drop what you have, the log follows from 0
 *   event: end      data: {"status":"success"}   the job ended and every byte was sent
 * Ids count bytes of the stored log, so a client that reconnects with `Last-Event-ID` (what
 * EventSource does by itself) gets every byte exactly once; `?offset=N` starts there the
 * first time (a page that fetched the first N bytes itself). Slices end on a UTF-8 character
 * boundary, at most 64 KiB each; invalid UTF-8 arrives as U+FFFD (the ids still count the
 * stored bytes). Bytes a runner sends after the job ended (rare: a cancel) are not streamed.
 *
 * A pipeline — `GET /api/v4/projects/:id/pipelines/:pipeline_id/stream`:
 *   event: pipeline  data: {"pipeline": <as GET …/pipelines/:id>, "jobs": [<each current job,
 *                    as GET …/jobs/:job_id, plus "needs": [names] or null>]}
 *                    at start, then whenever a status (or a runner, or artifacts) changed
 *   event: end       data: {"status": "<final status>"}   the pipeline is finished
 * Each `pipeline` event is the whole state, so a reconnect needs no id.
 */
import type { Core } from '../core';
import { isFinal } from '../core/jobs';
import { utf8Prefix } from '../core/text';
import type { Job, Pipeline, Project } from '../db/schema';
import { sseEvent, type StreamSource } from '../http/sse';
import type { JobJson, PipelineJson, Presenter } from './presenters';

/** Bytes per `trace` event at most. */
const SLICE = 64 * 1024;

/** The fields whose change makes a `status` event (durations change by themselves). */
const jobKey = (j: JobJson) => JSON.stringify([j.status, j.failure_reason, j.pending_reason, j.runner, j.artifacts_file, j.started_at, j.finished_at]);

export function traceSource(core: Core, show: Presenter, project: Project, job: Job, from: number): StreamSource {
  const decoder = new TextDecoder();
  let offset = from;
  let sentKey = '';
  return {
    next(emit) {
      const current = core.jobs.find(job.id);
      if (!current) {
        emit(sseEvent('end', { status: 'deleted' }));
        return 'end';
      }
      const length = core.jobs.traceLength(job.id);
      if (length < offset) {
        offset = 0;
        emit(sseEvent('reset', { offset: 0 }, 0));
      }
      const final = isFinal(current.status);
      if (length > offset) {
        const bytes = core.jobs.readTrace(job.id, offset, SLICE);
        // A character cut by the slice or by the runner waits for its other bytes, unless none will come.
        const n = final && offset + bytes.length >= length ? bytes.length : utf8Prefix(bytes);
        if (n > 0) {
          offset += n;
          emit(sseEvent('trace', decoder.decode(bytes.subarray(0, n)), offset));
          return 'more';
        }
      }
      const shown = show.job(current, project);
      const key = jobKey(shown);
      if (key !== sentKey) {
        sentKey = key;
        emit(sseEvent('status', shown));
      }
      if (final && offset >= length) {
        emit(sseEvent('end', { status: current.status }));
        return 'end';
      }
      return 'wait';
    },
    watch(wake) {
      const a = core.deps.notifier.traces.watch(job.id, wake);
      const b = core.deps.notifier.pipelines.watch(job.pipelineId, wake);
      return () => { a(); b(); };
    },
  };
}

export type StreamJob = JobJson & { needs: string[] | null };
export interface PipelineSnapshot { pipeline: PipelineJson; jobs: StreamJob[] }

/** The pipeline with its current jobs, as the pipeline stream (and the pipeline page) shows it. */
export function pipelineSnapshot(core: Core, show: Presenter, project: Project, pipeline: Pipeline): PipelineSnapshot {
  const cache = new Map([[pipeline.id, pipeline]]);
  return {
    pipeline: show.pipeline(pipeline, project),
    jobs: core.pipelines.latestJobs(pipeline.id).map((j) => ({ ...show.job(j, project, cache), needs: j.spec.needs?.map((n) => n.job) ?? null })),
  };
}

export function pipelineSource(core: Core, show: Presenter, project: Project, pipeline: Pipeline): StreamSource {
  let sentKey = '';
  return {
    next(emit) {
      const current = findPipeline(core, pipeline.id);
      if (!current) {
        emit(sseEvent('end', { status: 'deleted' }));
        return 'end';
      }
      const snap = pipelineSnapshot(core, show, project, current);
      const key = JSON.stringify([snap.pipeline.status, snap.pipeline.started_at, snap.pipeline.finished_at, snap.jobs.map(jobKey)]);
      if (key !== sentKey) {
        sentKey = key;
        emit(sseEvent('pipeline', snap));
      }
      if (isFinal(current.status)) {
        emit(sseEvent('end', { status: current.status }));
        return 'end';
      }
      return 'wait';
    },
    watch(wake) {
      return core.deps.notifier.pipelines.watch(pipeline.id, wake);
    },
  };
}

function findPipeline(core: Core, id: number): Pipeline | null {
  try { return core.pipelines.get(id); } catch { return null; }
}
