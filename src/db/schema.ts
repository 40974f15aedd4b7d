/**
 * Every table of Baton. drizzle-kit turns this file into the migrations in drizzle/;
 * an applied migration is never edited — change this file and generate a new one.
 *
 * Times are unix milliseconds (integer) so comparisons in SQL stay cheap; the API layers
 * render ISO 8601. Lists (tags) and structured YAML parts (job spec) are JSON text.
 */
import { sql } from 'drizzle-orm';
import { sqliteTable, integer, real, text, primaryKey, index, uniqueIndex, type AnySQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { JobSpec } from './job-spec';

/** Instance-wide key/value settings: registration token, hashed admin token, … */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

export const projects = sqliteTable('projects', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  /**
   * The first half of `path_with_namespace` (`<namespace>/<path>`): a user's username or a
   * group-like name such as `team` (one level). Rows from before namespaces existed belong
   * to the built-in root user's namespace, hence the default.
   */
  namespace: text('namespace').notNull().default('root'),
  path: text('path').notNull(),
  repoUrl: text('repo_url').notNull(),
  /**
   * repo_url was set by an administrator: git may fetch it from loopback, link-local and
   * private addresses (as only admins may give a local path). Otherwise such fetches are
   * refused unless --allow-local-requests (core/outbound.ts, checked again before every fetch).
   */
  repoUrlByAdmin: integer('repo_url_by_admin', { mode: 'boolean' }).notNull().default(false),
  defaultBranch: text('default_branch').notNull().default('main'),
  /** Shown to admins again (registration of project runners), so kept as-is. */
  runnersToken: text('runners_token').notNull(),
  buildTimeout: integer('build_timeout').notNull().default(3600),
  sharedRunnersEnabled: integer('shared_runners_enabled', { mode: 'boolean' }).notNull().default(true),
  allowGitFetch: integer('allow_git_fetch', { mode: 'boolean' }).notNull().default(true),
  cloneWithJobToken: integer('clone_with_job_token', { mode: 'boolean' }).notNull().default(false),
  /**
   * Signs (Gitea/Forgejo/GitHub HMAC) or is (GitLab `X-Gitlab-Token`) the credential of the
   * project's push webhook. Shown to maintainers again, so kept as-is, like runners_token.
   */
  webhookSecret: text('webhook_secret').notNull().default(''),
  /** Where pipeline statuses are posted back: gitea | forgejo | github | gitlab, or null. */
  forgeKind: text('forge_kind'),
  /** The forge's API root (`https://git.example.com/api/v1`, `https://api.github.com`, …). */
  forgeApiUrl: text('forge_api_url'),
  /** owner/name (Gitea, Forgejo, GitHub) or the GitLab project id or path. */
  forgeRepo: text('forge_repo'),
  /** The forge token, write-only: AES-256-GCM with the data dir's key (core/secret-box.ts). */
  forgeTokenEnc: text('forge_token_enc'),
  createdAt: integer('created_at').notNull(),
}, (t) => [
  uniqueIndex('projects_runners_token').on(t.runnersToken),
  // Paths are unique per namespace, case-insensitively as in GitLab; `/projects/team%2Fapp` is looked up with it.
  uniqueIndex('projects_full_path').on(sql`lower(${t.namespace})`, sql`lower(${t.path})`),
]);

export const variables = sqliteTable('variables', {
  projectId: integer('project_id').notNull().references(() => projects.id, { onDelete: 'cascade' }),
  key: text('key').notNull(),
  value: text('value').notNull(),
  masked: integer('masked', { mode: 'boolean' }).notNull().default(false),
}, (t) => [primaryKey({ columns: [t.projectId, t.key] })]);

export const runners = sqliteTable('runners', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  /** sha256 of the runner token; the token itself is shown once, at registration. */
  tokenHash: text('token_hash').notNull(),
  description: text('description').notNull().default(''),
  tagList: text('tag_list', { mode: 'json' }).$type<string[]>().notNull().default([]),
  runUntagged: integer('run_untagged', { mode: 'boolean' }).notNull().default(true),
  locked: integer('locked', { mode: 'boolean' }).notNull().default(false),
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  isShared: integer('is_shared', { mode: 'boolean' }).notNull(),
  maximumTimeout: integer('maximum_timeout'),
  /** Which runner protocol registered or last polled: 'v1' or 'v4'. */
  protocol: text('protocol').notNull(),
  contactedAt: integer('contacted_at'),
  name: text('name'),
  version: text('version'),
  revision: text('revision'),
  platform: text('platform'),
  architecture: text('architecture'),
  executor: text('executor'),
  createdAt: integer('created_at').notNull(),
}, (t) => [uniqueIndex('runners_token_hash').on(t.tokenHash)]);

export const runnerProjects = sqliteTable('runner_projects', {
  runnerId: integer('runner_id').notNull().references(() => runners.id, { onDelete: 'cascade' }),
  projectId: integer('project_id').notNull().references(() => projects.id, { onDelete: 'cascade' }),
}, (t) => [primaryKey({ columns: [t.runnerId, t.projectId] }), index('runner_projects_project').on(t.projectId)]);

export const pipelines = sqliteTable('pipelines', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  projectId: integer('project_id').notNull().references(() => projects.id, { onDelete: 'cascade' }),
  ref: text('ref').notNull(),
  tag: integer('tag', { mode: 'boolean' }).notNull().default(false),
  sha: text('sha').notNull(),
  beforeSha: text('before_sha').notNull(),
  source: text('source').notNull().default('api'),
  status: text('status').notNull(),
  /** Global YAML variables, in file order. */
  yamlVariables: text('yaml_variables', { mode: 'json' }).$type<Record<string, string>>().notNull().default({}),
  /** names among yamlVariables declared `expand: false` (sent to runners with `raw: true`) */
  yamlRawVariables: text('yaml_raw_variables', { mode: 'json' }).$type<string[]>().notNull().default([]),
  /** Variables given when the pipeline was created (GitLab's trigger variables). */
  triggerVariables: text('trigger_variables', { mode: 'json' }).$type<{ key: string; value: string }[]>().notNull().default([]),
  /** Who started it (API, dashboard): GitLab's pipeline `user` and the jobs' GITLAB_USER_*; null for other sources or a deleted user. */
  userId: integer('user_id').references((): AnySQLiteColumn => users.id, { onDelete: 'set null' }),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  startedAt: integer('started_at'),
  finishedAt: integer('finished_at'),
  /** `workflow:name` (CI_PIPELINE_NAME, the entity's `name`), null when the file gives none. */
  name: text('name'),
  /** The head commit (CI_COMMIT_MESSAGE/TITLE/DESCRIPTION/AUTHOR/TIMESTAMP); null when unknown (inline content). */
  commitMessage: text('commit_message'),
  commitAuthorName: text('commit_author_name'),
  commitAuthorEmail: text('commit_author_email'),
  /** committer date as ISO 8601, as git and forges give it */
  commitTimestamp: text('commit_timestamp'),
  /** A tag's pipeline: the tag's message (CI_COMMIT_TAG_MESSAGE; "" for a lightweight tag), null when unknown. */
  commitTagMessage: text('commit_tag_message'),
  /** `workflow:auto_cancel` of this pipeline's own file: how a newer pipeline on the ref treats it. */
  autoCancelOnNewCommit: text('auto_cancel_on_new_commit').notNull().default('conservative'),
  autoCancelOnJobFailure: text('auto_cancel_on_job_failure').notNull().default('none'),
  /** The newer pipeline whose creation canceled this one (GitLab's auto_canceled_by_id). */
  autoCanceledById: integer('auto_canceled_by_id'),
  /** Downstream pipelines: the bridge job (`trigger:`) that created this one, and its pipeline. */
  upstreamJobId: integer('upstream_job_id'),
  upstreamPipelineId: integer('upstream_pipeline_id'),
  /** The schedule that started it (`source: schedule`; GitLab's pipeline_schedule_id): `…/pipeline_schedules/:id/pipelines`. */
  pipelineScheduleId: integer('pipeline_schedule_id').references((): AnySQLiteColumn => pipelineSchedules.id, { onDelete: 'set null' }),
}, (t) => [
  index('pipelines_project').on(t.projectId, t.id),
  index('pipelines_project_ref').on(t.projectId, t.ref, t.id),
  // The ref's pipelines still running, for auto-cancel on every new pipeline (pipelines.ts):
  // the finished history is left out, and sha, created_at and source are in the entry, so
  // running pipelines of the same commit are passed over without reading their rows (bench P3).
  index('pipelines_active').on(t.projectId, t.ref, t.id, t.sha, t.createdAt, t.source)
    .where(sql`status IN ('created', 'waiting_for_resource', 'preparing', 'pending', 'running', 'scheduled')`),
  index('pipelines_upstream_job').on(t.upstreamJobId),
  index('pipelines_schedule').on(t.pipelineScheduleId, t.id),
]);

export const jobs = sqliteTable('jobs', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  pipelineId: integer('pipeline_id').notNull().references(() => pipelines.id, { onDelete: 'cascade' }),
  projectId: integer('project_id').notNull().references(() => projects.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  stage: text('stage').notNull(),
  stageIdx: integer('stage_idx').notNull(),
  /**
   * The lifecycle of src/core/jobs.ts: created, waiting_for_resource, scheduled, manual,
   * pending, running, success, failed, canceled, skipped.
   */
  status: text('status').notNull(),
  /** 'build' (sent to runners) or 'bridge' (a `trigger:` job that starts a downstream pipeline; never sent). */
  kind: text('kind').notNull().default('build'),
  /** true when the job has `needs` (DAG-scheduled: its needs decide, not the earlier stages); needs are in job_needs. */
  dag: integer('dag', { mode: 'boolean' }).notNull().default(false),
  when: text('when').notNull().default('on_success'),
  allowFailure: integer('allow_failure', { mode: 'boolean' }).notNull().default(false),
  tagList: text('tag_list', { mode: 'json' }).$type<string[]>().notNull().default([]),
  /** The job as the YAML planned it (scripts, image, artifacts, …). */
  spec: text('spec', { mode: 'json' }).$type<JobSpec>().notNull(),
  /** Automatic retries left (YAML `retry`). */
  retriesLeft: integer('retries_left').notNull().default(0),
  /** Newer attempts of the same job hide older ones in dependency lists. */
  retried: integer('retried', { mode: 'boolean' }).notNull().default(false),
  retryOf: integer('retry_of'),
  runnerId: integer('runner_id').references(() => runners.id, { onDelete: 'set null' }),
  /** sha256 of the job token; the token is handed to the runner once, in the job payload. */
  tokenHash: text('token_hash'),
  timeout: integer('timeout'),
  failureReason: text('failure_reason'),
  exitCode: integer('exit_code'),
  createdAt: integer('created_at').notNull(),
  queuedAt: integer('queued_at'),
  startedAt: integer('started_at'),
  finishedAt: integer('finished_at'),
  /** Last sign of life from the runner (update, trace): the stuck-job reaper reads it. */
  updatedAt: integer('updated_at').notNull(),
  /** The archive (artifact_type archive). Reports uploaded beside it are rows of job_artifacts. */
  artifactsFile: text('artifacts_file'),
  artifactsSize: integer('artifacts_size'),
  artifactsExpireAt: integer('artifacts_expire_at'),
  /** `when: delayed`: when the job leaves `scheduled` (unix ms). */
  scheduledAt: integer('scheduled_at'),
  /** `coverage:` found in the log when the job ended (percent). */
  coverage: real('coverage'),
  /** YAML `interruptible` (auto-cancel on a newer pipeline may stop it). */
  interruptible: integer('interruptible', { mode: 'boolean' }).notNull().default(false),
  /** `resource_group` of the job (one job of a group runs at a time). */
  resourceGroupId: integer('resource_group_id'),
}, (t) => [
  // The indexes a claim (pending → running) must touch are the cost of its commit (bench
  // P2): the partial ones below leave out the rows they are not asked about, so a claim
  // changes one leaf of each of jobs_queue, jobs_running, jobs_pending_queued and
  // jobs_pipeline_status, and none of jobs_scheduled / jobs_resource_group. There is no
  // index on runner_id: each runner's entries sat on a leaf of their own, about half the
  // pages a batch of claims wrote (migration 0017); a runner's running jobs are found through
  // jobs_running, and deleting a runner (its SET NULL) reads the jobs table once.
  // The runners' queue, oldest first (src/core/queue.ts reads it INDEXED BY, covering):
  // finished history is never in it (bench P7). A pending job never has a runner (only the
  // claim sets runner_id, pending → running); a `runner_id IS NULL` term here made SQLite
  // read every candidate's row to check it (bench P2).
  index('jobs_queue').on(t.id, t.projectId, t.tagList).where(sql`status = 'pending' AND kind = 'build'`),
  // Running jobs (the reaper's timeouts and stuck jobs), without the history. It also finds a
  // running job by its token (job tokens work only while their job runs): a scan of the
  // running jobs' entries, where an index of every token ever handed out put each claim's
  // write on a random leaf (bench P2).
  index('jobs_running').on(t.id, t.tokenHash).where(sql`status = 'running'`),
  index('jobs_pipeline').on(t.pipelineId, t.stageIdx),
  index('jobs_pipeline_status').on(t.pipelineId, t.status),
  index('jobs_scheduled').on(t.scheduledAt).where(sql`status = 'scheduled'`),
  index('jobs_resource_group').on(t.resourceGroupId, t.status).where(sql`resource_group_id IS NOT NULL`),
  index('jobs_project').on(t.projectId, t.id),
  // Only pending jobs are in it: the oldest wait (GET /metrics) is one index seek, and
  // finished history costs this index nothing.
  index('jobs_pending_queued').on(t.status, t.queuedAt).where(sql`status = 'pending'`),
  // Archives that may expire, soonest first: the expiry sweep and the eviction under disk
  // pressure (--min-free-disk) read this instead of every job.
  index('jobs_artifacts_expiry').on(t.artifactsExpireAt).where(sql`artifacts_expire_at IS NOT NULL`),
]);

/**
 * `needs` of DAG jobs, one row per edge, by job NAME: every attempt of a job (retries are new
 * rows of jobs) has the same needs, and progression asks "which jobs need X" and "what do the
 * created jobs need" with plain joins.
 */
export const jobNeeds = sqliteTable('job_needs', {
  pipelineId: integer('pipeline_id').notNull().references(() => pipelines.id, { onDelete: 'cascade' }),
  jobName: text('job_name').notNull(),
  needName: text('need_name').notNull(),
  /** download the need's artifacts (and receive its dotenv variables) */
  artifacts: integer('artifacts', { mode: 'boolean' }).notNull().default(true),
  optional: integer('optional', { mode: 'boolean' }).notNull().default(false),
}, (t) => [primaryKey({ columns: [t.pipelineId, t.jobName, t.needName] }), index('job_needs_need').on(t.pipelineId, t.needName)]);

/**
 * Files a job uploaded besides its archive: `artifacts:reports` (junit, dotenv, …), stored as
 * `<data>/artifacts/<job id>.<type>` (the name is built from the id and a known type only).
 * Moves to the blob store with the archives.
 */
export const jobArtifacts = sqliteTable('job_artifacts', {
  jobId: integer('job_id').notNull().references(() => jobs.id, { onDelete: 'cascade' }),
  /** a report type GitLab knows (artifact_type) */
  fileType: text('file_type').notNull(),
  /** gzip or raw (artifact_format) */
  fileFormat: text('file_format').notNull(),
  filename: text('filename').notNull(),
  size: integer('size').notNull(),
  expireAt: integer('expire_at'),
  createdAt: integer('created_at').notNull(),
}, (t) => [primaryKey({ columns: [t.jobId, t.fileType] }), index('job_artifacts_expire').on(t.expireAt)]);

/** Variables a job produced for the jobs that depend on it (`artifacts:reports:dotenv`). */
export const jobVariables = sqliteTable('job_variables', {
  jobId: integer('job_id').notNull().references(() => jobs.id, { onDelete: 'cascade' }),
  key: text('key').notNull(),
  value: text('value').notNull(),
  /** 'dotenv' */
  source: text('source').notNull().default('dotenv'),
}, (t) => [primaryKey({ columns: [t.jobId, t.key] })]);

/**
 * What a job's `artifacts:reports:junit` said, counted when it was uploaded; the test cases
 * themselves are kept as JSON beside the report (`<data>/artifacts/<job id>.junit.json`, blob store later).
 */
export const testReports = sqliteTable('test_reports', {
  jobId: integer('job_id').primaryKey().references(() => jobs.id, { onDelete: 'cascade' }),
  pipelineId: integer('pipeline_id').notNull().references(() => pipelines.id, { onDelete: 'cascade' }),
  /** the suite it belongs to: the job name, or the group name for `parallel: N` */
  suiteName: text('suite_name').notNull(),
  /** seconds */
  totalTime: real('total_time').notNull().default(0),
  total: integer('total').notNull().default(0),
  success: integer('success').notNull().default(0),
  failed: integer('failed').notNull().default(0),
  skipped: integer('skipped').notNull().default(0),
  error: integer('error').notNull().default(0),
  suiteError: text('suite_error'),
}, (t) => [index('test_reports_pipeline').on(t.pipelineId)]);

/**
 * `resource_group` keys of a project. `holderJobId` is the job holding the one resource; it is
 * set with a conditional write (`… WHERE holder_job_id IS NULL`), so two processes never grant twice.
 */
export const resourceGroups = sqliteTable('resource_groups', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  projectId: integer('project_id').notNull().references(() => projects.id, { onDelete: 'cascade' }),
  key: text('key').notNull(),
  /** unordered, oldest_first, newest_first, newest_ready_first */
  processMode: text('process_mode').notNull().default('unordered'),
  holderJobId: integer('holder_job_id'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
}, (t) => [uniqueIndex('resource_groups_key').on(t.projectId, t.key)]);

export const environments = sqliteTable('environments', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  projectId: integer('project_id').notNull().references(() => projects.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  slug: text('slug').notNull(),
  externalUrl: text('external_url'),
  /** available, stopping, stopped */
  state: text('state').notNull().default('available'),
  tier: text('tier').notNull(),
  autoStopAt: integer('auto_stop_at'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
}, (t) => [uniqueIndex('environments_name').on(t.projectId, t.name)]);

/** A job with `environment: {action: start}` deploys: its deployment follows the job's status. */
export const deployments = sqliteTable('deployments', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  /** per project, from 1 */
  iid: integer('iid').notNull(),
  projectId: integer('project_id').notNull().references(() => projects.id, { onDelete: 'cascade' }),
  environmentId: integer('environment_id').notNull().references(() => environments.id, { onDelete: 'cascade' }),
  jobId: integer('job_id').references(() => jobs.id, { onDelete: 'set null' }),
  ref: text('ref').notNull(),
  tag: integer('tag', { mode: 'boolean' }).notNull(),
  sha: text('sha').notNull(),
  /** created, running, success, failed, canceled, skipped, blocked */
  status: text('status').notNull(),
  userId: integer('user_id'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  finishedAt: integer('finished_at'),
}, (t) => [
  uniqueIndex('deployments_iid').on(t.projectId, t.iid),
  index('deployments_environment').on(t.environmentId, t.id),
  index('deployments_job').on(t.jobId),
]);

/**
 * How many jobs are in each status, kept by SQLite triggers on `jobs` (migration
 * 0002_job_counts_triggers.sql) in the same transaction as every insert, delete and status
 * change — so it is exact whichever process (or a cascade delete) changed the job, and
 * GET /metrics reads a handful of rows instead of counting a million.
 */
export const jobCounts = sqliteTable('job_counts', {
  status: text('status').primaryKey(),
  n: integer('n').notNull(),
});

/**
 * How many pipelines each project has, kept by SQLite triggers on `pipelines` (migration
 * 0012_pipeline_counts_triggers.sql) in the transaction of every insert and delete: the
 * dashboard's and the API's unfiltered pipeline lists page through a project with 10 000
 * pipelines without counting them (bench P9).
 */
export const pipelineCounts = sqliteTable('pipeline_counts', {
  projectId: integer('project_id').primaryKey(),
  n: integer('n').notNull(),
});

// ---------------------------------------------------------------- people (src/core/people/)

/**
 * Accounts. `username` is also the user's namespace (projects live at `<username>/<path>`).
 * Username and email are unique case-insensitively (GitLab's rule). The built-in admin `root`
 * is created at start (its id is the `root_user_id` setting); the admin token is its bootstrap
 * personal access token.
 */
export const users = sqliteTable('users', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  username: text('username').notNull(),
  name: text('name').notNull(),
  /** optional in Baton (it sends no mail); sign-in accepts it in place of the username */
  email: text('email'),
  /** argon2id (Bun.password), PHC string; null = no password sign-in (tokens only) */
  passwordHash: text('password_hash'),
  admin: integer('admin', { mode: 'boolean' }).notNull().default(false),
  /** 'active' or 'blocked': a blocked user's tokens and sessions stop working */
  state: text('state').notNull().default('active'),
  createdAt: integer('created_at').notNull(),
  /** the previous and the latest successful sign-in (GitLab's last_sign_in_at, current_sign_in_at) */
  lastSignInAt: integer('last_sign_in_at'),
  currentSignInAt: integer('current_sign_in_at'),
}, (t) => [
  uniqueIndex('users_username').on(sql`lower(${t.username})`),
  uniqueIndex('users_email').on(sql`lower(${t.email})`),
]);

/**
 * Personal access tokens (`glpat-…`), shown once at creation and kept as sha256 only. The
 * admin token is root's bootstrap token, one row here (its id is the `bootstrap_token_id`
 * setting). Scopes are a short JSON list, read with the row and never queried.
 */
export const personalAccessTokens = sqliteTable('personal_access_tokens', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  tokenHash: text('token_hash').notNull(),
  scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull(),
  /** midnight UTC of the `expires_at` date (the token stops working then); null = never */
  expiresAt: integer('expires_at'),
  revoked: integer('revoked', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull(),
  /** written at most once a minute per token */
  lastUsedAt: integer('last_used_at'),
}, (t) => [uniqueIndex('personal_access_tokens_hash').on(t.tokenHash), index('personal_access_tokens_user').on(t.userId, t.id)]);

/**
 * Dashboard sign-in sessions: the cookie's token as sha256, an inactivity expiry that moves
 * on with use (written at most once a minute), and where it was opened from (for the list a
 * user sees of their sessions).
 */
export const sessions = sqliteTable('sessions', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  tokenHash: text('token_hash').notNull(),
  createdAt: integer('created_at').notNull(),
  lastUsedAt: integer('last_used_at').notNull(),
  expiresAt: integer('expires_at').notNull(),
  /** client address and User-Agent (at most 255 characters) at sign-in */
  ipAddress: text('ip_address'),
  userAgent: text('user_agent'),
}, (t) => [uniqueIndex('sessions_token_hash').on(t.tokenHash), index('sessions_user').on(t.userId)]);

/**
 * Project members with GitLab's access levels (10 Guest, 20 Reporter, 30 Developer,
 * 40 Maintainer, 50 Owner). The primary key is the one lookup every project request makes.
 */
export const members = sqliteTable('members', {
  projectId: integer('project_id').notNull().references(() => projects.id, { onDelete: 'cascade' }),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  accessLevel: integer('access_level').notNull(),
  createdAt: integer('created_at').notNull(),
  createdBy: integer('created_by').references(() => users.id, { onDelete: 'set null' }),
  /** midnight UTC of the `expires_at` date (membership ends then); null = never */
  expiresAt: integer('expires_at'),
}, (t) => [primaryKey({ columns: [t.projectId, t.userId] }), index('members_user').on(t.userId)]);

export type Project = typeof projects.$inferSelect;
export type User = typeof users.$inferSelect;
export type PersonalAccessToken = typeof personalAccessTokens.$inferSelect;
export type Session = typeof sessions.$inferSelect;
export type Member = typeof members.$inferSelect;

/** Pipeline trigger tokens (`glptt-…`), shown once at creation. */
export const pipelineTriggers = sqliteTable('pipeline_triggers', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  projectId: integer('project_id').notNull().references(() => projects.id, { onDelete: 'cascade' }),
  /** sha256 of the token; the token itself is returned once, by the create call. */
  tokenHash: text('token_hash').notNull(),
  /** the first characters after the prefix, so lists can tell tokens apart (GitLab shows 4) */
  tokenStart: text('token_start').notNull(),
  description: text('description').notNull().default(''),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  lastUsed: integer('last_used'),
}, (t) => [uniqueIndex('pipeline_triggers_token_hash').on(t.tokenHash), index('pipeline_triggers_project').on(t.projectId)]);

/** GitLab's pipeline schedules: a cron line in a time zone, on a ref. */
export const pipelineSchedules = sqliteTable('pipeline_schedules', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  projectId: integer('project_id').notNull().references(() => projects.id, { onDelete: 'cascade' }),
  description: text('description').notNull(),
  ref: text('ref').notNull(),
  cron: text('cron').notNull(),
  cronTimezone: text('cron_timezone').notNull().default('UTC'),
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  /**
   * The next slot (unix ms). A run is claimed by moving it forward with a conditional UPDATE
   * (`… WHERE next_run_at = <seen>`): the change count decides, so one process runs it.
   */
  nextRunAt: integer('next_run_at').notNull(),
  lastPipelineId: integer('last_pipeline_id').references(() => pipelines.id, { onDelete: 'set null' }),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
}, (t) => [index('pipeline_schedules_due').on(t.active, t.nextRunAt), index('pipeline_schedules_project').on(t.projectId)]);

export const scheduleVariables = sqliteTable('schedule_variables', {
  scheduleId: integer('schedule_id').notNull().references(() => pipelineSchedules.id, { onDelete: 'cascade' }),
  key: text('key').notNull(),
  value: text('value').notNull(),
  variableType: text('variable_type').notNull().default('env_var'),
}, (t) => [primaryKey({ columns: [t.scheduleId, t.key] })]);

/** GitLab's project hooks: pipeline, job and push events posted to a URL. */
export const projectHooks = sqliteTable('project_hooks', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  projectId: integer('project_id').notNull().references(() => projects.id, { onDelete: 'cascade' }),
  url: text('url').notNull(),
  /** the `X-Gitlab-Token` sent with each event; write-only, encrypted like forge tokens */
  tokenEnc: text('token_enc'),
  pushEvents: integer('push_events', { mode: 'boolean' }).notNull().default(true),
  tagPushEvents: integer('tag_push_events', { mode: 'boolean' }).notNull().default(false),
  pipelineEvents: integer('pipeline_events', { mode: 'boolean' }).notNull().default(false),
  jobEvents: integer('job_events', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull(),
}, (t) => [index('project_hooks_project').on(t.projectId)]);

/**
 * Durable work, inbound and outbound (core/outbox.ts): webhook deliveries and schedule runs
 * waiting to become pipelines, commit statuses and hook events waiting to be posted. Written
 * in the transaction of the change that causes it; a worker takes due rows with a lease,
 * retries with backoff and gives up after a bounded time. Payloads are small JSON (a
 * normalised push, a status, a hook body); a hook body of a huge pipeline would be the
 * first thing to move to the blob store.
 */
export const outbox = sqliteTable('outbox', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  projectId: integer('project_id').notNull().references(() => projects.id, { onDelete: 'cascade' }),
  /** webhook (a push to build) | schedule (a run to start) | commit_status | hook */
  kind: text('kind').notNull(),
  /** forge of a webhook, event name of a hook (`Pipeline Hook`), state of a status */
  event: text('event').notNull(),
  hookId: integer('hook_id').references(() => projectHooks.id, { onDelete: 'cascade' }),
  pipelineId: integer('pipeline_id').references(() => pipelines.id, { onDelete: 'set null' }),
  /** rows with the same key are merged while pending: only the latest state is sent */
  coalesceKey: text('coalesce_key'),
  /** the sender's delivery id (a redelivery with the same key is answered, not recorded again) */
  dedupeKey: text('dedupe_key'),
  payload: text('payload', { mode: 'json' }).$type<unknown>().notNull(),
  /** bumped when a pending row is coalesced; a send finishes the row only if it sent this version */
  version: integer('version').notNull().default(1),
  /** pending → done | skipped | failed */
  state: text('state').notNull(),
  /** why a webhook made no pipeline, or what the last attempt got */
  reason: text('reason'),
  attempts: integer('attempts').notNull().default(0),
  responseStatus: integer('response_status'),
  nextAttemptAt: integer('next_attempt_at').notNull(),
  /** a worker holds the row until then; a crashed worker's rows come back after it */
  leaseUntil: integer('lease_until'),
  createdAt: integer('created_at').notNull(),
  /** when the pending version was enqueued (the give-up time counts from here) */
  enqueuedAt: integer('enqueued_at').notNull(),
  finishedAt: integer('finished_at'),
}, (t) => [
  index('outbox_due').on(t.state, t.nextAttemptAt),
  index('outbox_project').on(t.projectId, t.id),
  index('outbox_coalesce').on(t.coalesceKey, t.state),
  uniqueIndex('outbox_dedupe').on(t.projectId, t.dedupeKey),
]);

/** One `release:assets:links` entry / Releases API link; `id` is unique within its release. */
export interface ReleaseLink { id: number; name: string; url: string; link_type: string; filepath: string | null }

/**
 * GitLab releases (`/projects/:id/releases`). Baton creates no git tags: `ref` is kept as the
 * point the tag would be made from (GitLab creates the tag from it), and `sha` is the commit
 * it resolved to when Baton knew it (the releasing job's pipeline, a pipeline of that tag or
 * ref, or a sha given as ref).
 */
export const releases = sqliteTable('releases', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  projectId: integer('project_id').notNull().references(() => projects.id, { onDelete: 'cascade' }),
  tagName: text('tag_name').notNull(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  tagMessage: text('tag_message'),
  ref: text('ref'),
  sha: text('sha'),
  milestones: text('milestones', { mode: 'json' }).$type<string[]>().notNull().default([]),
  links: text('links', { mode: 'json' }).$type<ReleaseLink[]>().notNull().default([]),
  authorId: integer('author_id').references(() => users.id, { onDelete: 'set null' }),
  /** the job whose CI_JOB_TOKEN created it */
  jobId: integer('job_id').references(() => jobs.id, { onDelete: 'set null' }),
  releasedAt: integer('released_at').notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
}, (t) => [uniqueIndex('releases_project_tag').on(t.projectId, t.tagName), index('releases_project_released').on(t.projectId, t.releasedAt)]);

export type Release = typeof releases.$inferSelect;
export type PipelineTrigger = typeof pipelineTriggers.$inferSelect;
export type PipelineSchedule = typeof pipelineSchedules.$inferSelect;
export type ScheduleVariable = typeof scheduleVariables.$inferSelect;
export type ProjectHook = typeof projectHooks.$inferSelect;
export type OutboxRow = typeof outbox.$inferSelect;
export type Runner = typeof runners.$inferSelect;
export type Pipeline = typeof pipelines.$inferSelect;
export type Job = typeof jobs.$inferSelect;
export type Variable = typeof variables.$inferSelect;
export type ResourceGroup = typeof resourceGroups.$inferSelect;
export type Environment = typeof environments.$inferSelect;
export type Deployment = typeof deployments.$inferSelect;
