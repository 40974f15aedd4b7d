/**
 * Pipelines: created from a plan (core/ci-config), advanced as GitLab does, their status
 * aggregated from their jobs (status.ts `aggregate`), canceled and retried as a whole.
 * How a job moves — processing (processing.ts), needs, stages, resource groups, delayed
 * jobs, bridges, auto-cancel — is described once, in the lifecycle comment of jobs.ts.
 */
import { and, asc, desc, eq, inArray, lte, sql } from 'drizzle-orm';
import { jobNeeds, jobs, pipelineCounts, pipelines, type Job, type Pipeline } from '../db/schema';
import { preparedInsert, rowReader } from '../db/rows';
import { storableEnvironmentName } from './ci-config/entries/environment';
import type { PipelinePlan } from './ci-config/types';
import type { CoreDeps } from './context';
import type { EnvironmentService } from './environments';
import { notFound } from './errors';
import type { InstanceService } from './instance';
import { decide } from './processing';
import type { ResourceGroupService } from './resource-groups';
import { aggregate, CANCELABLE, isFinal } from './status';
import { atomically, changes } from './tx';

export { aggregate } from './status';

/** The head commit of a pipeline (forges send it; else git tells). */
export interface PipelineCommit {
  message: string;
  authorName: string;
  authorEmail: string;
  /** ISO 8601 */
  timestamp: string;
}

export interface PipelineInput {
  ref: string;
  tag: boolean;
  sha: string;
  beforeSha?: string;
  source?: string;
  variables?: { key: string; value: string }[];
  commit?: PipelineCommit | null;
  /** who started it (GITLAB_USER_*), when a person did */
  userId?: number | null;
  /** a tag's message (CI_COMMIT_TAG_MESSAGE), when known */
  tagMessage?: string | null;
}

/** Starts bridge jobs (downstream.ts); set once the creator exists (index.ts). */
export interface BridgeStarter { start(bridgeIds: number[]): void }

const ZERO_SHA = '0000000000000000000000000000000000000000';
const STARTED = ['running', 'success', 'failed'];
const WEEK_MS = 7 * 24 * 3600_000;

/** How far back an announcement looks beyond the previous one (clock steps, same-millisecond queues). */
const ANNOUNCE_OVERLAP_MS = 1000;

/** The columns a new pipeline and its jobs are inserted with (prepared inserts: each row's values are parameters). */
const PIPELINE_INSERT = [
  'projectId', 'ref', 'tag', 'sha', 'beforeSha', 'source', 'status', 'yamlVariables', 'yamlRawVariables', 'triggerVariables',
  'createdAt', 'updatedAt', 'name', 'commitMessage', 'commitAuthorName', 'commitAuthorEmail', 'commitTimestamp', 'commitTagMessage', 'userId',
  'autoCancelOnNewCommit', 'autoCancelOnJobFailure',
] as const;
const JOB_INSERT = [
  'pipelineId', 'projectId', 'name', 'stage', 'stageIdx', 'status', 'kind', 'dag', 'interruptible', 'resourceGroupId',
  'when', 'allowFailure', 'tagList', 'spec', 'retriesLeft', 'createdAt', 'updatedAt', 'failureReason',
] as const;

/**
 * Why a job fails as it is created, or null. GitLab's CreateForJobService: an environment its
 * model cannot store (the name as expanded: blank, too long, other characters) fails the job
 * with environment_creation_failure, and no environment is made.
 */
function creationFailure(spec: { environment?: { name: string } }): string | null {
  return spec.environment !== undefined && !storableEnvironmentName(spec.environment.name) ? 'environment_creation_failure' : null;
}

/**
 * The queries every pipeline creation and job status change runs, prepared once per database:
 * drizzle renders SQL and SQLite compiles it anew on every call otherwise, which cost more
 * than running them (bench P3).
 */
const pipelineQueries = (db: CoreDeps['db']) => {
  const id = sql.placeholder('id');
  const ids = sql`(SELECT value FROM json_each(${sql.placeholder('ids')}))`;
  return {
    insertPipeline: preparedInsert(db, pipelines, PIPELINE_INSERT).returning().prepare(),
    insertJob: preparedInsert(db, jobs, JOB_INSERT).prepare(),
    pipeline: db.select().from(pipelines).where(eq(pipelines.id, id)).prepare(),
    jobsByIds: db.select().from(jobs).where(sql`${jobs.id} IN ${ids}`).prepare(),
    statusCounts: db.select({ status: jobs.status, allowFailure: jobs.allowFailure, n: sql<number>`count(*)` }).from(jobs)
      .where(and(eq(jobs.pipelineId, id), eq(jobs.retried, false))).groupBy(jobs.status, jobs.allowFailure).prepare(),
    firstStart: db.select({ t: sql<number | null>`min(${jobs.startedAt})` }).from(jobs).where(eq(jobs.pipelineId, id)).prepare(),
    setStatus: db.update(pipelines).set({
      status: sql`${sql.placeholder('status')}`, startedAt: sql`${sql.placeholder('startedAt')}`,
      finishedAt: sql`${sql.placeholder('finishedAt')}`, updatedAt: sql`${sql.placeholder('now')}`,
    }).where(eq(pipelines.id, id)).prepare(),
    coverage: db.select({ c: sql<number | null>`avg(${jobs.coverage})` }).from(jobs)
      .where(and(eq(jobs.pipelineId, id), eq(jobs.retried, false))).prepare(),
  };
};

const PIPELINE_ROW = rowReader(pipelines);

/**
 * The ref's older pipelines still running, of other commits (auto-cancel), through the partial
 * index of running pipelines (schema.ts, pipelines_active; named, as the planner has no
 * statistics to prefer it): same-commit entries are passed over in the index.
 */
const REDUNDANT = `SELECT ${PIPELINE_ROW.columns} FROM pipelines INDEXED BY pipelines_active
  WHERE project_id = $projectId AND ref = $ref AND id < $id
    AND status IN ('created', 'waiting_for_resource', 'preparing', 'pending', 'running', 'scheduled')
    AND sha <> $sha AND created_at > $since AND source <> 'webide'
  ORDER BY id DESC LIMIT 3000`;

/** Jobs from `created` to a status in one statement (the ids as one JSON parameter); `extra` sets more columns. */
const SET_CREATED = (extra: string) => `UPDATE jobs SET status = $status, updated_at = $now${extra}
  WHERE id IN (SELECT value FROM json_each($ids)) AND status = 'created'`;

export class PipelineService {
  bridges: BridgeStarter | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = Infinity;
  private stopped = false;

  constructor(
    private deps: CoreDeps,
    private instance: InstanceService,
    readonly resources: ResourceGroupService,
    readonly environments: EnvironmentService,
  ) {}

  private get db() { return this.deps.db; }

  private prepared?: ReturnType<typeof pipelineQueries>;
  private get q() { return (this.prepared ??= pipelineQueries(this.db)); }

  create(projectId: number, input: PipelineInput, plan: PipelinePlan): Pipeline {
    const id = atomically(this.db, () => {
      const now = this.deps.clock.now();
      const c = input.commit ?? null;
      const p = this.q.insertPipeline.get({
        projectId, ref: input.ref, tag: input.tag, sha: input.sha, beforeSha: input.beforeSha ?? ZERO_SHA,
        source: input.source ?? 'api', status: 'created', yamlVariables: plan.variables, yamlRawVariables: plan.rawVariables ?? [],
        triggerVariables: input.variables ?? [], createdAt: now, updatedAt: now,
        name: plan.workflow?.name ?? null,
        commitMessage: c?.message ?? null, commitAuthorName: c?.authorName ?? null, commitAuthorEmail: c?.authorEmail ?? null,
        commitTimestamp: c?.timestamp ?? null, commitTagMessage: input.tagMessage ?? null, userId: input.userId ?? null,
        autoCancelOnNewCommit: plan.workflow?.autoCancel.onNewCommit ?? 'conservative',
        autoCancelOnJobFailure: plan.workflow?.autoCancel.onJobFailure ?? 'none',
      } satisfies Record<(typeof PIPELINE_INSERT)[number], unknown>)!;
      const edges: (typeof jobNeeds.$inferInsert)[] = [];
      for (const j of plan.jobs) {
        const failure = creationFailure(j);
        this.q.insertJob.run({
          pipelineId: p.id, projectId, name: j.name, stage: j.stage, stageIdx: j.stageIdx, status: failure ? 'failed' : 'created',
          failureReason: failure,
          kind: j.trigger ? 'bridge' : 'build', dag: j.needs !== undefined, interruptible: j.interruptible ?? false,
          resourceGroupId: j.resourceGroup ? this.resources.ensure(projectId, j.resourceGroup) : null,
          when: j.when, allowFailure: j.allowFailure, tagList: j.tags, spec: j, retriesLeft: j.retry.max,
          createdAt: now, updatedAt: now,
        } satisfies Record<(typeof JOB_INSERT)[number], unknown>);
        for (const n of j.needs ?? []) edges.push({ pipelineId: p.id, jobName: j.name, needName: n.job, artifacts: n.artifacts, optional: n.optional });
      }
      for (let i = 0; i < edges.length; i += 200) this.db.insert(jobNeeds).values(edges.slice(i, i + 200)).onConflictDoNothing().run();
      if (p.source !== 'parent_pipeline') this.cancelRedundant(p);
      this.process(p.id);
      return p.id;
    });
    this.announceWork();
    return this.get(id);
  }

  get(id: number): Pipeline {
    const p = this.find(id);
    if (!p) throw notFound('Pipeline');
    return p;
  }

  find(id: number): Pipeline | null {
    return Number.isSafeInteger(id) ? this.q.pipeline.get({ id }) ?? null : null;
  }

  list(projectId: number, opts: { status?: string; ref?: string; offset: number; limit: number }): { rows: Pipeline[]; total: number } {
    const where = and(
      eq(pipelines.projectId, projectId),
      opts.status ? eq(pipelines.status, opts.status) : undefined,
      opts.ref ? eq(pipelines.ref, opts.ref) : undefined,
    );
    // Unfiltered, the total is kept by triggers (pipeline_counts): no count over the project.
    const total = !opts.status && !opts.ref
      ? this.db.select({ n: pipelineCounts.n }).from(pipelineCounts).where(eq(pipelineCounts.projectId, projectId)).get()?.n ?? 0
      : this.db.select({ n: sql<number>`count(*)` }).from(pipelines).where(where).get()!.n;
    return {
      rows: this.db.select().from(pipelines).where(where).orderBy(desc(pipelines.id)).limit(opts.limit).offset(opts.offset).all(),
      total,
    };
  }

  /** The current attempt of each job (older attempts are kept for history). */
  latestJobs(pipelineId: number, kind?: 'build' | 'bridge'): Job[] {
    return this.db.select().from(jobs)
      .where(and(eq(jobs.pipelineId, pipelineId), eq(jobs.retried, false), kind ? eq(jobs.kind, kind) : undefined))
      .orderBy(asc(jobs.stageIdx), asc(jobs.id)).all();
  }

  /** Pipelines a pipeline's bridges started. */
  downstreamOf(pipelineId: number): Pipeline[] {
    return this.db.select().from(pipelines).where(eq(pipelines.upstreamPipelineId, pipelineId)).orderBy(asc(pipelines.id)).all();
  }

  /** The pipeline a bridge job started, if any. */
  downstreamOfJob(jobId: number): Pipeline | null {
    return this.db.select().from(pipelines).where(eq(pipelines.upstreamJobId, jobId)).get() ?? null;
  }

  /** Mean coverage of the current attempts that report one (GitLab's pipeline coverage), or null. */
  coverage(pipelineId: number): number | null {
    return this.q.coverage.get({ id: pipelineId })?.c ?? null;
  }

  // ---------------------------------------------------------------- processing

  /** Decides every job that can be decided now (processing.ts); true if runner work appeared. */
  process(pipelineId: number): boolean {
    return atomically(this.db, () => {
      let queued = false;
      const decisions = decide(this.db, pipelineId);
      if (decisions.length) {
        const now = this.deps.clock.now();
        const rows = this.byIds(decisions.map((d) => d.id));
        const byId = new Map(rows.map((r) => [r.id, r]));
        const client = this.db.$client;
        const set = (ids: number[], status: string, extra = '', at = 0) => {
          if (ids.length) client.query(SET_CREATED(extra)).run({ status, now, ids: JSON.stringify(ids), ...(extra.includes('$at') ? { at } : {}) });
        };
        const groups = new Set<number>();
        const bridges: number[] = [];
        const pending: number[] = [];
        const waiting: number[] = [];
        for (const d of decisions) {
          const job = byId.get(d.id)!;
          if (job.resourceGroupId !== null) groups.add(job.resourceGroupId);
          if (d.status !== 'pending') continue;
          if (job.resourceGroupId !== null) waiting.push(d.id);
          else pending.push(d.id);
          if (job.kind === 'bridge') bridges.push(d.id);
        }
        set(decisions.filter((d) => d.status === 'skipped').map((d) => d.id), 'skipped');
        set(decisions.filter((d) => d.status === 'manual').map((d) => d.id), 'manual');
        for (const d of decisions.filter((x) => x.status === 'scheduled')) {
          set([d.id], 'scheduled', ', scheduled_at = $at', now + (byId.get(d.id)!.spec.startIn ?? 0) * 1000);
        }
        set(waiting, 'waiting_for_resource', ', queued_at = $now');
        set(pending, 'pending', ', queued_at = $now');
        // what each job became (a pending decision with a resource group waits for it first)
        for (const d of decisions) {
          const job = byId.get(d.id)!;
          const to = d.status === 'pending' && job.resourceGroupId !== null ? 'waiting_for_resource' : d.status;
          const queued = to === 'pending' || to === 'waiting_for_resource';
          this.told({ ...job, updatedAt: now, ...(queued ? { queuedAt: now } : {}),
            ...(to === 'scheduled' ? { scheduledAt: now + (job.spec.startIn ?? 0) * 1000 } : {}) }, 'created', to);
        }
        const pipeline = this.get(pipelineId);
        this.environments.jobsDecided(rows, pipeline);
        if (groups.size) queued = this.assignResources(groups, pipelineId) || queued;
        if (pending.some((id) => byId.get(id)!.kind === 'build')) queued = true;
        if (bridges.length || waiting.some((id) => byId.get(id)!.kind === 'bridge')) this.startBridgesLater();
        if (decisions.some((d) => d.status === 'scheduled')) this.armTimer();
      }
      this.refreshStatus(pipelineId);
      return queued;
    });
  }

  private byIds(ids: number[]): Job[] {
    return ids.length ? this.q.jobsByIds.all({ ids: JSON.stringify(ids) }) : [];
  }

  /** Free resources go to their next jobs; other pipelines that gained a pending job are refreshed. */
  private assignResources(groupIds: Iterable<number>, except?: number): boolean {
    const { pipelineIds, granted } = this.resources.assign(groupIds);
    for (const job of this.byIds(granted)) this.told(job, 'waiting_for_resource', 'pending');
    for (const id of pipelineIds) if (id !== except) this.refreshStatus(id);
    if (granted.length) this.startBridgesLater();
    return granted.length > 0;
  }

  /**
   * Tells the lifecycle listener (outbox: Job Hooks) of a build's status change, inside the
   * transaction that made it; bridges have no job events (GitLab's Job Hook is for builds).
   * `job` may be the row read before the change.
   */
  told(job: Job, from: string, to: string) {
    if (from !== to && job.kind === 'build') this.deps.events.jobStatus({ ...job, status: to }, from, to);
  }

  /** Bridges run after the deciding transaction commits (creating a pipeline is async). */
  private startBridgesLater() {
    if (!this.bridges) return;
    const starter = this.bridges;
    setTimeout(() => {
      if (this.stopped) return;
      const ids = this.db.select({ id: jobs.id }).from(jobs).where(and(eq(jobs.kind, 'bridge'), eq(jobs.status, 'pending'))).all().map((r) => r.id);
      if (ids.length) starter.start(ids);
    }, 0);
  }

  /**
   * Called in the transaction that ended a job (success, failed, canceled): exit-code rules
   * were applied by the caller; here the automatic retry, the resource release, the
   * environment, `auto_cancel:on_job_failure`, and the next jobs.
   */
  jobEnded(job: Job, environmentUrl?: string) {
    let retried = false;
    if (autoRetryAllowed(job)) {
      this.cloneJob(job, job.resourceGroupId !== null ? 'waiting_for_resource' : 'pending', { retriesLeft: job.retriesLeft - 1 });
      retried = true;
    }
    let granted = false;
    if (job.resourceGroupId !== null) {
      this.resources.release(job.id, job.resourceGroupId);
      granted = this.assignResources([job.resourceGroupId]);
    }
    this.environments.jobEnded(job, environmentUrl);
    if (job.status === 'failed' && !job.allowFailure && !retried) {
      const p = this.get(job.pipelineId);
      if (p.autoCancelOnJobFailure === 'all') this.cancelJobs(p.id, { cascade: true });
    }
    if (this.process(job.pipelineId) || job.status === 'failed' || retried || granted) this.announceWork();
  }

  /** A new attempt of `job`; the old one is marked retried (hidden from progression). */
  cloneJob(job: Job, status: 'created' | 'pending' | 'waiting_for_resource', opts: { retriesLeft: number }): Job {
    const now = this.deps.clock.now();
    this.db.update(jobs).set({ retried: true }).where(eq(jobs.id, job.id)).run();
    const failure = creationFailure(job.spec);
    const copy = this.db.insert(jobs).values({
      pipelineId: job.pipelineId, projectId: job.projectId, name: job.name, stage: job.stage, stageIdx: job.stageIdx,
      status: failure ? 'failed' : status, failureReason: failure, kind: job.kind, dag: job.dag, interruptible: job.interruptible,
      resourceGroupId: job.resourceGroupId, when: job.when, allowFailure: job.spec.allowFailure, tagList: job.tagList, spec: job.spec,
      retriesLeft: opts.retriesLeft, retryOf: job.id, createdAt: now, updatedAt: now, queuedAt: failure || status === 'created' ? null : now,
    }).returning().get();
    if (failure) { this.told(copy, 'created', 'failed'); return copy; }
    if (status !== 'created') this.told(copy, 'created', status);
    if (status === 'waiting_for_resource') this.assignResources([job.resourceGroupId!]);
    return copy;
  }

  /**
   * Jobs that came alive again (played, retried) re-open what was skipped after them: skipped
   * jobs of later stages and every job that needs them, directly or not (GitLab's
   * ResetSkippedJobsService). They go back to `created`, to be decided again.
   */
  reopenDependants(pipelineId: number, alive: { name: string; stageIdx: number }[]) {
    if (alive.length === 0) return;
    const minStage = Math.min(...alive.map((a) => a.stageIdx));
    const dependants = new Map<string, string[]>();
    for (const e of this.db.select({ job: jobNeeds.jobName, need: jobNeeds.needName }).from(jobNeeds).where(eq(jobNeeds.pipelineId, pipelineId)).all()) {
      const list = dependants.get(e.need) ?? [];
      list.push(e.job);
      dependants.set(e.need, list);
    }
    const seen = new Set<string>();
    const queue = alive.map((a) => a.name);
    while (queue.length) for (const d of dependants.get(queue.pop()!) ?? []) if (!seen.has(d)) { seen.add(d); queue.push(d); }
    const names = [...seen];
    const where = and(eq(jobs.pipelineId, pipelineId), eq(jobs.retried, false), eq(jobs.status, 'skipped'),
      names.length ? sql`(${jobs.stageIdx} > ${minStage} OR ${inArray(jobs.name, names)})` : sql`${jobs.stageIdx} > ${minStage}`);
    const reopened = this.db.select().from(jobs).where(where).all();
    if (reopened.length === 0) return;
    const now = this.deps.clock.now();
    this.db.update(jobs).set({ status: 'created', finishedAt: null, updatedAt: now }).where(where).run();
    for (const j of reopened) this.told({ ...j, status: 'created', finishedAt: null, updatedAt: now }, 'skipped', 'created');
  }

  /** Recomputes the pipeline's status and times from its jobs; a downstream pipeline tells its bridge. */
  refreshStatus(pipelineId: number) {
    const status = aggregate(this.q.statusCounts.all({ id: pipelineId }));
    const p = this.get(pipelineId);
    const now = this.deps.clock.now();
    const started = p.startedAt ?? this.q.firstStart.get({ id: pipelineId })?.t ?? null;
    const final = isFinal(status);
    const finishedAt = final ? (p.finishedAt && p.status === status ? p.finishedAt : now) : null;
    if (status !== p.status || started !== p.startedAt || finishedAt !== p.finishedAt) {
      this.q.setStatus.run({ id: pipelineId, status, startedAt: started, finishedAt, now });
      if (status !== p.status) this.deps.events.pipelineStatus({ ...p, status, startedAt: started, finishedAt, updatedAt: now }, p.status, status);
    }
    this.environments.sync(pipelineId);
    if (status !== p.status && p.upstreamJobId !== null) this.syncBridge(p.upstreamJobId, status);
    // Every job status change ends here (process → refreshStatus): live views look again.
    this.deps.notifier.pipelines.signal(pipelineId);
  }

  /**
   * A bridge with `strategy: depend` (or `mirror`) follows its downstream pipeline: running
   * until it ends, then success, or failed (depend) / the same status (mirror).
   */
  syncBridge(bridgeId: number, downstreamStatus: string) {
    const bridge = this.db.select().from(jobs).where(eq(jobs.id, bridgeId)).get();
    if (!bridge || bridge.status !== 'running') return;
    const strategy = bridge.spec.trigger?.strategy;
    if (!strategy || !isFinal(downstreamStatus)) return;
    const next = downstreamStatus === 'success' ? 'success' : strategy === 'mirror' ? downstreamStatus : 'failed';
    this.endBridge(bridge, next as 'success' | 'failed' | 'canceled' | 'skipped', next === 'failed' ? 'unknown_failure' : null);
  }

  /** Ends a running bridge and lets its pipeline go on. */
  endBridge(bridge: Job, status: 'success' | 'failed' | 'canceled' | 'skipped', failureReason: string | null) {
    atomically(this.db, () => {
      const now = this.deps.clock.now();
      const res = this.db.update(jobs).set({ status, finishedAt: now, updatedAt: now, failureReason })
        .where(and(eq(jobs.id, bridge.id), inArray(jobs.status, ['pending', 'running']))).run();
      if (changes(res) !== 1) return;
      const ended = this.db.select().from(jobs).where(eq(jobs.id, bridge.id)).get()!;
      this.jobEnded(ended);
    });
  }

  // ---------------------------------------------------------------- cancel, retry, delete

  cancel(pipelineId: number): Pipeline {
    atomically(this.db, () => {
      this.get(pipelineId);
      this.cancelJobs(pipelineId, { cascade: true });
    });
    // freed resources may have let other pipelines' jobs go
    this.announceWork();
    return this.get(pipelineId);
  }

  /**
   * Cancels the cancelable jobs of a pipeline (all, or only the interruptible ones), releases
   * their resources, and with `cascade` cancels the downstream pipelines too.
   */
  private cancelJobs(pipelineId: number, opts: { cascade: boolean; onlyInterruptible?: boolean }) {
    const now = this.deps.clock.now();
    const where = and(eq(jobs.pipelineId, pipelineId), inArray(jobs.status, [...CANCELABLE]),
      opts.onlyInterruptible ? eq(jobs.interruptible, true) : undefined);
    const victims = this.db.select().from(jobs).where(where).all().map((j) => ({ ...j, group: j.resourceGroupId }));
    if (victims.length === 0 && !opts.cascade) return;
    this.db.update(jobs).set({ status: 'canceled', finishedAt: now, updatedAt: now }).where(where).run();
    for (const v of victims) this.told({ ...v, finishedAt: now, updatedAt: now }, v.status, 'canceled');
    for (const v of victims) this.deps.store.closeTrace(v.id);
    const groups = new Set(victims.filter((v) => v.group !== null).map((v) => v.group!));
    for (const v of victims) if (v.group !== null) this.resources.release(v.id, v.group);
    if (opts.cascade) for (const child of this.downstreamOf(pipelineId)) this.cancelJobs(child.id, opts);
    this.process(pipelineId);
    if (groups.size) this.assignResources(groups);
  }

  /** Re-runs failed and canceled jobs and re-opens what was skipped after them. */
  retry(pipelineId: number): Pipeline {
    atomically(this.db, () => {
      this.get(pipelineId);
      const redo = this.latestJobs(pipelineId).filter((j) => j.status === 'failed' || j.status === 'canceled');
      if (redo.length === 0) return;
      for (const j of redo) this.cloneJob(j, 'created', { retriesLeft: j.spec.retry.max });
      this.reopenDependants(pipelineId, redo);
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
      this.deps.store.deleteReports(id);
      this.deps.notifier.traces.signal(id);
    }
    this.deps.notifier.pipelines.signal(pipelineId);
  }

  // ---------------------------------------------------------------- auto-cancel

  /**
   * `workflow:auto_cancel:on_new_commit` (spec ci-yaml.md §3.5): a new pipeline on a ref
   * cancels the older, still running pipelines of that ref and other commits, each by its
   * own setting — `conservative` cancels a pipeline only while none of its non-interruptible
   * jobs has started, `interruptible` cancels only its interruptible jobs, `none` nothing.
   */
  private cancelRedundant(p: Pipeline) {
    const candidates = this.db.$client.query<unknown[], Record<string, string | number>>(REDUNDANT)
      .values({ projectId: p.projectId, ref: p.ref, id: p.id, sha: p.sha, since: p.createdAt - WEEK_MS }).map((r) => PIPELINE_ROW.read(r));
    for (const c of candidates) {
      if (c.autoCancelOnNewCommit === 'none') continue;
      if (c.autoCancelOnNewCommit === 'conservative') {
        const started = this.db.select({ id: jobs.id }).from(jobs)
          .where(and(eq(jobs.pipelineId, c.id), eq(jobs.interruptible, false), inArray(jobs.status, STARTED))).limit(1).get();
        if (started) continue;
        this.cancelJobs(c.id, { cascade: false });
      } else {
        this.cancelJobs(c.id, { cascade: false, onlyInterruptible: true });
      }
      this.db.update(pipelines).set({ autoCanceledById: p.id }).where(eq(pipelines.id, c.id)).run();
    }
  }

  // ---------------------------------------------------------------- delayed jobs

  /** Moves `scheduled` jobs whose time has come to the queue (the timer and the reaper call it). */
  enqueueDue(): number {
    let moved = 0;
    atomically(this.db, () => {
      const now = this.deps.clock.now();
      const due = this.db.select().from(jobs).where(and(eq(jobs.status, 'scheduled'), lte(jobs.scheduledAt, now))).limit(500).all();
      for (const job of due) if (this.enqueue(job, 'scheduled')) moved++;
    });
    if (moved) this.announceWork();
    this.armTimer();
    return moved;
  }

  /** A manual or scheduled job goes to the queue now (play, or its time came). */
  enqueue(job: Job, from: 'manual' | 'scheduled'): boolean {
    const now = this.deps.clock.now();
    const status = job.resourceGroupId !== null ? 'waiting_for_resource' : 'pending';
    const res = this.db.update(jobs).set({ status, queuedAt: now, updatedAt: now }).where(and(eq(jobs.id, job.id), eq(jobs.status, from))).run();
    if (changes(res) !== 1) return false;
    this.told({ ...job, queuedAt: now, updatedAt: now }, from, status);
    if (job.resourceGroupId !== null) this.assignResources([job.resourceGroupId], job.pipelineId);
    if (job.kind === 'bridge') this.startBridgesLater();
    this.reopenDependants(job.pipelineId, [job]);
    this.process(job.pipelineId);
    return true;
  }

  /** One in-process timer for the earliest scheduled job (the reaper's sweep is the fallback). */
  private armTimer() {
    if (this.stopped) return;
    const next = this.db.select({ t: sql<number | null>`min(${jobs.scheduledAt})` }).from(jobs).where(eq(jobs.status, 'scheduled')).get()?.t ?? null;
    if (next === null) return;
    if (this.timer && this.timerAt <= next) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      try { this.enqueueDue(); } catch (e) { this.deps.log.error({ err: e }, 'delayed jobs could not be enqueued'); }
    }, Math.min(2 ** 31 - 1, Math.max(0, next - this.deps.clock.now())));
    this.timer.unref?.();
  }

  /** Stops the timer (the server is stopping). */
  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Queue time of the previous announcement: jobs queued since are the news of the next one. */
  private announcedAt = -Infinity;

  /**
   * Tells waiting runners that work may be there: the epoch ticks (so no echoing runner is
   * told "nothing" for it), and the held polls of runners whose tags fit a job queued since
   * the last announcement are woken — only those (the wake-up storm, bench P8). Every way
   * into `pending` sets `queued_at` (processing, retries, plays, resource groups), read
   * through the partial index of pending jobs; a second of overlap covers clock steps.
   */
  announceWork() {
    this.instance.tickQueue();
    const now = this.deps.clock.now();
    const since = this.announcedAt - ANNOUNCE_OVERLAP_MS;
    this.announcedAt = now;
    const rows = (this.newWork ??= this.prepareNewWork()).all({ since: Number.isFinite(since) ? since : -1 });
    this.deps.notifier.notify(rows.map((r) => JSON.parse(r.tags) as string[]), rows.reduce((n, r) => n + r.n, 0));
  }

  private newWork?: ReturnType<PipelineService['prepareNewWork']>;
  /** The tag lists (and how many jobs of each) of build jobs queued since `since` and still pending. */
  private prepareNewWork() {
    return this.db.select({ tags: sql<string>`${jobs.tagList}`, n: sql<number>`count(*)` }).from(jobs)
      .where(and(eq(jobs.status, 'pending'), sql`${jobs.queuedAt} >= ${sql.placeholder('since')}`, eq(jobs.kind, 'build')))
      .groupBy(jobs.tagList).prepare();
  }
}

/**
 * The pipeline's YAML variables a job receives, in file order: all of them, or the names its
 * `inherit:variables` kept (JobSpec.globalVariables, written by the compiler).
 */
export function inheritedYamlVariables(pipeline: Pick<Pipeline, 'yamlVariables'>, spec: Pick<Job['spec'], 'globalVariables'>): [string, string][] {
  const all = Object.entries(pipeline.yamlVariables);
  if (spec.globalVariables === undefined) return all;
  const kept = new Set(spec.globalVariables);
  return all.filter(([k]) => kept.has(k));
}

/**
 * GitLab's auto-retry rule: retries left, a failure reason `retry:when` lists (`always` =
 * any), an exit code `retry:exit_codes` lists (when given). A log over the size limit is
 * never retried.
 */
export function autoRetryAllowed(job: Job): boolean {
  if (job.status !== 'failed' || job.retriesLeft <= 0 || job.failureReason === 'trace_size_exceeded' || job.kind !== 'build') return false;
  const r = job.spec.retry;
  const when = r.when?.length ? r.when : ['always'];
  if (!when.includes('always') && !when.includes(job.failureReason ?? 'unknown_failure')) return false;
  if (r.exit_codes?.length && (job.exitCode === null || !r.exit_codes.includes(job.exitCode))) return false;
  return true;
}
