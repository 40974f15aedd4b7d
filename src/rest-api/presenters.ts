/**
 * How the REST API renders core entities, in GitLab REST API v4 shapes (consumer-api.md §2):
 * one TypeBox model per entity (documented in /swagger/json, and the type of its renderer),
 * ISO 8601 UTC timestamps, durations in seconds.
 */
import { t, type Static } from 'elysia';
import type { Core } from '../core';
import type { Job, Pipeline, Project, Runner, Variable } from '../db/schema';

const Time = t.Union([t.String({ format: 'date-time' }), t.Null()]);
const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
const seconds = (ms: number) => Math.max(0, ms) / 1000;

export const STATUSES = ['created', 'waiting_for_resource', 'preparing', 'pending', 'running', 'success', 'failed', 'canceled', 'skipped', 'manual', 'scheduled'] as const;

export const Message = t.Object({ message: t.Any({ description: 'a string, or {base: [lines]} for pipeline configuration errors' }) });

export const ProjectModel = t.Object({
  id: t.Integer(),
  name: t.String(),
  path: t.String(),
  path_with_namespace: t.String(),
  name_with_namespace: t.String(),
  repo_url: t.String({ description: 'what runners clone' }),
  http_url_to_repo: t.String(),
  web_url: t.String(),
  default_branch: t.String(),
  runners_token: t.String({ description: 'registers project runners' }),
  shared_runners_enabled: t.Boolean(),
  build_timeout: t.Integer({ description: 'seconds' }),
  allow_git_fetch: t.Boolean(),
  build_git_strategy: t.Union([t.Literal('fetch'), t.Literal('clone')]),
  clone_with_job_token: t.Boolean({ description: 'http(s) repo_url: runners clone with gitlab-ci-token:<job token>@' }),
  created_at: t.String({ format: 'date-time' }),
});

export const VariableModel = t.Object({
  variable_type: t.Literal('env_var'),
  key: t.String(),
  value: t.String(),
  masked: t.Boolean({ description: 'replaced by x in job logs' }),
  protected: t.Boolean(),
  raw: t.Boolean(),
  environment_scope: t.String(),
});

export const PipelineModel = t.Object({
  id: t.Integer(),
  iid: t.Integer(),
  project_id: t.Integer(),
  status: t.String({ description: STATUSES.join(', ') }),
  ref: t.String(),
  tag: t.Boolean(),
  sha: t.String(),
  before_sha: t.String(),
  source: t.String(),
  created_at: t.String({ format: 'date-time' }),
  updated_at: t.String({ format: 'date-time' }),
  started_at: Time,
  finished_at: Time,
  duration: t.Union([t.Integer(), t.Null()], { description: 'seconds' }),
  queued_duration: t.Union([t.Number(), t.Null()], { description: 'seconds' }),
  coverage: t.Union([t.String(), t.Null()], { description: 'mean coverage of its jobs, two decimals ("30.00")' }),
  name: t.Optional(t.Union([t.String(), t.Null()], { description: 'workflow:name (lists and single GET)' })),
  web_url: t.String(),
});

export const JobModel = t.Object({
  id: t.Integer(),
  name: t.String(),
  stage: t.String(),
  status: t.String({ description: STATUSES.join(', ') }),
  ref: t.String(),
  tag: t.Boolean(),
  coverage: t.Union([t.Number(), t.Null()], { description: 'percent found by `coverage:` in the log' }),
  allow_failure: t.Boolean({ description: 'true also when `allow_failure:exit_codes` matched the exit code' }),
  created_at: t.String({ format: 'date-time' }),
  started_at: Time,
  finished_at: Time,
  duration: t.Union([t.Number(), t.Null()], { description: 'seconds (so far, while running)' }),
  queued_duration: t.Union([t.Number(), t.Null()], { description: 'seconds (so far, while pending)' }),
  failure_reason: t.Optional(t.String({ description: 'only when failed' })),
  runner: t.Union([t.Object({ id: t.Integer(), description: t.String() }), t.Null()]),
  pipeline: t.Object({ id: t.Integer(), ref: t.String(), sha: t.String(), status: t.String() }),
  artifacts_file: t.Union([t.Object({ filename: t.String(), size: t.Integer() }), t.Null()]),
  artifacts: t.Array(t.Object({ file_type: t.String(), size: t.Integer(), filename: t.String(), file_format: t.Union([t.String(), t.Null()]) }), { description: 'the archive and each report' }),
  artifacts_expire_at: Time,
  tag_list: t.Array(t.String()),
  web_url: t.String(),
  pending_reason: t.Union([t.String(), t.Null()], { description: 'why the job has not started yet (null once it has)' }),
});

export const RunnerModel = t.Object({
  id: t.Integer(),
  description: t.String(),
  name: t.Union([t.String(), t.Null()]),
  active: t.Boolean(),
  paused: t.Boolean(),
  is_shared: t.Boolean(),
  runner_type: t.Union([t.Literal('instance_type'), t.Literal('project_type')]),
  tag_list: t.Array(t.String()),
  run_untagged: t.Boolean(),
  locked: t.Boolean(),
  maximum_timeout: t.Union([t.Integer(), t.Null()]),
  access_level: t.Literal('not_protected'),
  online: t.Boolean(),
  status: t.Union([t.Literal('online'), t.Literal('offline'), t.Literal('stale'), t.Literal('never_contacted')]),
  contacted_at: Time,
  created_at: t.String({ format: 'date-time' }),
  version: t.Union([t.String(), t.Null()]),
  revision: t.Union([t.String(), t.Null()]),
  platform: t.Union([t.String(), t.Null()]),
  architecture: t.Union([t.String(), t.Null()]),
  executor: t.Union([t.String(), t.Null()]),
  ip_address: t.Null(),
  protocol: t.Union([t.Literal('v1'), t.Literal('v4')], { description: 'the runner API it speaks' }),
  projects: t.Array(t.Object({ id: t.Integer(), name: t.String(), path: t.String(), path_with_namespace: t.String() })),
});

export type ProjectJson = Static<typeof ProjectModel>;
export type VariableJson = Static<typeof VariableModel>;
export type PipelineJson = Static<typeof PipelineModel>;
export type JobJson = Static<typeof JobModel>;
export type RunnerJson = Static<typeof RunnerModel>;

/** GitLab calls a runner stale when it has not been seen for three months. */
const STALE_MS = 90 * 24 * 3600_000;
/** Every project lives in one namespace; runners see the same path in CI_PROJECT_PATH. */
const NAMESPACE = 'baton';

export class Presenter {
  constructor(private core: Core) {}

  private get url() { return this.core.deps.server.url.replace(/\/+$/, ''); }
  private projectUrl(p: Project) { return `${this.url}/${NAMESPACE}/${p.path}`; }

  project(p: Project): ProjectJson {
    return {
      id: p.id, name: p.name, path: p.path,
      path_with_namespace: `${NAMESPACE}/${p.path}`, name_with_namespace: `${NAMESPACE} / ${p.name}`,
      repo_url: p.repoUrl, http_url_to_repo: p.repoUrl, web_url: this.projectUrl(p),
      default_branch: p.defaultBranch, runners_token: p.runnersToken,
      shared_runners_enabled: p.sharedRunnersEnabled, build_timeout: p.buildTimeout,
      allow_git_fetch: p.allowGitFetch, build_git_strategy: p.allowGitFetch ? 'fetch' : 'clone',
      clone_with_job_token: p.cloneWithJobToken, created_at: iso(p.createdAt)!,
    };
  }

  variable(v: Variable): VariableJson {
    return { variable_type: 'env_var', key: v.key, value: v.value, masked: v.masked, protected: false, raw: false, environment_scope: '*' };
  }

  pipeline(p: Pipeline, project: Project, opts: { withName?: boolean } = {}): PipelineJson {
    const coverage = this.core.pipelines.coverage(p.id);
    return {
      id: p.id, iid: p.id, project_id: p.projectId, status: p.status, ref: p.ref, tag: p.tag, sha: p.sha,
      before_sha: p.beforeSha, source: p.source,
      created_at: iso(p.createdAt)!, updated_at: iso(p.updatedAt)!, started_at: iso(p.startedAt), finished_at: iso(p.finishedAt),
      duration: p.startedAt !== null && p.finishedAt !== null ? Math.round(seconds(p.finishedAt - p.startedAt)) : null,
      queued_duration: p.startedAt !== null ? seconds(p.startedAt - p.createdAt) : null,
      coverage: coverage === null ? null : coverage.toFixed(2),
      ...(opts.withName === false ? {} : { name: p.name }),
      web_url: `${this.projectUrl(project)}/-/pipelines/${p.id}`,
    };
  }

  /** A bridge (`trigger:`) job as `…/pipelines/:id/bridges` lists it: the job fields and its downstream pipeline. */
  bridge(j: Job, project: Project, pipelines = new Map<number, Pipeline>()) {
    const { artifacts_file: _f, artifacts: _a, artifacts_expire_at: _e, runner: _r, tag_list: _t, pending_reason: _p, ...basic } = this.job(j, project, pipelines);
    const d = this.core.pipelines.downstreamOfJob(j.id);
    const dp = d ? this.core.projects.find(d.projectId) : null;
    return {
      ...basic,
      downstream_pipeline: d && dp ? {
        id: d.id, iid: d.id, project_id: d.projectId, sha: d.sha, ref: d.ref, status: d.status, source: d.source,
        created_at: iso(d.createdAt), updated_at: iso(d.updatedAt), web_url: `${this.projectUrl(dp)}/-/pipelines/${d.id}`,
      } : null,
    };
  }

  /** `pipelines` caches the pipelines of a list, so rendering a page costs one lookup per pipeline. */
  job(j: Job, project: Project, pipelines = new Map<number, Pipeline>()): JobJson {
    let p = pipelines.get(j.pipelineId);
    if (!p) pipelines.set(j.pipelineId, (p = this.core.pipelines.get(j.pipelineId)));
    const now = this.core.deps.clock.now();
    const runner = this.core.jobs.runnerOf(j);
    const queuedUntil = j.startedAt ?? (j.status === 'pending' ? now : j.finishedAt);
    return {
      id: j.id, name: j.name, stage: j.stage, status: j.status, ref: p.ref, tag: p.tag, coverage: j.coverage, allow_failure: j.allowFailure,
      created_at: iso(j.createdAt)!, started_at: iso(j.startedAt), finished_at: iso(j.finishedAt),
      duration: j.startedAt !== null ? seconds((j.finishedAt ?? now) - j.startedAt) : null,
      queued_duration: j.queuedAt !== null && queuedUntil !== null ? seconds(queuedUntil - j.queuedAt) : null,
      ...(j.status === 'failed' && j.failureReason ? { failure_reason: j.failureReason } : {}),
      runner: runner ? { id: runner.id, description: runner.description } : null,
      pipeline: { id: p.id, ref: p.ref, sha: p.sha, status: p.status },
      artifacts_file: j.artifactsFile && j.artifactsSize !== null ? { filename: j.artifactsFile, size: j.artifactsSize } : null,
      artifacts: [
        ...(j.artifactsFile && j.artifactsSize !== null ? [{ file_type: 'archive', size: j.artifactsSize, filename: j.artifactsFile, file_format: 'zip' }] : []),
        ...this.core.artifacts.reports(j.id).map((r) => ({ file_type: r.fileType, size: r.size, filename: r.filename, file_format: r.fileFormat })),
      ],
      artifacts_expire_at: iso(j.artifactsExpireAt),
      tag_list: j.tagList,
      web_url: `${this.projectUrl(project)}/-/jobs/${j.id}`,
      pending_reason: this.core.jobs.pendingReason(j),
    };
  }

  runner(r: Runner): RunnerJson {
    const online = this.core.runners.isOnline(r);
    const now = this.core.deps.clock.now();
    const status = online ? 'online'
      : r.contactedAt === null ? (now - r.createdAt > STALE_MS ? 'stale' : 'never_contacted')
      : now - r.contactedAt > STALE_MS ? 'stale' : 'offline';
    const projects = this.core.runners.projectIds(r.id).map((id) => this.core.projects.get(id));
    return {
      id: r.id, description: r.description, name: r.name, active: r.active, paused: !r.active, is_shared: r.isShared,
      runner_type: r.isShared ? 'instance_type' : 'project_type', tag_list: r.tagList, run_untagged: r.runUntagged,
      locked: r.locked, maximum_timeout: r.maximumTimeout, access_level: 'not_protected', online, status,
      contacted_at: iso(r.contactedAt), created_at: iso(r.createdAt)!,
      version: r.version, revision: r.revision, platform: r.platform, architecture: r.architecture, executor: r.executor,
      ip_address: null, protocol: r.protocol === 'v1' ? 'v1' : 'v4',
      projects: projects.map((p) => ({ id: p.id, name: p.name, path: p.path, path_with_namespace: `${NAMESPACE}/${p.path}` })),
    };
  }
}
