/**
 * Every table of Baton. drizzle-kit turns this file into the migrations in drizzle/;
 * an applied migration is never edited — change this file and generate a new one.
 *
 * Times are unix milliseconds (integer) so comparisons in SQL stay cheap; the API layers
 * render ISO 8601. Lists (tags) and structured YAML parts (job spec) are JSON text.
 */
import { sql } from 'drizzle-orm';
import { sqliteTable, integer, text, primaryKey, index, uniqueIndex, type AnySQLiteColumn } from 'drizzle-orm/sqlite-core';
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
  defaultBranch: text('default_branch').notNull().default('main'),
  /** Shown to admins again (registration of project runners), so kept as-is. */
  runnersToken: text('runners_token').notNull(),
  buildTimeout: integer('build_timeout').notNull().default(3600),
  sharedRunnersEnabled: integer('shared_runners_enabled', { mode: 'boolean' }).notNull().default(true),
  allowGitFetch: integer('allow_git_fetch', { mode: 'boolean' }).notNull().default(true),
  cloneWithJobToken: integer('clone_with_job_token', { mode: 'boolean' }).notNull().default(false),
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
  /** Variables given when the pipeline was created (GitLab's trigger variables). */
  triggerVariables: text('trigger_variables', { mode: 'json' }).$type<{ key: string; value: string }[]>().notNull().default([]),
  /** Who started it (API, dashboard): GitLab's pipeline `user` and the jobs' GITLAB_USER_*; null for other sources or a deleted user. */
  userId: integer('user_id').references((): AnySQLiteColumn => users.id, { onDelete: 'set null' }),
  /** The first line of the commit message, when known (read with git, or given by a forge); for lists. */
  commitTitle: text('commit_title'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  startedAt: integer('started_at'),
  finishedAt: integer('finished_at'),
}, (t) => [index('pipelines_project').on(t.projectId, t.id)]);

export const jobs = sqliteTable('jobs', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  pipelineId: integer('pipeline_id').notNull().references(() => pipelines.id, { onDelete: 'cascade' }),
  projectId: integer('project_id').notNull().references(() => projects.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  stage: text('stage').notNull(),
  stageIdx: integer('stage_idx').notNull(),
  /** created → pending → running → success|failed|canceled; also skipped, manual. */
  status: text('status').notNull(),
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
  artifactsFile: text('artifacts_file'),
  artifactsSize: integer('artifacts_size'),
  artifactsExpireAt: integer('artifacts_expire_at'),
}, (t) => [
  index('jobs_pending').on(t.status, t.id),
  index('jobs_pipeline').on(t.pipelineId, t.stageIdx),
  index('jobs_project').on(t.projectId, t.id),
  index('jobs_runner').on(t.runnerId, t.status),
  uniqueIndex('jobs_token_hash').on(t.tokenHash),
]);

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
export type Runner = typeof runners.$inferSelect;
export type Pipeline = typeof pipelines.$inferSelect;
export type Job = typeof jobs.$inferSelect;
export type Variable = typeof variables.$inferSelect;
