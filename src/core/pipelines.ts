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
import type { PipelinePlan } from './ci-config/types';
import type { CoreDeps } from './context';
import { notFound } from './errors';
import type { InstanceService } from './instance';
import { atomically, changes } from './tx';

export interface PipelineInput {
  ref: string;
  tag: boolean;
  sha: string;
  beforeSha?: string;
  source?: string;
  variables?: { key: string; value: string }[];
  /** who started it (GITLAB_USER_*), when a person did */
  userId?: number | null;
  /** the first line of the commit message, when known */
  commitTitle?: string;
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
        triggerVariables: input.variables ?? [], userId: input.userId ?? null, commitTitle: input.commitTitle ?? null,
        createdAt: now, updatedAt: now,
      }).returning().get();
      for (const j of plan.jobs) {
        this.db.insert(jobs).values({
          pipelineId: p.id, projectId, name: j.name, stage: j.stage, stageIdx: j.stageIdx, status: 'created',
          when: j.when, allowFailure: j.allowFailure, tagList: j.tags, spec: j, retriesLeft: j.retry.max,
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

  /** Status counts of the current attempts, per stage — set-based, so big pipelines stay cheap. */
  private stageCounts(pipelineId: number, stageIdx?: number) {
    return this.db.all<{ stage_idx: number; status: string; allow_failure: number; n: number }>(sql`
      SELECT stage_idx, status, allow_failure, count(*) AS n FROM jobs
      WHERE pipeline_id = ${pipelineId} AND retried = 0 ${stageIdx === undefined ? sql`` : sql`AND stage_idx = ${stageIdx}`}
      GROUP BY stage_idx, status, allow_failure ORDER BY stage_idx`);
  }

  /** Decides every job that can be decided now; returns true if any became pending. */
  process(pipelineId: number): boolean {
    return atomically(this.db, () => {
      const now = this.deps.clock.now();
      const counts = this.stageCounts(pipelineId);
      const stages = [...new Set(counts.map((c) => c.stage_idx))];
      let queued = false;
      let prior: 'success' | 'failed' | 'canceled' = 'success';
      for (const idx of stages) {
        let rows = counts.filter((c) => c.stage_idx === idx);
        if (rows.some((r) => r.status === 'created')) {
          // when → next status, given the outcome of the earlier stages (see decide()).
          const next = (when: string) => sql.raw(`'${decide(when, prior)}'`);
          const res = this.db.run(sql`UPDATE jobs SET
              status = CASE "when" WHEN 'on_success' THEN ${next('on_success')} WHEN 'on_failure' THEN ${next('on_failure')}
                                   WHEN 'always' THEN ${next('always')} ELSE ${next('manual')} END,
              queued_at = ${now}, updated_at = ${now}
            WHERE pipeline_id = ${pipelineId} AND stage_idx = ${idx} AND retried = 0 AND status = 'created'`);
          if (changes(res) > 0) rows = this.stageCounts(pipelineId, idx);
          if (rows.some((r) => r.status === 'pending')) queued = true;
        }
        const blocking = rows.some((r) => ['created', 'pending', 'running'].includes(r.status) || (r.status === 'manual' && !r.allow_failure));
        if (blocking) break;
        if (rows.some((r) => r.status === 'failed' && !r.allow_failure)) prior = 'failed';
        else if (prior !== 'failed' && rows.some((r) => r.status === 'canceled' && !r.allow_failure)) prior = 'canceled';
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
    const counts = this.stageCounts(pipelineId);
    const status = aggregate(counts.map((c) => ({ status: c.status, allowFailure: !!c.allow_failure, n: c.n })));
    const p = this.get(pipelineId);
    const now = this.deps.clock.now();
    // (a raw `db.get(sql…)` answers an array of values on bun:sqlite, not an object: use the builder)
    const started = p.startedAt ?? this.db.select({ t: sql<number | null>`min(${jobs.startedAt})` }).from(jobs).where(eq(jobs.pipelineId, pipelineId)).get()?.t ?? null;
    const final = ['success', 'failed', 'canceled', 'skipped'].includes(status);
    const finishedAt = final ? (p.finishedAt && p.status === status ? p.finishedAt : now) : null;
    if (status !== p.status || started !== p.startedAt || finishedAt !== p.finishedAt) {
      this.db.update(pipelines).set({ status, startedAt: started, finishedAt, updatedAt: now }).where(eq(pipelines.id, pipelineId)).run();
    }
    // Every job status change ends here (process → refreshStatus): live views look again.
    this.deps.notifier.pipelines.signal(pipelineId);
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
      for (const j of redo) this.cloneJob(j, 'created', { retriesLeft: j.spec.retry.max });
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
      this.deps.notifier.traces.signal(id);
    }
    this.deps.notifier.pipelines.signal(pipelineId);
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

/**
 * GitLab's composite status (lib/gitlab/ci/status/composite.rb) over status counts: a failed
 * or canceled job with allow_failure is a success with warnings, an allowed manual job is
 * ignored; the checks run in GitLab's order, which matters.
 */
export function aggregate(counts: { status: string; allowFailure: boolean; n: number }[]): string {
  const set = new Set(counts.filter((c) => c.n > 0).map((c) => !c.allowFailure ? c.status
    : c.status === 'failed' || c.status === 'canceled' ? 'warning' : c.status === 'manual' ? 'ignored' : c.status));
  if (set.size === 0) return 'skipped';
  const only = (...s: string[]) => [...set].every((x) => s.includes(x));
  const any = (...s: string[]) => s.some((x) => set.has(x));
  if (only('skipped', 'ignored')) return 'skipped';
  if (only('success', 'skipped', 'warning', 'ignored')) return 'success';
  if (only('created', 'warning', 'ignored')) return 'created';
  if (only('canceled', 'success', 'skipped', 'warning', 'ignored')) return 'canceled';
  if (only('pending', 'created', 'skipped', 'warning', 'ignored')) return 'pending';
  if (any('running', 'pending')) return 'running';
  if (any('manual')) return 'manual';
  if (any('created')) return 'running';
  return 'failed';
}
