/**
 * How the REST API renders core entities, in GitLab REST API v4 shapes (consumer-api.md §2):
 * one TypeBox model per entity (documented in /swagger/json, and the type of its renderer),
 * ISO 8601 UTC timestamps, durations in seconds.
 */
import { t, type Static } from 'elysia';
import type { Core } from '../core';
import { ACCESS_LEVEL, type Actor } from '../core/people/access';
import type { MemberRow } from '../core/people/members';
import { isExpired } from '../core/people/tokens';
import { projectFullPath, projectWebUrl } from '../core/projects';
import type { Job, PersonalAccessToken, Pipeline, Project, Runner, User, Variable } from '../db/schema';

const Time = t.Union([t.String({ format: 'date-time' }), t.Null()]);
const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
/** GitLab renders expiry dates (tokens, memberships) as `YYYY-MM-DD`. */
const day = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().slice(0, 10));
const DateOrNull = t.Union([t.String({ format: 'date' }), t.Null()]);
const seconds = (ms: number) => Math.max(0, ms) / 1000;

export const STATUSES = ['created', 'pending', 'running', 'success', 'failed', 'canceled', 'skipped', 'manual'] as const;

export const Message = t.Object({ message: t.Any({ description: 'a string, or {base: [lines]} for pipeline configuration errors' }) });

export const NamespaceModel = t.Object({
  id: t.Optional(t.Integer({ description: "a user namespace: the user's id" })),
  name: t.String(),
  path: t.String(),
  kind: t.Union([t.Literal('user'), t.Literal('group')], { description: "user: a user's own; group: any other name projects share" }),
  full_path: t.String(),
  web_url: t.String(),
});

export const ProjectModel = t.Object({
  id: t.Integer(),
  name: t.String(),
  path: t.String(),
  path_with_namespace: t.String({ description: '<namespace>/<path>; also accepted URL-encoded (team%2Fapp) wherever a project id is' }),
  name_with_namespace: t.String(),
  namespace: NamespaceModel,
  repo_url: t.String({ description: 'what runners clone' }),
  http_url_to_repo: t.String(),
  web_url: t.String(),
  default_branch: t.String(),
  runners_token: t.Optional(t.String({ description: 'registers project runners (shown to Maintainers and admins only)' })),
  shared_runners_enabled: t.Boolean(),
  build_timeout: t.Integer({ description: 'seconds' }),
  allow_git_fetch: t.Boolean(),
  build_git_strategy: t.Union([t.Literal('fetch'), t.Literal('clone')]),
  clone_with_job_token: t.Boolean({ description: 'http(s) repo_url: runners clone with gitlab-ci-token:<job token>@' }),
  created_at: t.String({ format: 'date-time' }),
  permissions: t.Optional(t.Object({
    project_access: t.Union([t.Object({ access_level: t.Integer(), notification_level: t.Integer() }), t.Null()], { description: "the caller's membership (null for an admin who is not a member)" }),
    group_access: t.Null(),
  }, { description: 'GET /projects/:id only' })),
});

/** `simple=true` on GET /projects: the identity fields only. */
export const SimpleProjectModel = t.Object({
  id: t.Integer(), name: t.String(), path: t.String(), path_with_namespace: t.String(), name_with_namespace: t.String(),
  namespace: NamespaceModel, default_branch: t.String(), http_url_to_repo: t.String(), web_url: t.String(), created_at: t.String({ format: 'date-time' }),
});

const userBasic = {
  id: t.Integer(),
  username: t.String(),
  name: t.String(),
  state: t.Union([t.Literal('active'), t.Literal('blocked')]),
  locked: t.Boolean(),
  avatar_url: t.Null(),
  web_url: t.String(),
};
export const UserBasicModel = t.Object(userBasic);
const userFields = { ...userBasic, created_at: t.String({ format: 'date-time' }), public_email: t.Null(), bot: t.Boolean() };
/** GET /users/:id for non-admins. */
export const UserModel = t.Object(userFields);
const userPublic = {
  ...userFields,
  email: t.Union([t.String(), t.Null()]),
  last_sign_in_at: Time,
  current_sign_in_at: Time,
  confirmed_at: t.String({ format: 'date-time' }),
  last_activity_on: t.Null(),
  identities: t.Array(t.Object({ provider: t.String(), extern_uid: t.String() })),
  can_create_group: t.Boolean(),
  can_create_project: t.Boolean(),
  two_factor_enabled: t.Boolean(),
  external: t.Boolean(),
  private_profile: t.Boolean(),
};
/** GET /user for non-admins: never `is_admin` (GitLab shows it to admins only). */
export const UserPublicModel = t.Object(userPublic);
/** What admins see of any user. */
export const UserAdminModel = t.Object({ ...userPublic, is_admin: t.Boolean(), note: t.Null() });
export const AnyUserModel = t.Union([UserAdminModel, UserPublicModel, UserModel, UserBasicModel]);

export const TokenModel = t.Object({
  id: t.Integer(),
  name: t.String(),
  description: t.Null(),
  revoked: t.Boolean(),
  created_at: t.String({ format: 'date-time' }),
  scopes: t.Array(t.String({ description: 'api, read_api' })),
  user_id: t.Integer(),
  last_used_at: Time,
  active: t.Boolean({ description: 'neither revoked nor expired' }),
  expires_at: DateOrNull,
  expired: t.Boolean(),
});
export const TokenWithSecretModel = t.Object({ ...TokenModel.properties, token: t.String({ description: 'glpat-…, shown this once' }) });

export const MemberModel = t.Object({
  ...userBasic,
  access_level: t.Integer({ description: '10 Guest, 20 Reporter, 30 Developer, 40 Maintainer, 50 Owner' }),
  created_at: t.String({ format: 'date-time' }),
  created_by: t.Optional(UserBasicModel),
  expires_at: DateOrNull,
  membership_state: t.Literal('active'),
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
  coverage: t.Null(),
  web_url: t.String(),
  user: t.Union([UserBasicModel, t.Null()], { description: 'who started it (null: a trigger, a schedule, a webhook, or a deleted user)' }),
});

export const JobModel = t.Object({
  id: t.Integer(),
  name: t.String(),
  stage: t.String(),
  status: t.String({ description: STATUSES.join(', ') }),
  ref: t.String(),
  tag: t.Boolean(),
  allow_failure: t.Boolean(),
  created_at: t.String({ format: 'date-time' }),
  started_at: Time,
  finished_at: Time,
  duration: t.Union([t.Number(), t.Null()], { description: 'seconds (so far, while running)' }),
  queued_duration: t.Union([t.Number(), t.Null()], { description: 'seconds (so far, while pending)' }),
  failure_reason: t.Optional(t.String({ description: 'only when failed' })),
  runner: t.Union([t.Object({ id: t.Integer(), description: t.String() }), t.Null()]),
  pipeline: t.Object({ id: t.Integer(), ref: t.String(), sha: t.String(), status: t.String() }),
  artifacts_file: t.Union([t.Object({ filename: t.String(), size: t.Integer() }), t.Null()]),
  artifacts_expire_at: Time,
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
export type SimpleProjectJson = Static<typeof SimpleProjectModel>;
export type VariableJson = Static<typeof VariableModel>;
export type PipelineJson = Static<typeof PipelineModel>;
export type JobJson = Static<typeof JobModel>;
export type RunnerJson = Static<typeof RunnerModel>;

/** GitLab calls a runner stale when it has not been seen for three months. */
const STALE_MS = 90 * 24 * 3600_000;

export class Presenter {
  constructor(private core: Core) {}

  private get url() { return this.core.deps.server.url.replace(/\/+$/, ''); }
  private projectUrl(p: Project) { return projectWebUrl(this.url, p); }

  private namespace(p: Project): Static<typeof NamespaceModel> {
    const owner = this.core.users.findByUsername(p.namespace);
    const name = owner?.name ?? p.namespace;
    return {
      ...(owner ? { id: owner.id } : {}), name, path: p.namespace, kind: owner ? 'user' : 'group', full_path: p.namespace,
      web_url: `${this.url}/${p.namespace}`,
    };
  }

  /**
   * A project as `viewer` may see it: the runners_token only for Maintainers and admins
   * (GitLab's rule); `withPermissions` adds the caller's access (GET /projects/:id).
   */
  project(p: Project, viewer: Actor | null = null, withPermissions = false): ProjectJson {
    const namespace = this.namespace(p);
    const admins = viewer === null || this.core.access.accessLevel(viewer, p) >= ACCESS_LEVEL.maintainer;
    const own = viewer && withPermissions ? this.core.access.membership(viewer, p) : null;
    return {
      id: p.id, name: p.name, path: p.path,
      path_with_namespace: projectFullPath(p), name_with_namespace: `${namespace.name} / ${p.name}`, namespace,
      repo_url: p.repoUrl, http_url_to_repo: p.repoUrl, web_url: this.projectUrl(p),
      default_branch: p.defaultBranch, ...(admins ? { runners_token: p.runnersToken } : {}),
      shared_runners_enabled: p.sharedRunnersEnabled, build_timeout: p.buildTimeout,
      allow_git_fetch: p.allowGitFetch, build_git_strategy: p.allowGitFetch ? 'fetch' : 'clone',
      clone_with_job_token: p.cloneWithJobToken, created_at: iso(p.createdAt)!,
      ...(withPermissions ? { permissions: { project_access: own === null ? null : { access_level: own, notification_level: 3 }, group_access: null } } : {}),
    };
  }

  simpleProject(p: Project): SimpleProjectJson {
    const namespace = this.namespace(p);
    return {
      id: p.id, name: p.name, path: p.path, path_with_namespace: projectFullPath(p), name_with_namespace: `${namespace.name} / ${p.name}`,
      namespace, default_branch: p.defaultBranch, http_url_to_repo: p.repoUrl, web_url: this.projectUrl(p), created_at: iso(p.createdAt)!,
    };
  }

  private userOf(id: number | null): Static<typeof UserBasicModel> | null {
    const u = id === null ? null : this.core.users.find(id);
    return u ? this.userBasic(u) : null;
  }

  userBasic(u: User): Static<typeof UserBasicModel> {
    return { id: u.id, username: u.username, name: u.name, state: u.state === 'blocked' ? 'blocked' : 'active', locked: false, avatar_url: null, web_url: `${this.url}/${u.username}` };
  }

  /** What `viewer` sees of a user: everything for admins, the public profile for oneself, else the basic (lists) or user fields. */
  user(u: User, viewer: Actor, detail: 'basic' | 'user' = 'user'): Static<typeof AnyUserModel> {
    const basic = this.userBasic(u);
    if (!viewer.admin && (viewer.userId !== u.id || detail === 'basic')) {
      return detail === 'basic' ? basic : { ...basic, created_at: iso(u.createdAt)!, public_email: null, bot: false };
    }
    const pub = {
      ...basic, created_at: iso(u.createdAt)!, public_email: null, bot: false,
      email: u.email, last_sign_in_at: iso(u.lastSignInAt), current_sign_in_at: iso(u.currentSignInAt), confirmed_at: iso(u.createdAt)!,
      last_activity_on: null, identities: [], can_create_group: false, can_create_project: u.state === 'active',
      two_factor_enabled: false, external: false, private_profile: false,
    };
    return viewer.admin ? { ...pub, is_admin: u.admin, note: null } : pub;
  }

  token(tk: PersonalAccessToken): Static<typeof TokenModel> {
    const active = this.core.tokens.isActive(tk);
    return {
      id: tk.id, name: tk.name, description: null, revoked: tk.revoked, created_at: iso(tk.createdAt)!, scopes: tk.scopes, user_id: tk.userId,
      last_used_at: iso(tk.lastUsedAt), active, expires_at: day(tk.expiresAt), expired: isExpired(tk.expiresAt, this.core.deps.clock.now()),
    };
  }

  member({ member: m, user }: MemberRow): Static<typeof MemberModel> {
    const by = m.createdBy === null ? null : this.core.users.find(m.createdBy);
    return {
      ...this.userBasic(user), access_level: m.accessLevel, created_at: iso(m.createdAt)!,
      ...(by ? { created_by: this.userBasic(by) } : {}), expires_at: day(m.expiresAt), membership_state: 'active',
    };
  }

  variable(v: Variable): VariableJson {
    return { variable_type: 'env_var', key: v.key, value: v.value, masked: v.masked, protected: false, raw: false, environment_scope: '*' };
  }

  pipeline(p: Pipeline, project: Project): PipelineJson {
    return {
      id: p.id, iid: p.id, project_id: p.projectId, status: p.status, ref: p.ref, tag: p.tag, sha: p.sha,
      before_sha: p.beforeSha, source: p.source,
      created_at: iso(p.createdAt)!, updated_at: iso(p.updatedAt)!, started_at: iso(p.startedAt), finished_at: iso(p.finishedAt),
      duration: p.startedAt !== null && p.finishedAt !== null ? Math.round(seconds(p.finishedAt - p.startedAt)) : null,
      queued_duration: p.startedAt !== null ? seconds(p.startedAt - p.createdAt) : null,
      coverage: null, web_url: `${this.projectUrl(project)}/-/pipelines/${p.id}`,
      user: this.userOf(p.userId),
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
      id: j.id, name: j.name, stage: j.stage, status: j.status, ref: p.ref, tag: p.tag, allow_failure: j.allowFailure,
      created_at: iso(j.createdAt)!, started_at: iso(j.startedAt), finished_at: iso(j.finishedAt),
      duration: j.startedAt !== null ? seconds((j.finishedAt ?? now) - j.startedAt) : null,
      queued_duration: j.queuedAt !== null && queuedUntil !== null ? seconds(queuedUntil - j.queuedAt) : null,
      ...(j.status === 'failed' && j.failureReason ? { failure_reason: j.failureReason } : {}),
      runner: runner ? { id: runner.id, description: runner.description } : null,
      pipeline: { id: p.id, ref: p.ref, sha: p.sha, status: p.status },
      artifacts_file: j.artifactsFile && j.artifactsSize !== null ? { filename: j.artifactsFile, size: j.artifactsSize } : null,
      artifacts_expire_at: iso(j.artifactsExpireAt),
      web_url: `${this.projectUrl(project)}/-/jobs/${j.id}`,
      pending_reason: this.core.jobs.pendingReason(j),
    };
  }

  /** A runner; its `projects` only those `viewer` may see (all for admins). */
  runner(r: Runner, viewer: Actor | null = null): RunnerJson {
    const online = this.core.runners.isOnline(r);
    const now = this.core.deps.clock.now();
    const status = online ? 'online'
      : r.contactedAt === null ? (now - r.createdAt > STALE_MS ? 'stale' : 'never_contacted')
      : now - r.contactedAt > STALE_MS ? 'stale' : 'offline';
    const projects = this.core.runners.projectIds(r.id).map((id) => this.core.projects.get(id))
      .filter((p) => viewer === null || this.core.access.can(viewer, 'read_project', p));
    return {
      id: r.id, description: r.description, name: r.name, active: r.active, paused: !r.active, is_shared: r.isShared,
      runner_type: r.isShared ? 'instance_type' : 'project_type', tag_list: r.tagList, run_untagged: r.runUntagged,
      locked: r.locked, maximum_timeout: r.maximumTimeout, access_level: 'not_protected', online, status,
      contacted_at: iso(r.contactedAt), created_at: iso(r.createdAt)!,
      version: r.version, revision: r.revision, platform: r.platform, architecture: r.architecture, executor: r.executor,
      ip_address: null, protocol: r.protocol === 'v1' ? 'v1' : 'v4',
      projects: projects.map((p) => ({ id: p.id, name: p.name, path: p.path, path_with_namespace: projectFullPath(p) })),
    };
  }
}
