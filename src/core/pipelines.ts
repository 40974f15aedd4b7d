/**
 * Pipelines: created from a plan (ci-config.ts), advanced stage by stage as GitLab does,
 * their status aggregated from their jobs, canceled and retried as a whole.
 *
 * Progression: the jobs of stage N are decided only when every job of stages < N has ended
 * (a manual job blocks only when `allow_failure: false`). The outcome of the earlier stages
 * is `failed` if a job failed without `allow_failure`, else `canceled` if one was canceled,
 * else `success`; `when` then decides: on_success runs after success, on_failure after
 * failure, always after anything, manual waits for play after success; the rest is skipped.
 */
import { and, asc, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import { jobs, pipelines, type Job, type Pipeline } from '../db/schema';
import type { PipelinePlan } from './ci-config';
import type { CoreDeps } from './context';
import { notFound } from './errors';
import type { InstanceService } from './instance';
import { atomically } from './tx';

export interface PipelineInput {
  ref: string;
  tag: boolean;
  sha: string;
  beforeSha?: string;
  source?: string;
  variables?: { key: string; value: string }[];
}

const ZERO_SHA = '0000000000000000000000000000000000000000';

export class PipelineService {
  constructor(private deps: CoreDeps, private instance: InstanceService) {}

  private get db() { return this.deps.db; }

  create(projectId: number, input: PipelineInput, plan: PipelinePlan): Pipeline {
    const id = atomically(this.db, () => {
      const now = this.deps.clock.now();
      const p = this.db.insert(pipelines).values({
        projectId, ref: input.ref, tag: input.tag, sha: input.sha, beforeSha: input.beforeSha ?? ZERO_SHA,
        source: input.source ?? 'api', status: 'created', yamlVariables: plan.variables,
        triggerVariables: input.variables ?? [], createdAt: now, updatedAt: now,
      }).returning().get();
      for (const j of plan.jobs) {
        this.db.insert(jobs).values({
          pipelineId: p.id, projectId, name: j.name, stage: j.stage, stageIdx: j.stageIdx, status: 'created',
          when: j.when, allowFailure: j.allowFailure, tagList: j.tags, spec: j, retriesLeft: j.retry,
          createdAt: now, updatedAt: now,
        }).run();
      }
      this.process(p.id);
      return p.id;
    });
    this.announceWork();
    return this.get(id);
  }

  get(id: number): Pipeline {
    const p = this.db.select().from(pipelines).where(eq(pipelines.id, id)).get();
    if (!p) throw notFound('Pipeline');
    return p;
  }

  list(projectId: number, opts: { status?: string; ref?: string; offset: number; limit: number }): { rows: Pipeline[]; total: number } {
    const where = and(
      eq(pipelines.projectId, projectId),
      opts.status ? eq(pipelines.status, opts.status) : undefined,
      opts.ref ? eq(pipelines.ref, opts.ref) : undefined,
    );
    return {
      rows: this.db.select().from(pipelines).where(where).orderBy(desc(pipelines.id)).limit(opts.limit).offset(opts.offset).all(),
      total: this.db.select({ n: sql<number>`count(*)` }).from(pipelines).where(where).get()!.n,
    };
  }

  /** The current attempt of each job (older attempts are kept for history). */
  latestJobs(pipelineId: number): Job[] {
    return this.db.select().from(jobs).where(and(eq(jobs.pipelineId, pipelineId), eq(jobs.retried, false)))
      .orderBy(asc(jobs.stageIdx), asc(jobs.id)).all();
  }

  /** Decides every job that can be decided now; returns true if any became pending. */
  process(pipelineId: number): boolean {
    return atomically(this.db, () => {
      const now = this.deps.clock.now();
      const all = this.latestJobs(pipelineId);
      const stages = [...new Set(all.map((j) => j.stageIdx))].sort((a, b) => a - b);
      let queued = false;
      let prior: 'success' | 'failed' | 'canceled' = 'success';
      for (const idx of stages) {
        const stageJobs = all.filter((j) => j.stageIdx === idx);
        for (const j of stageJobs) {
          if (j.status !== 'created') continue;
          const next = decide(j.when, prior);
          this.db.update(jobs).set({ status: next, queuedAt: next === 'pending' ? now : null, updatedAt: now, ...(next === 'skipped' ? { finishedAt: null } : {}) })
            .where(and(eq(jobs.id, j.id), eq(jobs.status, 'created'))).run();
          j.status = next;
          if (next === 'pending') queued = true;
        }
        const blocking = stageJobs.some((j) => ['created', 'pending', 'running'].includes(j.status) || (j.status === 'manual' && !j.allowFailure));
        if (blocking) break;
        for (const j of stageJobs) {
          if (j.status === 'failed' && !j.allowFailure) prior = 'failed';
          else if (j.status === 'canceled' && prior !== 'failed') prior = 'canceled';
        }
      }
      this.refreshStatus(pipelineId);
      return queued;
    });
  }

  /** Called in the transaction that ended a job: auto-retry, then advance the pipeline. */
  jobEnded(job: Job) {
    if (job.status === 'failed' && job.retriesLeft > 0 && job.failureReason !== 'trace_size_exceeded') {
      this.cloneJob(job, 'pending', { retriesLeft: job.retriesLeft - 1 });
    }
    if (this.process(job.pipelineId) || job.status === 'failed') this.announceWork();
  }

  /** A new attempt of `job`; the old one is marked retried (hidden from progression). */
  cloneJob(job: Job, status: 'created' | 'pending', opts: { retriesLeft: number }): Job {
    const now = this.deps.clock.now();
    this.db.update(jobs).set({ retried: true }).where(eq(jobs.id, job.id)).run();
    return this.db.insert(jobs).values({
      pipelineId: job.pipelineId, projectId: job.projectId, name: job.name, stage: job.stage, stageIdx: job.stageIdx,
      status, when: job.when, allowFailure: job.allowFailure, tagList: job.tagList, spec: job.spec,
      retriesLeft: opts.retriesLeft, retryOf: job.id, createdAt: now, updatedAt: now, queuedAt: status === 'pending' ? now : null,
    }).returning().get();
  }

  /** Skipped jobs after `stageIdx` go back to `created`, to be decided again. */
  reopenAfter(pipelineId: number, stageIdx: number) {
    this.db.update(jobs).set({ status: 'created', finishedAt: null })
      .where(and(eq(jobs.pipelineId, pipelineId), gt(jobs.stageIdx, stageIdx), eq(jobs.retried, false), eq(jobs.status, 'skipped'))).run();
  }

  /** Recomputes the pipeline's status and times from its jobs. */
  refreshStatus(pipelineId: number) {
    const latest = this.latestJobs(pipelineId);
    const status = aggregate(latest);
    const p = this.get(pipelineId);
    const now = this.deps.clock.now();
    const started = p.startedAt ?? (latest.some((j) => j.startedAt !== null) ? Math.min(...latest.filter((j) => j.startedAt !== null).map((j) => j.startedAt!)) : null);
    const final = ['success', 'failed', 'canceled', 'skipped'].includes(status);
    const finishedAt = final ? (p.finishedAt && p.status === status ? p.finishedAt : now) : null;
    if (status !== p.status || started !== p.startedAt || finishedAt !== p.finishedAt) {
      this.db.update(pipelines).set({ status, startedAt: started, finishedAt, updatedAt: now }).where(eq(pipelines.id, pipelineId)).run();
    }
  }

  cancel(pipelineId: number): Pipeline {
    atomically(this.db, () => {
      this.get(pipelineId);
      const now = this.deps.clock.now();
      this.db.update(jobs).set({ status: 'canceled', finishedAt: now, updatedAt: now })
        .where(and(eq(jobs.pipelineId, pipelineId), inArray(jobs.status, ['created', 'pending', 'running']))).run();
      this.process(pipelineId);
    });
    return this.get(pipelineId);
  }

  /** Re-runs failed and canceled jobs and re-opens what was skipped after them. */
  retry(pipelineId: number): Pipeline {
    atomically(this.db, () => {
      this.get(pipelineId);
      const redo = this.latestJobs(pipelineId).filter((j) => j.status === 'failed' || j.status === 'canceled');
      if (redo.length === 0) return;
      for (const j of redo) this.cloneJob(j, 'created', { retriesLeft: j.spec.retry });
      this.reopenAfter(pipelineId, Math.min(...redo.map((j) => j.stageIdx)));
      this.process(pipelineId);
    });
    this.announceWork();
    return this.get(pipelineId);
  }

  delete(pipelineId: number) {
    this.get(pipelineId);
    const ids = this.db.select({ id: jobs.id }).from(jobs).where(eq(jobs.pipelineId, pipelineId)).all().map((j) => j.id);
    this.db.delete(pipelines).where(eq(pipelines.id, pipelineId)).run();
    for (const id of ids) {
      this.deps.store.deleteTrace(id);
      this.deps.store.deleteArtifact(id);
    }
  }

  /** Tells waiting runners that work may be there. */
  announceWork() {
    this.instance.tickQueue();
    this.deps.notifier.notify();
  }
}

function decide(when: string, prior: 'success' | 'failed' | 'canceled'): 'pending' | 'manual' | 'skipped' {
  if (when === 'always') return 'pending';
  if (prior === 'success') return when === 'on_success' ? 'pending' : when === 'manual' ? 'manual' : 'skipped';
  if (prior === 'failed') return when === 'on_failure' ? 'pending' : 'skipped';
  return 'skipped';
}

/** GitLab's composite status; a failure with allow_failure counts as success. */
export function aggregate(latest: Pick<Job, 'status' | 'allowFailure'>[]): string {
  const n = (s: string) => latest.filter((j) => j.status === s).length;
  const failed = latest.filter((j) => j.status === 'failed' && !j.allowFailure).length;
  const done = n('success') + n('failed') + n('canceled') + n('skipped');
  if (latest.length === 0) return 'skipped';
  if (n('running') > 0) return 'running';
  if (n('pending') > 0) return done > 0 ? 'running' : 'pending';
  if (n('created') > 0) return done > 0 ? 'running' : 'created';
  if (latest.some((j) => j.status === 'manual' && !j.allowFailure)) return 'manual';
  if (failed > 0) return 'failed';
  if (n('canceled') > 0) return 'canceled';
  if (n('success') + latest.filter((j) => j.status === 'failed').length > 0) return 'success';
  if (n('manual') > 0) return 'manual';
  return 'skipped';
}
