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

/**
 * What the watchers of one job's log share: the slices already read and framed as events,
 * so that N watchers at the same offset cost one read, one decode and one JSON encoding
 * (bench P10). A feed lives while someone watches its job; it keeps its last few slices.
 */
export class TraceFeeds {
  private feeds = new Map<number, { users: number; slices: Map<number, { end: number; event: Uint8Array }> }>();
  private encoder = new TextEncoder();

  constructor(private core: Core) {}

  /** A feed for `jobId`; call the returned release when the watcher goes. */
  open(jobId: number): { slice: (offset: number, length: number, final: boolean) => { end: number; event: Uint8Array } | null; clear: () => void; release: () => void } {
    let feed = this.feeds.get(jobId);
    if (!feed) this.feeds.set(jobId, (feed = { users: 0, slices: new Map() }));
    feed.users++;
    const f = feed;
    let released = false;
    return {
      slice: (offset, length, final) => {
        const hit = f.slices.get(offset);
        if (hit) return hit;
        const bytes = this.core.jobs.readTrace(jobId, offset, SLICE);
        // A character cut by the slice or by the runner waits for its other bytes, unless none will come.
        const n = final && offset + bytes.length >= length ? bytes.length : utf8Prefix(bytes);
        if (n === 0) return null;
        const end = offset + n;
        const made = { end, event: this.encoder.encode(sseEvent('trace', new TextDecoder().decode(bytes.subarray(0, n)), end)) };
        f.slices.set(offset, made);
        if (f.slices.size > 16) f.slices.delete(f.slices.keys().next().value!);
        return made;
      },
      clear: () => f.slices.clear(),
      release: () => {
        if (released) return;
        released = true;
        if (--f.users === 0 && this.feeds.get(jobId) === f) this.feeds.delete(jobId);
      },
    };
  }

  /** Feeds open now (tests: released with their watchers). */
  get size() { return this.feeds.size; }
}

export function traceSource(core: Core, show: Presenter, feeds: TraceFeeds, project: Project, job: Job, from: number): StreamSource {
  let offset = from;
  let sentKey = '';
  let current: Job | null = job;
  // The job is read again only when its pipeline signalled a change (or after a keep-alive);
  // a trace wake-up alone costs a length check and, for new bytes, a shared slice.
  let statusDirty = true;
  const feed = feeds.open(job.id);
  return {
    next(emit) {
      if (statusDirty) current = core.jobs.find(job.id);
      if (!current) {
        emit(sseEvent('end', { status: 'deleted' }));
        return 'end';
      }
      const length = core.jobs.traceLength(job.id);
      if (length < offset) {
        offset = 0;
        feed.clear();
        emit(sseEvent('reset', { offset: 0 }, 0));
      }
      const final = isFinal(current.status);
      if (length > offset) {
        const slice = feed.slice(offset, length, final);
        if (slice) {
          offset = slice.end;
          emit(slice.event);
          return 'more';
        }
      }
      if (statusDirty) {
        statusDirty = false;
        const shown = show.job(current, project);
        const key = jobKey(shown);
        if (key !== sentKey) {
          sentKey = key;
          emit(sseEvent('status', shown));
        }
      }
      if (final && offset >= length) {
        emit(sseEvent('end', { status: current.status }));
        return 'end';
      }
      return 'wait';
    },
    watch(wake) {
      const a = core.deps.notifier.traces.watch(job.id, wake);
      const b = core.deps.notifier.pipelines.watch(job.pipelineId, () => {
        statusDirty = true;
        wake();
      });
      return () => { a(); b(); feed.release(); };
    },
    refresh() {
      statusDirty = true;
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
