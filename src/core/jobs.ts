/**
 * THE JOB LIFECYCLE — the contract between Baton and its runners, described once here.
 * Both runner protocols (runner-api/v1, runner-api/v4) are thin adapters over this file;
 * pipelines.ts and processing.ts carry it out.
 *
 *   created ──(its turn: see "Processing")──▶ pending | waiting_for_resource | scheduled | manual | skipped
 *   waiting_for_resource ──(its resource_group's one resource is granted)──▶ pending
 *   scheduled ──(start_in elapsed, or play)──▶ pending | waiting_for_resource
 *   manual ──(play)──▶ pending | waiting_for_resource
 *   pending ──(claimed by exactly one runner)──▶ running
 *   running ──(runner reports success)──▶ success
 *   running ──(runner reports failure | timeout | stuck)──▶ failed
 *   any not final ──(cancel)──▶ canceled          (a pipeline cancel leaves manual jobs waiting)
 *   bridge (`trigger:`) pending ──(downstream pipeline created)──▶ success, or running until the
 *      downstream ends (strategy depend: success/failed; mirror: its status) ; never sent to a runner
 *
 * Processing (processing.ts, GitLab's atomic processing): whenever something in a pipeline
 * changes, every `created` job is looked at, by stage and inside a stage in the order of its
 * needs. Its *prior status* is the composite status (status.ts) of
 *   - its `needs` (a DAG job; `needs: []` has none, so it starts at once), in DAG mode, where
 *     a skipped or ignored (unplayed optional manual) need counts as `skipped`;
 *   - otherwise every job of the lower stages (stages are implicit needs);
 *   - `success` when there is nothing to look at.
 * While the prior status is not final the job stays `created`. Then its `when` decides:
 *   on_success, manual, delayed: success — or skipped too, for a stage job (not a DAG job)
 *   on_failure: failed            always: success, failed, skipped
 * so a canceled predecessor skips everything later, even `when: always`. Accepted → manual,
 * scheduled (delayed, `scheduled_at` = now + start_in) or enqueued: `pending`, or
 * `waiting_for_resource` with a `resource_group` (resource-groups.ts). Not accepted → skipped.
 * A job that comes alive again (played, retried) sends its skipped dependants — later stages
 * and everything that needs it — back to `created`. Decisions happen in the transaction
 * that caused them (creation, a job's end, play, retry, cancel), so a crash never leaves a
 * pipeline half-advanced; the pipeline's status is the composite of its jobs.
 *
 * When a job ends: `allow_failure: {exit_codes}` turns a listed exit code into an allowed
 * failure; `retry: {max, when, exit_codes}` re-queues a copy when the failure reason and exit
 * code match (the old attempt is kept, marked retried); its resource is released and given to
 * the next job; its deployment follows it; `auto_cancel:on_job_failure: all` cancels the rest
 * of the pipeline when it failed for real; its coverage is read from its log.
 * A new pipeline on a ref cancels older ones of other commits by their
 * `auto_cancel:on_new_commit` (pipelines.ts cancelRedundant).
 *
 * The conversation with a runner, in order:
 * 1. Register: a registration token (instance → shared runner, project `runners_token` →
 *    project runner) buys a runner token, shown once and stored as a hash.
 * 2. Poll: the runner asks for work with its runner token. queue.ts lists what it may take;
 *    claim() takes the first with ONE conditional write (`… WHERE status='pending' AND
 *    runner_id IS NULL`) inside an IMMEDIATE transaction — the change count decides the
 *    winner, so a job is never handed out twice, even by two processes. The winner gets the
 *    job payload and a fresh job token (stored as a hash). Nothing to do → "no job" with the
 *    queue epoch (`X-GitLab-Last-Update`); a runner echoing the current epoch may be held
 *    until notifier.ts says work arrived (long polling).
 * 3. Run: the runner appends its log at byte offsets (appendTrace: the start must equal the
 *    stored length, else a range mismatch carrying the stored length) and sends state
 *    updates (`running` is a keep-alive). Every call is a sign of life (`updated_at`) that
 *    the reaper reads. The archive and the reports (`artifact_type` junit, dotenv, …) may be
 *    uploaded while the job runs; a dotenv report is parsed at once (a bad one is refused,
 *    and the runner fails the job).
 * 4. End: the runner reports `success` or `failed` with `failure_reason` and `exit_code`
 *    (v1 may send the whole log, which replaces the stored one). The end and what follows
 *    from it (above) happen in one transaction.
 * 5. Cancel (people, auto-cancel) or timeout/stuck (reaper): the status changes at once. The
 *    runner learns on its next call: a trace PATCH still succeeds but carries the job status
 *    (`Build-Status` / `Job-Status`), a state update is refused (v1 404, v4 403).
 *    A runner can never move a job out of a final state.
 */
import type { Statement } from 'bun:sqlite';
import { and, asc, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import { jobNeeds, jobs, jobVariables, pipelineSchedules, projects, runners, users, variables as variablesTable, type Job, type Pipeline, type Project, type Runner } from '../db/schema';
import { expand, expandCollection } from './ci-config/expand';
import type { PipelineSource } from './ci-config/types';
import type { CoreDeps, ServerInfo } from './context';
import { guessTier } from './environments';
import { badRequest, DomainError, forbidden, notFound } from './errors';
import { inheritedYamlVariables, type PipelineService } from './pipelines';
import { environmentSlug, prePipelineVariables, slugify, userVariables, type PrePipelineInput } from './predefined-variables';
import { projectWebUrl } from './projects';
import { eligibleJobs, pendingReason } from './queue';
import { ONLINE_WINDOW_MS } from './runners';
import { hashToken, matchesHash, randomToken, safeEqual, TOKEN_PREFIX } from './tokens';
import { currentSecretsVersion, maskTrace } from './trace';
import { atomically, changes } from './tx';
import { ClaimBatch } from './claim-batch';
import { rowReader } from '../db/rows';

export { FINAL_STATUSES, isFinal } from './status';

/** A job variable as runner API v4 sends it (payload.ts passes these objects as they are): `raw` only when true. */
export interface JobVariable { key: string; value: string; public: boolean; masked: boolean; raw?: true }

export interface Dependency { job: Job; artifacts: { filename: string; size: number } | null }

/** Everything a runner adapter needs to render a job payload. */
export interface JobContext {
  job: Job;
  project: Project;
  pipeline: Pipeline;
  runner: Runner | null;
  /** the job token in clear text: known only when the job is handed out or presented */
  token: string;
  repoUrl: string;
  timeout: number;
  variables: JobVariable[];
  dependencies: Dependency[];
}

/** `info.features` of a job request: `{multi_build_steps: true, …}`. */
export type RunnerFeatures = Record<string, unknown>;

export type ClaimResult = { outcome: 'job'; context: JobContext } | { outcome: 'none' } | { outcome: 'conflict' };
/** A claim before its payload data is assembled (JobService.take). */
export type Taken = { outcome: 'job'; job: Job; token: string } | { outcome: 'none' } | { outcome: 'conflict' };

export type RunnerState = 'running' | 'success' | 'failed';

/** The columns of a job its trace PATCH needs: no JSON to decode (bench P4). */
export type TraceJob = Pick<Job, 'id' | 'projectId' | 'status' | 'tokenHash' | 'runnerId' | 'startedAt' | 'updatedAt'>;

/** What masking needs of a project, cached briefly per project (see projectSecrets). */
interface ProjectSecrets {
  runnersToken: string;
  /** the secrets masking looks for that are known before the PATCH: the runners token, masked values */
  known: Uint8Array[];
  version: number;
  /** deps clock: jobs claimed after this may know variables this entry lacks */
  loadedAt: number;
  /** performance.now() after which another process's changes must be read */
  expires: number;
}

/** How long masking trusts its copy of a project's secrets; changes in this process drop it at once. */
const SECRETS_TTL_MS = 1000;

const JOB_ROW = rowReader(jobs);

/**
 * The claiming UPDATE, one text per variant. It changes the row only if the job is still
 * pending: a change decides the winner, which then reads the row (a separate read by id cost
 * ~1 µs less than RETURNING, which SQLite collects in a temporary table first). The job's timeout is decided
 * here (no read of the job before): the YAML `timeout`, else `$fallback` (the project's, else
 * --default-job-timeout), capped by the runner's maximum timeout when it has one. `noRelease`:
 * the runner lacks multi_build_steps, so a `release:` job is not taken (the caller fails it).
 */
function takeSql(capped: boolean, noRelease: boolean): string {
  const t = `coalesce(json_extract(spec, '$.timeout'), $fallback)`;
  return `UPDATE jobs SET status = 'running', runner_id = $runner, token_hash = $hash, started_at = $now, updated_at = $now,
      timeout = ${capped ? `min(${t}, $max)` : t}
    WHERE id = $id AND status = 'pending' AND runner_id IS NULL${noRelease ? ` AND json_extract(spec, '$.release') IS NULL` : ''}`;
}

/** The running job a token hash belongs to (job tokens work only while their job runs: schema.ts, jobs_running). */
export function runningJobByToken(db: CoreDeps['db'], hash: string): Job | undefined {
  const row = db.$client.query<unknown[], [string]>(`SELECT ${JOB_ROW.columns} FROM jobs INDEXED BY jobs_running
    WHERE status = 'running' AND token_hash = ?`).values(hash)[0];
  return row ? JOB_ROW.read(row) : undefined;
}

/**
 * The queries of the claim and trace paths, prepared once per database: drizzle renders SQL
 * anew on every call, which cost more than running it (bench/, P2 and P4).
 */
const hotQueries = (db: CoreDeps['db']) => {
  const id = sql.placeholder('id');
  return {
    /** a job by id, decoded with JOB_ROW (find, and the claim's winner) */
    job: db.$client.query<unknown[], { id: number }>(`SELECT ${JOB_ROW.columns} FROM jobs WHERE id = $id`),
    // plain columns only, so bun:sqlite's own row objects need no mapping; every trace PATCH
    // reads it, so it reads the turn's snapshot (turn-reads.ts): a status changed a moment ago
    // reaches the runner with its next PATCH, as it would have had this one come sooner
    traceJob: db.turnReads.query<TraceJob, { id: number }>(`SELECT id, project_id AS projectId, status, token_hash AS tokenHash,
      runner_id AS runnerId, started_at AS startedAt, updated_at AS updatedAt FROM jobs WHERE id = $id`),
    project: db.select().from(projects).where(eq(projects.id, id)).prepare(),
    runner: db.select().from(runners).where(eq(runners.id, id)).prepare(),
    user: db.select({ id: users.id, username: users.username, name: users.name, email: users.email }).from(users).where(eq(users.id, id)).prepare(),
    secrets: db.select().from(variablesTable).where(eq(variablesTable.projectId, id)).orderBy(asc(variablesTable.key)).prepare(),
    earlier: db.select().from(jobs)
      .where(and(eq(jobs.pipelineId, id), lt(jobs.stageIdx, sql.placeholder('stageIdx')), eq(jobs.retried, false)))
      .orderBy(asc(jobs.stageIdx), asc(jobs.id)).prepare(),
    projectToken: db.select({ token: projects.runnersToken }).from(projects).where(eq(projects.id, id)).prepare(),
    masked: db.select({ value: variablesTable.value }).from(variablesTable)
      .where(and(eq(variablesTable.projectId, id), eq(variablesTable.masked, true))).prepare(),
    touch: db.update(jobs).set({ updatedAt: sql`${sql.placeholder('now')}` }).where(eq(jobs.id, id)).prepare(),
    /**
     * Does the job need a runner feature? GitLab's Ci::Build::RUNNER_FEATURES that Baton's jobs
     * can need: multi_build_steps, for the release step of a `release:` job. Without decoding the spec.
     */
    needsSteps: db.select({ release: sql<number>`json_extract(${jobs.spec}, '$.release') IS NOT NULL` }).from(jobs).where(eq(jobs.id, id)).prepare(),
  };
};

export class JobService {
  constructor(private deps: CoreDeps, private pipelines: PipelineService) {}

  private get db() { return this.deps.db; }

  private hot?: ReturnType<typeof hotQueries>;
  /** the claiming UPDATE's variants (takeSql), compiled once each */
  private takes: Statement<unknown, [Record<string, string | number>]>[] = [];
  private get q() { return (this.hot ??= hotQueries(this.db)); }

  // ---------------------------------------------------------------- hand-out

  /**
   * Picks and claims the next job this runner may take. The search is a plain read: only
   * when it found candidates is the write lock taken (IMMEDIATE), so an idle runner's poll
   * never waits for, nor holds up, another writer. Another process may have taken a
   * candidate since the read; the conditional UPDATE still decides, and the next candidate
   * is tried. `features` are what the runner says it can do in this request
   * (`info.features`; v1 runners declare none): a job that needs a feature the runner lacks
   * is failed with `runner_unsupported` and the next one is looked at, as GitLab's
   * RegisterJobService does (Ci::Build#supported_runner?).
   */
  claim(runner: Runner, features?: RunnerFeatures, batch = new ClaimBatch()): ClaimResult {
    const taken = this.take(runner, features, batch);
    return taken.outcome === 'job' ? { outcome: 'job', context: this.context(taken.job, taken.token, runner, batch) } : taken;
  }

  /**
   * claim() without the payload data: what must happen inside the write transaction. The
   * group commit (dispatch.ts) builds the payloads after its commit, so the write lock is not
   * held while they are assembled (another process on the data dir waits for it: bench P2).
   */
  take(runner: Runner, features?: RunnerFeatures, batch = new ClaimBatch()): Taken {
    const candidates = eligibleJobs(this.db, runner, batch);
    if (candidates.length === 0) return { outcome: 'none' };
    // Only `release:` jobs need a feature (multi_build_steps); runners that have it skip the check.
    const checkFeatures = !features?.multi_build_steps;
    const client = this.db.$client;
    const maxTimeout = runner.maximumTimeout ? runner.maximumTimeout : null;
    const variant = (maxTimeout !== null ? 2 : 0) + (checkFeatures ? 1 : 0);
    const take = (this.takes[variant] ??= client.query<unknown, Record<string, string | number>>(takeSql(maxTimeout !== null, checkFeatures)));
    let lost = 0;
    const won = atomically(this.db, () => {
      lost = 0;
      const now = this.deps.clock.now();
      for (const c of candidates) {
        const project = this.projectRow(c.projectId, batch);
        const token = randomToken(TOKEN_PREFIX.job);
        const params: Record<string, string | number> = {
          id: c.id, runner: runner.id, hash: hashToken(token), now, fallback: project.buildTimeout ?? this.deps.limits.defaultJobTimeout,
        };
        if (maxTimeout !== null) params.max = maxTimeout;
        if (take.run(params).changes === 0) {
          // Taken by another process — or a `release:` job this runner cannot run (rare: looked at only then).
          if (checkFeatures && this.q.needsSteps.get({ id: c.id })?.release && this.failPending(c.id, 'runner_unsupported')) {
            batch.gone(c.id);
            continue;
          }
          lost++;
          continue;
        }
        const job = this.find(c.id)!;
        batch.gone(job.id);
        this.deps.events.jobStatus(job, 'pending', 'running');
        // Only the first claim of a pipeline can change its aggregate status.
        let pipeline = this.pipelineRow(job.pipelineId, batch);
        if (pipeline?.status !== 'running') { this.pipelines.refreshStatus(job.pipelineId); pipeline = undefined; }
        else if (job.spec.environment) { this.pipelines.environments.sync(job.pipelineId); pipeline = undefined; }
        else this.deps.notifier.pipelines.signal(job.pipelineId);
        if (!pipeline) batch.forget('pipeline', job.pipelineId);
        return { job, token };
      }
      return null;
    });
    // counted once the transaction is committed
    if (lost) this.deps.metrics.claimConflicts.inc(lost);
    // every candidate taken by another process (409), or only jobs this runner cannot run
    if (won === null) return lost ? { outcome: 'conflict' } : { outcome: 'none' };
    this.deps.metrics.claims.inc();
    if (won.job.queuedAt !== null) this.deps.metrics.jobQueued.observe((won.job.startedAt! - won.job.queuedAt) / 1000);
    return { outcome: 'job', job: won.job, token: won.token };
  }

  /** Rows every job of a project or pipeline repeats, read once per batch of claims. */
  private projectRow(id: number, batch: ClaimBatch): Project {
    return batch.get('project', id, () => this.q.project.get({ id })!);
  }

  private pipelineRow(id: number, batch: ClaimBatch): Pipeline | undefined {
    return batch.get('pipeline', id, () => this.pipelines.find(id) ?? undefined);
  }

  /** Assembles the payload data of a job (for the claim, and for v1's artifact-upload answer). */
  context(job: Job, token: string, runner?: Runner | null, batch = new ClaimBatch()): JobContext {
    const project = this.projectRow(job.projectId, batch);
    const pipeline = this.pipelineRow(job.pipelineId, batch)!;
    const r = runner ?? this.runnerOf(job);
    const repoUrl = cloneUrl(project, token);
    const dependencies = this.dependencies(job);
    return {
      job, project, pipeline, runner: r, token, repoUrl,
      timeout: job.timeout ?? project.buildTimeout ?? this.deps.limits.defaultJobTimeout,
      variables: this.variablesFor(job, project, pipeline, r, token, repoUrl, dependencies, batch),
      dependencies,
    };
  }

  /**
   * GitLab's order (spec ci-yaml.md §5.2, "implementation order"; a later entry wins on the
   * runner): job predefined, then project and pipeline predefined — the pre-pipeline ones from
   * `prePipelineVariables`, the very list the compiler gave `rules`, `workflow` and `include` —
   * then the persisted and runner ones; YAML (global, as `inherit:variables` allows, then
   * job); `GITLAB_USER_*` (so YAML cannot override them); dotenv variables of the jobs it
   * depends on; project CI/CD variables; pipeline (trigger/API/schedule) variables.
   */
  private variablesFor(job: Job, project: Project, pipeline: Pipeline, runner: Runner | null, token: string, repoUrl: string, deps: Dependency[], batch: ClaimBatch): JobVariable[] {
    const server = this.deps.server;
    const projectUrl = projectWebUrl(server.url, project);
    const out: JobVariable[] = [];
    const pub = (key: string, value: string | number | boolean) => out.push({ key, value: String(value), public: true, masked: false });
    const secret = (key: string, value: string) => out.push({ key, value, public: false, masked: false });
    const spec = job.spec;
    // job predefined (persisted or runner-bound: invisible to rules)
    pub('CI_JOB_ID', job.id); pub('CI_JOB_NAME', job.name); pub('CI_JOB_NAME_SLUG', slugify(job.name)); pub('CI_JOB_STAGE', job.stage);
    if (spec.parallel) pub('CI_JOB_GROUP_NAME', spec.parallel.group);
    secret('CI_JOB_TOKEN', token); pub('CI_JOB_URL', `${projectUrl}/-/jobs/${job.id}`);
    if (job.startedAt !== null) pub('CI_JOB_STARTED_AT', isoSeconds(job.startedAt));
    pub('CI_JOB_TIMEOUT', job.timeout ?? project.buildTimeout ?? this.deps.limits.defaultJobTimeout);
    if (job.when === 'manual') pub('CI_JOB_MANUAL', 'true');
    pub('CI_NODE_TOTAL', spec.parallel?.total ?? 1);
    if (spec.parallel) pub('CI_NODE_INDEX', spec.parallel.index);
    pub('CI_BUILD_ID', job.id); pub('CI_BUILD_NAME', job.name); pub('CI_BUILD_STAGE', job.stage);
    secret('CI_BUILD_TOKEN', token);
    pub('CI_BUILD_REF', pipeline.sha); pub('CI_BUILD_BEFORE_SHA', pipeline.beforeSha);
    pub('CI_BUILD_REF_NAME', pipeline.ref); pub('CI_BUILD_REF_SLUG', slugify(pipeline.ref));
    if (pipeline.tag) pub('CI_BUILD_TAG', pipeline.ref);
    if (job.when === 'manual') pub('CI_BUILD_MANUAL', 'true');
    const env = spec.environment;
    if (env) {
      const stored = this.pipelines.environments.environmentOf(job);
      pub('CI_ENVIRONMENT_NAME', env.name);
      pub('CI_ENVIRONMENT_SLUG', stored?.slug ?? environmentSlug(env.name));
      pub('CI_ENVIRONMENT_ACTION', env.action);
      pub('CI_ENVIRONMENT_TIER', env.deployment_tier ?? stored?.tier ?? guessTier(env.name));
      // as written: the runner expands it with the job's variables, as GitLab's runners do
      if (env.url) pub('CI_ENVIRONMENT_URL', env.url);
      if (stored) pub('CI_ENVIRONMENT_ID', stored.id);
    }
    // project and pipeline predefined, the same for every job of the pipeline
    for (const v of batch.get('pipeline variables', pipeline.id, () => this.pipelineVariables(project, pipeline))) out.push(v);
    secret('CI_REPOSITORY_URL', repoUrl);
    if (runner) {
      pub('CI_RUNNER_ID', runner.id); pub('CI_RUNNER_DESCRIPTION', runner.description); pub('CI_RUNNER_TAGS', runner.tagList.join(', '));
    }
    const rawGlobal = new Set(pipeline.yamlRawVariables ?? []);
    const rawJob = new Set(spec.rawVariables ?? []);
    const yaml = (key: string, value: string, raw: boolean) => out.push({ key, value, public: true, masked: false, ...(raw ? { raw: true } : {}) });
    for (const [k, v] of inheritedYamlVariables(pipeline, spec)) yaml(k, v, rawGlobal.has(k));
    for (const [k, v] of Object.entries(spec.variables ?? {})) yaml(k, v, rawJob.has(k));
    const userId = pipeline.userId;
    // GITLAB_USER_*, made once per user and batch (every claim of a pipeline repeats them)
    const user = userId === null ? undefined : batch.get('user', userId, () => { const u = this.q.user.get({ id: userId }); return u ? Object.entries(userVariables(u)) : undefined; });
    if (user) for (const [k, v] of user) pub(k, v);
    for (const v of this.dotenvOf(deps)) pub(v.key, v.value);
    const secrets = batch.get('secrets', project.id, () => this.q.secrets.all({ id: project.id }));
    for (const v of secrets) out.push({ key: v.key, value: v.value, public: false, masked: v.masked });
    for (const v of pipeline.triggerVariables) secret(v.key, v.value);
    return out;
  }

  /** What rules saw (spec §5.1), then the persisted ones (Baton's pipeline iid is its id, known once the row exists). */
  private pipelineVariables(project: Project, pipeline: Pipeline): readonly JobVariable[] {
    const out: JobVariable[] = [];
    const pub = (key: string, value: string | number) => out.push({ key, value: String(value), public: true, masked: false });
    // a schedule's pipeline: its description, as the rules saw it (the schedule may have been renamed or deleted since: GitLab reads it now too)
    const schedule = pipeline.pipelineScheduleId === null ? undefined
      : this.db.select({ description: pipelineSchedules.description }).from(pipelineSchedules).where(eq(pipelineSchedules.id, pipeline.pipelineScheduleId)).get();
    for (const [k, v] of Object.entries(prePipelineVariables(prePipelineInput(this.deps.server, project, pipeline, schedule?.description)))) pub(k, v);
    pub('CI_PIPELINE_IID', pipeline.id); pub('CI_PIPELINE_ID', pipeline.id);
    pub('CI_PIPELINE_URL', `${projectWebUrl(this.deps.server.url, project)}/-/pipelines/${pipeline.id}`);
    pub('CI_PIPELINE_CREATED_AT', isoSeconds(pipeline.createdAt));
    if (pipeline.triggerVariables.length) { pub('CI_PIPELINE_TRIGGERED', 'true'); pub('CI_BUILD_TRIGGERED', 'true'); }
    return out;
  }

  /** The dotenv variables of the jobs a job depends on, in dependency order (a later job wins). */
  private dotenvOf(deps: Dependency[]): { key: string; value: string }[] {
    if (deps.length === 0) return [];
    const ids = deps.map((d) => d.job.id);
    const rows = this.db.select().from(jobVariables).where(inArray(jobVariables.jobId, ids)).all();
    const order = new Map(ids.map((id, i) => [id, i]));
    return rows.sort((a, b) => order.get(a.jobId)! - order.get(b.jobId)!).map((r) => ({ key: r.key, value: r.value }));
  }

  /**
   * The jobs whose artifacts (and dotenv variables) a job receives, latest attempts only:
   * a DAG job its needs with `artifacts: true`, a stage job every earlier-stage job; either
   * narrowed by YAML `dependencies` ([] = none). Expired archives are not offered.
   */
  dependencies(job: Job): Dependency[] {
    const wanted = job.spec.dependencies;
    if (wanted && wanted.length === 0) return [];
    const now = this.deps.clock.now();
    let rows: Job[];
    if (job.dag) {
      const names = this.db.select({ name: jobNeeds.needName }).from(jobNeeds)
        .where(and(eq(jobNeeds.pipelineId, job.pipelineId), eq(jobNeeds.jobName, job.name), eq(jobNeeds.artifacts, true))).all()
        .map((n) => n.name).filter((n) => !wanted || wanted.includes(n));
      rows = names.length === 0 ? [] : this.db.select().from(jobs)
        .where(and(eq(jobs.pipelineId, job.pipelineId), eq(jobs.retried, false), inArray(jobs.name, names)))
        .orderBy(asc(jobs.stageIdx), asc(jobs.id)).all();
    } else if (job.stageIdx <= 0) {
      rows = []; // no earlier stage
    } else {
      rows = this.q.earlier.all({ id: job.pipelineId, stageIdx: job.stageIdx }).filter((j) => !wanted || wanted.includes(j.name));
    }
    return rows
      .filter((j) => j.kind === 'build')
      .map((j) => ({
        job: j,
        artifacts: j.artifactsFile && j.artifactsSize !== null && (j.artifactsExpireAt === null || j.artifactsExpireAt > now)
          ? { filename: j.artifactsFile, size: j.artifactsSize } : null,
      }));
  }

  // ---------------------------------------------------------------- lookups

  find(id: number): Job | null {
    if (!Number.isSafeInteger(id)) return null;
    const row = this.q.job.values({ id })[0];
    return row ? JOB_ROW.read(row) : null;
  }

  get(id: number): Job {
    const j = this.find(id);
    if (!j) throw notFound('Job');
    return j;
  }

  /**
   * Job-token authentication for a job's own endpoints: the job must exist (404), the token
   * must be its own (or, for v1, the project's runners token — GitLab 8.12–9.5) (403).
   */
  authenticate(jobId: number, token: string | undefined, opts: { allowProjectToken: boolean }): { job: Job } {
    const job = this.find(jobId);
    if (!job) throw notFound('Job');
    this.checkJobToken(job, token, opts);
    return { job };
  }

  /** authenticate() for the trace PATCH: the same checks on the few columns it needs. */
  authenticateTrace(jobId: number, token: string | undefined, opts: { allowProjectToken: boolean }): TraceJob {
    const job = Number.isSafeInteger(jobId) ? this.q.traceJob.get({ id: jobId }) ?? undefined : undefined;
    if (!job) throw notFound('Job');
    this.checkJobToken(job, token, opts);
    return job;
  }

  private checkJobToken(job: Pick<Job, 'projectId' | 'tokenHash'>, token: string | undefined, opts: { allowProjectToken: boolean }) {
    if (!token) throw forbidden();
    if (matchesHash(job.tokenHash, token)) return;
    // A project's runners token never changes, so the cached copy is as good as the row.
    if (opts.allowProjectToken && safeEqual(this.projectSecrets(job.projectId, null).runnersToken, token)) return;
    throw forbidden();
  }

  /**
   * May this token download that job's artifacts? Its own token, the project's runners token
   * (v1), or the token of a running job of the same pipeline that depends on it (dependencies())
   * — that is the token Baton hands out in dependency lists, since job tokens are stored only as hashes.
   */
  authenticateArtifactDownload(jobId: number, token: string | undefined, opts: { allowProjectToken: boolean }): { job: Job; project: Project } {
    const job = this.find(jobId);
    if (!job) throw notFound('Job');
    const project = this.q.project.get({ id: job.projectId })!;
    if (!token) throw forbidden();
    const hash = hashToken(token);
    if (job.tokenHash !== null && safeEqual(job.tokenHash, hash)) return { job, project };
    if (opts.allowProjectToken && safeEqual(project.runnersToken, token)) return { job, project };
    const downloader = runningJobByToken(this.db, hash);
    if (downloader && downloader.pipelineId === job.pipelineId && downloader.status === 'running'
      && this.dependencies(downloader).some((d) => d.job.id === job.id)) {
      return { job, project };
    }
    throw forbidden();
  }

  /** v1 `PUT builds/:id`: the job, if it is running and this runner's. */
  runningFor(runner: Runner, jobId: number): Job | null {
    const j = this.find(jobId);
    return j && j.status === 'running' && j.runnerId === runner.id ? j : null;
  }

  // ---------------------------------------------------------------- from the runner

  /** A state update from the runner of a running job. `running` is a keep-alive. */
  update(job: Job, input: { state?: string; trace?: Uint8Array; failureReason?: string; exitCode?: number; presentedToken?: string }) {
    atomically(this.db, () => {
      const now = this.deps.clock.now();
      // A whole log (v1) is kept up to --max-trace-size, like the appends that built it.
      const max = this.deps.limits.maxTraceSize;
      if (input.trace !== undefined) {
        this.deps.metrics.traceBytes.inc(this.deps.store.replaceTrace(job.id, this.mask(job, input.trace.length > max ? input.trace.subarray(0, max) : input.trace, input.presentedToken)));
        this.deps.notifier.traces.signal(job.id);
      }
      if (input.state === 'success' || input.state === 'failed') {
        this.finish(job.id, input.state, {
          failureReason: input.state === 'failed' ? sanitizeReason(input.failureReason) ?? 'script_failure' : null,
          exitCode: Number.isSafeInteger(input.exitCode) ? input.exitCode! : null,
        });
      } else {
        this.db.update(jobs).set({ updatedAt: now }).where(eq(jobs.id, job.id)).run();
      }
    });
  }

  /**
   * Appends a slice of the log at `start`. Works in any status (a canceled job's runner
   * learns the status from the answer). Throws a range mismatch carrying the stored length.
   */
  appendTrace(job: TraceJob, start: number, bytes: Uint8Array, presentedToken?: string): { length: number; status: string } {
    if (start + bytes.length > this.deps.limits.maxTraceSize) {
      // A wrong offset is a 416 before anything else: a garbled Content-Range must not fail
      // the job as "too large".
      const stored = this.deps.store.traceLength(job.id);
      if (start !== stored) throw new DomainError('range_mismatch', '416 Range Not Satisfiable', { length: stored });
      if (job.status === 'running') this.finish(job.id, 'failed', { failureReason: 'trace_size_exceeded', exitCode: null });
      throw new DomainError('too_large', 'The trace is larger than this server keeps (--max-trace-size)');
    }
    // The store compares the offset with the length on disk right before it writes.
    const res = this.deps.store.appendTrace(job.id, start, this.mask(job, bytes, presentedToken));
    if (res.mismatch) throw new DomainError('range_mismatch', '416 Range Not Satisfiable', { length: res.length });
    this.deps.metrics.traceBytes.inc(bytes.length);
    // Live log viewers (SSE): a Map lookup when nobody watches this job.
    if (bytes.length > 0) this.deps.notifier.traces.signal(job.id);
    // A sign of life for the reaper, written at most every 1 s (a tenth of --stuck-timeout if
    // that is shorter): runners PATCH many times a second, and each write is a commit (bench P4).
    const now = this.deps.clock.now();
    if (job.status === 'running' && now - job.updatedAt >= Math.min(1000, this.deps.limits.stuckTimeout * 100)) this.q.touch.run({ id: job.id, now });
    return { length: res.length, status: job.status };
  }

  private mask(job: Pick<Job, 'projectId' | 'tokenHash' | 'startedAt'>, bytes: Uint8Array, presentedToken?: string): Uint8Array {
    if (bytes.length === 0) return bytes;
    const { known } = this.projectSecrets(job.projectId, job.startedAt);
    return maskTrace(bytes, { secrets: presentedToken ? [...known, presentedToken] : known, jobTokenHash: job.tokenHash });
  }

  private secretsCache = new Map<number, ProjectSecrets>();

  /**
   * A project's runners token and masked variable values, read at most once a second per
   * project instead of on every PATCH (bench P4). A copy is not used for a job claimed after
   * it was read (that job may carry a variable created since, possibly by another process),
   * nor after a variable changed in this process (secretsChanged).
   */
  private projectSecrets(projectId: number, claimedAt: number | null): ProjectSecrets {
    const hit = this.secretsCache.get(projectId);
    if (hit && hit.version === currentSecretsVersion() && performance.now() < hit.expires && (claimedAt === null || hit.loadedAt > claimedAt)) return hit;
    const version = currentSecretsVersion();
    const loadedAt = this.deps.clock.now();
    const runnersToken = this.q.projectToken.get({ id: projectId })?.token ?? '';
    const masked = this.q.masked.all({ id: projectId }).map((m) => Buffer.from(m.value));
    const entry: ProjectSecrets = {
      runnersToken, known: [Buffer.from(runnersToken), ...masked],
      version, loadedAt, expires: performance.now() + SECRETS_TTL_MS,
    };
    if (this.secretsCache.size >= 1024) this.secretsCache.clear();
    this.secretsCache.set(projectId, entry);
    return entry;
  }

  traceLength(jobId: number) { return this.deps.store.traceLength(jobId); }
  readTrace(jobId: number, offset = 0, limit?: number) { return this.deps.store.readTrace(jobId, offset, limit); }
  traceLinesBefore(jobId: number, offset: number) { return this.deps.store.countTraceLines(jobId, offset); }
  traceBlob(jobId: number) { return this.deps.store.traceBlob(jobId); }

  // ---------------------------------------------------------------- endings

  /**
   * Moves a running job to a final status (runner report, timeout, stuck) and lets its
   * pipeline advance. No-op if the job is no longer running (it lost a race with a cancel).
   */
  finish(jobId: number, status: 'success' | 'failed', opts: { failureReason: string | null; exitCode: number | null }): boolean {
    const ended = atomically(this.db, () => {
      const now = this.deps.clock.now();
      const current = this.find(jobId);
      if (!current || current.status !== 'running') return false;
      // `allow_failure: {exit_codes}`: a listed exit code makes the failure an allowed one.
      const codes = current.spec.allowFailureExitCodes;
      const allowFailure = status === 'failed' && codes?.length && opts.exitCode !== null && codes.includes(opts.exitCode) ? true : current.allowFailure;
      const res = this.db.update(jobs)
        .set({ status, finishedAt: now, updatedAt: now, failureReason: opts.failureReason, exitCode: opts.exitCode, allowFailure })
        .where(and(eq(jobs.id, jobId), eq(jobs.status, 'running'))).run();
      if (changes(res) !== 1) return false;
      this.deps.store.closeTrace(jobId);
      const ended = this.get(jobId);
      if (ended.startedAt !== null) this.deps.metrics.jobDuration.observe((now - ended.startedAt) / 1000);
      this.deps.events.jobStatus(ended, 'running', status);
      this.pipelines.jobEnded(ended, status === 'success' ? this.environmentUrl(ended) : undefined);
      return true;
    });
    if (ended) this.afterEnd?.(jobId);
    return ended;
  }

  /**
   * A deployment's url, as GitLab's Deployments::UpdateEnvironmentService makes it: the
   * `environment:url` as written, expanded with the job's own variables (the ones its runner
   * got: CI_JOB_ID, CI_PIPELINE_ID, YAML, project …; an unset one is nothing).
   */
  private environmentUrl(job: Job): string | undefined {
    const url = job.spec.environment?.url;
    if (url === undefined || job.spec.environment?.action !== 'start') return undefined;
    // the job token is not kept (only its hash): a url cannot carry it
    const { values } = expandCollection(this.context(job, '').variables);
    return expand(url, (n) => values.get(n));
  }

  /** Work after a job's end that may take time and must not hold the transaction (coverage). */
  afterEnd: ((jobId: number) => void) | null = null;

  /** Fails jobs that are not running any more from the runner's point of view (the reaper). */
  failPending(jobId: number, reason: string): boolean {
    return atomically(this.db, () => {
      const now = this.deps.clock.now();
      const res = this.db.update(jobs).set({ status: 'failed', finishedAt: now, updatedAt: now, failureReason: reason })
        .where(and(eq(jobs.id, jobId), eq(jobs.status, 'pending'))).run();
      if (changes(res) !== 1) return false;
      const ended = this.get(jobId);
      this.deps.events.jobStatus(ended, 'pending', 'failed');
      this.pipelines.jobEnded(ended);
      return true;
    });
  }

  // ---------------------------------------------------------------- from people

  cancel(jobId: number): Job {
    atomically(this.db, () => {
      const job = this.get(jobId);
      if (!['created', 'waiting_for_resource', 'preparing', 'pending', 'running', 'scheduled', 'manual'].includes(job.status)) return;
      const now = this.deps.clock.now();
      const res = this.db.update(jobs).set({ status: 'canceled', finishedAt: now, updatedAt: now })
        .where(and(eq(jobs.id, jobId), eq(jobs.status, job.status))).run();
      if (changes(res) !== 1) return;
      this.deps.store.closeTrace(jobId);
      const ended = this.get(jobId);
      this.deps.events.jobStatus(ended, job.status, 'canceled');
      this.pipelines.jobEnded(ended);
    });
    return this.get(jobId);
  }

  play(jobId: number): Job {
    atomically(this.db, () => {
      const job = this.get(jobId);
      // A scheduled (delayed) job is played too: it starts now instead of at its time.
      if (job.status !== 'manual' && job.status !== 'scheduled') throw badRequest('Unplayable Job');
      this.pipelines.enqueue(job, job.status);
    });
    this.pipelines.announceWork();
    return this.get(jobId);
  }

  /** A new attempt of a finished job; what was skipped after it is re-opened. */
  retry(jobId: number): Job {
    const id = atomically(this.db, () => {
      const job = this.get(jobId);
      if (!['success', 'failed', 'canceled'].includes(job.status) || job.retried || job.kind !== 'build') throw forbidden('403 Forbidden  - Job is not retryable');
      const copy = this.pipelines.cloneJob(job, 'created', { retriesLeft: job.spec.retry.max });
      this.pipelines.reopenDependants(job.pipelineId, [job]);
      this.pipelines.process(job.pipelineId);
      return copy.id;
    });
    this.pipelines.announceWork();
    return this.get(id);
  }

  list(projectId: number, opts: { scope?: string[]; pipelineId?: number; offset: number; limit: number }): { rows: Job[]; total: number } {
    // Bridges are listed apart (`…/pipelines/:id/bridges`), as GitLab does.
    const where = and(
      eq(jobs.projectId, projectId),
      eq(jobs.kind, 'build'),
      opts.pipelineId !== undefined ? eq(jobs.pipelineId, opts.pipelineId) : undefined,
      opts.scope?.length ? inArray(jobs.status, opts.scope) : undefined,
    );
    return {
      rows: this.db.select().from(jobs).where(where).orderBy(desc(jobs.id)).limit(opts.limit).offset(opts.offset).all(),
      total: this.db.select({ n: sql<number>`count(*)` }).from(jobs).where(where).get()!.n,
    };
  }

  pendingReason(job: Job): string | null {
    if (job.status === 'created') return job.dag ? 'waiting for the jobs it needs to finish' : 'waiting for an earlier stage to finish';
    if (job.status === 'manual') return 'waiting to be started by hand (when: manual)';
    if (job.status === 'scheduled') return `delayed until ${job.scheduledAt === null ? '?' : new Date(job.scheduledAt).toISOString()} (when: delayed)`;
    if (job.status === 'waiting_for_resource') return `waiting for resource group ${this.pipelines.resources.keyOf(job.resourceGroupId)} (another job holds it)`;
    if (job.kind === 'bridge') return null;
    if (job.status !== 'pending') return null;
    return pendingReason(this.db, job, this.deps.clock.now(), ONLINE_WINDOW_MS);
  }

  /** The jobs these runners are running now (the runners page shows each one's current job). */
  runningOn(runnerIds: number[]): Job[] {
    if (runnerIds.length === 0) return [];
    return this.db.select().from(jobs).where(and(inArray(jobs.runnerId, runnerIds), eq(jobs.status, 'running'))).orderBy(asc(jobs.id)).all();
  }

  runnerOf(job: Pick<Job, 'runnerId'>): Runner | null {
    return job.runnerId ? this.q.runner.get({ id: job.runnerId }) ?? null : null;
  }
}


/** The URL runners clone from; the job token goes in only when the project asks for it. */
function cloneUrl(project: Project, token: string): string {
  if (!project.cloneWithJobToken || !/^https?:\/\//i.test(project.repoUrl)) return project.repoUrl;
  try {
    const u = new URL(project.repoUrl);
    u.username = 'gitlab-ci-token';
    u.password = token;
    return u.toString();
  } catch {
    return project.repoUrl;
  }
}

const REASONS = new Set(['script_failure', 'runner_system_failure', 'job_execution_timeout', 'unknown_failure', 'stuck_or_timeout_failure',
  'missing_dependency_failure', 'api_failure', 'archived_failure', 'unmet_prerequisites', 'scheduler_failure', 'data_integrity_failure',
  'runner_unsupported', 'stale_schedule', 'job_router_failure', 'image_pull_failure', 'trace_size_exceeded', 'builds_disabled', 'environment_creation_failure',
  'failed_outdated_deployment_job', 'protected_environment_failure', 'deployment_rejected', 'job_token_expired',
  // what runners for GitLab 19.1+ may report instead of runner_system_failure or script_failure
  'runner_configuration_error', 'runner_external_dependency_failure', 'runner_interrupted']);

function sanitizeReason(r: string | undefined): string | undefined {
  if (r === undefined) return undefined;
  return REASONS.has(r) ? r : 'unknown_failure';
}

/** ISO 8601 without milliseconds, as GitLab renders CI_*_AT variables. */
const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What `prePipelineVariables` needs, from a stored pipeline (the same values its compile had). */
export function prePipelineInput(server: ServerInfo, project: Project, pipeline: Pipeline, scheduleDescription?: string): PrePipelineInput {
  const commit = pipeline.commitMessage === null ? null : {
    message: pipeline.commitMessage, authorName: pipeline.commitAuthorName ?? '', authorEmail: pipeline.commitAuthorEmail ?? '',
    timestamp: pipeline.commitTimestamp ?? '',
  };
  return {
    server, project, ref: pipeline.ref, tag: pipeline.tag, sha: pipeline.sha, beforeSha: pipeline.beforeSha,
    source: pipeline.source as PipelineSource, commit, ...(pipeline.name ? { pipelineName: pipeline.name } : {}),
    ...(scheduleDescription !== undefined ? { scheduleDescription } : {}),
    tagMessage: pipeline.commitTagMessage,
  };
}
