/**
 * Who may do what — the ONE authorization function every route goes through.
 *
 * A route names the permission it needs (`can: 'create_pipeline'` on a project route,
 * `admin: true` on an instance route, `auth: true` for any signed-in caller);
 * src/http/auth.ts turns the request's credential into an Actor (authenticate) and asks
 * here. The answers follow GitLab:
 *   - no valid credential → 401 before anything else (an expired or revoked token says so);
 *   - a blocked user → 403 "Your account has been blocked." (every credential of theirs);
 *   - a caller who may not even read a project → 404 (its existence is not revealed);
 *   - one who may read it but not do this → 403.
 *
 * Project permissions map to GitLab's access levels: Guest (10) sees the project, Reporter
 * (20) reads pipelines, jobs, logs and artifacts, Developer (30) also starts, cancels,
 * retries and plays, Maintainer (40) also administers the project (settings, variables,
 * runners, members, …), Owner (50) also deletes. Instance admins may do everything.
 * A member's level is one indexed lookup, made together with the project's (lookup).
 *
 * Projects are also decided here where they are made: in which namespace a caller may
 * create one, and that only admins may point a project at the server's own disk. So are
 * runners (RUNNER_PERMISSIONS) and other people's personal access tokens.
 */
import { and, eq, gte, isNull, or, sql } from 'drizzle-orm';
import { jobs, members, projects, runnerProjects, type Job, type PersonalAccessToken, type Project, type Runner } from '../../db/schema';
import { hashToken } from '../tokens';
import { runningJobByToken } from '../jobs';
import type { CoreDeps } from '../context';
import { badRequest, DomainError, forbidden, notFound } from '../errors';
import { remoteHost, REPO_LOCAL_NETWORK } from '../git';
import { hostReach } from '../outbound';
import { isValidPath, PATH_RULE, type ProjectFilter, type ProjectInput, type ProjectService } from '../projects';
import type { RunnerService } from '../runners';
import type { SessionService } from './sessions';
import type { PersonalAccessTokenService, TokenFilter } from './tokens';
import { RESERVED_NAMES, type UserService } from './users';

/** GitLab's access levels (members API `access_level`). */
export const ACCESS_LEVEL = { guest: 10, reporter: 20, developer: 30, maintainer: 40, owner: 50 } as const;
export type AccessLevel = (typeof ACCESS_LEVEL)[keyof typeof ACCESS_LEVEL];
export const ROLE_NAME: Record<number, string> = { 10: 'Guest', 20: 'Reporter', 30: 'Developer', 40: 'Maintainer', 50: 'Owner' };

/** The least access level each project permission needs. */
export const PROJECT_PERMISSIONS = {
  read_project: ACCESS_LEVEL.guest,
  // GitLab: reading a private project's repository (include:project, rules:exists:project).
  download_code: ACCESS_LEVEL.reporter,
  read_pipeline: ACCESS_LEVEL.reporter,
  read_job: ACCESS_LEVEL.reporter,
  read_trace: ACCESS_LEVEL.reporter,
  read_artifacts: ACCESS_LEVEL.reporter,
  read_environment: ACCESS_LEVEL.reporter,
  create_pipeline: ACCESS_LEVEL.developer,
  update_pipeline: ACCESS_LEVEL.developer,
  update_job: ACCESS_LEVEL.developer,
  admin_project: ACCESS_LEVEL.maintainer,
  // GitLab: deleting a pipeline or the project itself needs the Owner role.
  destroy_pipeline: ACCESS_LEVEL.owner,
  // GitLab: releases are read by Reporters and made, edited and deleted by Developers.
  read_release: ACCESS_LEVEL.reporter,
  create_release: ACCESS_LEVEL.developer,
  update_release: ACCESS_LEVEL.developer,
  destroy_release: ACCESS_LEVEL.developer,
  remove_project: ACCESS_LEVEL.owner,
} as const;
export type ProjectPermission = keyof typeof PROJECT_PERMISSIONS;

/**
 * What may be done to a runner (`/runners/:id`), GitLab's rules: admins anything; a
 * Maintainer of one of a project runner's projects reads and edits it, enables it for
 * another project they maintain (unless it is locked), and deletes it when it serves only
 * that project. Instance runners are visible to everyone signed in, changed by admins only.
 */
export const RUNNER_PERMISSIONS = ['read_runner', 'update_runner', 'delete_runner', 'assign_runner'] as const;
export type RunnerPermission = (typeof RUNNER_PERMISSIONS)[number];

/** The authenticated caller of a people-facing request. */
export interface Actor {
  userId: number;
  username: string;
  admin: boolean;
  /** a token with only the `read_api` scope: the HTTP layer refuses it anything but GET/HEAD */
  readOnly: boolean;
  /** how the caller proved who it is: a token header (PAT, incl. the admin token) or the session cookie */
  via: 'token' | 'session';
  /** the personal access token used (`GET /personal_access_tokens/self`) */
  tokenId?: number;
  /** the session used, with the CSRF token its state-changing requests must carry */
  session?: { id: number; csrfToken: string };
}

/** What a request presented: a token (PRIVATE-TOKEN / Bearer) or a session cookie. */
export interface Credential { token?: string; session?: string }

const unauthorized = () => new DomainError('unauthorized', '401 Unauthorized');

/** GitLab's OAuth-style answer for a known token that no longer works. */
function invalidToken(description: string) {
  return new DomainError('unauthorized', `401 Unauthorized - ${description}`, {
    body: { error: 'invalid_token', error_description: description },
    headers: { 'WWW-Authenticate': `Bearer realm="The API", error="invalid_token", error_description="${description}"` },
  });
}

export const INSUFFICIENT_SCOPE = 'The request requires higher privileges than provided by the access token.';

/** GitLab's answer when a read_api token tries to write. */
export function insufficientScope() {
  return new DomainError('forbidden', `403 Forbidden - insufficient_scope`, {
    body: { error: 'insufficient_scope', error_description: INSUFFICIENT_SCOPE, scope: 'api' },
    headers: { 'WWW-Authenticate': `Bearer realm="The API", error="insufficient_scope", error_description="${INSUFFICIENT_SCOPE}", scope="api"` },
  });
}

/**
 * Does git read this repo_url from the server's own disk? A local path, a `file://` URL or
 * git's `<transport>::<address>` form do; `scheme://…` URLs and scp-like `host:path` do not.
 */
export function readsServerDisk(url: string): boolean {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (scheme) return scheme[1].toLowerCase() === 'file';
  if (/^[^/]*::/.test(url)) return true;
  if (/^[^/]*:/.test(url) && !/^[A-Za-z]:[\\/]/.test(url)) return false;
  return true;
}

type Found = { project: Project; level: number | null; expiresAt: number | null };

const lookups = (db: CoreDeps['db']) => {
  const columns = { project: projects, level: members.accessLevel, expiresAt: members.expiresAt };
  const joined = () => db.select(columns).from(projects)
    .leftJoin(members, and(eq(members.projectId, projects.id), eq(members.userId, sql.placeholder('user'))));
  return {
    byId: joined().where(eq(projects.id, sql.placeholder('id'))).prepare(),
    byPath: joined().where(and(
      eq(sql`lower(${projects.namespace})`, sql.placeholder('namespace')), eq(sql`lower(${projects.path})`, sql.placeholder('path')),
    )).prepare(),
  };
};

export class AccessService {
  constructor(
    private deps: CoreDeps,
    private projects: ProjectService,
    private users: UserService,
    private tokens: PersonalAccessTokenService,
    private sessions: SessionService,
    private runners: RunnerService,
  ) {}

  private q?: ReturnType<typeof lookups>;
  /** Membership levels found with a project, so a later question about the same request costs nothing. */
  private levels = new WeakMap<Project, { userId: number; level: number | null }>();

  // ---------------------------------------------------------------- who is calling

  /** The caller behind a presented credential, or 401 (403 for a blocked user's token). */
  authenticate(cred: Credential): Actor {
    if (cred.token !== undefined) {
      const found = this.tokens.authenticate(cred.token);
      if (!found.ok) {
        if (found.why === 'expired') throw invalidToken('Token is expired. You can either do re-authorization or token refresh.');
        if (found.why === 'revoked') throw invalidToken('Token was revoked. You have to re-authorize from the user.');
        throw unauthorized();
      }
      const { token, user } = found;
      if (user.state !== 'active') throw forbidden('403 Forbidden - Your account has been blocked.');
      return { userId: user.id, username: user.username, admin: user.admin, readOnly: !token.scopes.includes('api'), via: 'token', tokenId: token.id };
    }
    if (cred.session !== undefined) {
      const found = this.sessions.authenticate(cred.session);
      if (!found || found.user.state !== 'active') throw unauthorized();
      const { user, session } = found;
      return {
        userId: user.id, username: user.username, admin: user.admin, readOnly: false, via: 'session',
        session: { id: session.id, csrfToken: this.sessions.csrfToken(cred.session) },
      };
    }
    throw unauthorized();
  }

  /** Instance administration (users, all runners, other people's tokens): admins only. */
  requireAdmin(actor: Actor): void {
    if (!actor.admin) throw forbidden();
  }

  // ---------------------------------------------------------------- projects

  /**
   * The project a path names (a numeric id or the URL-decoded `namespace/path`), if the actor
   * may do `permission` on it: 404 when it does not exist or the actor may not read it,
   * 403 when it may read but not do this.
   */
  project(actor: Actor, rawId: string, permission: ProjectPermission): Project {
    const project = this.lookup(rawId, actor.userId);
    if (!project || !this.can(actor, 'read_project', project)) throw notFound('Project');
    if (!this.can(actor, permission, project)) throw forbidden();
    return project;
  }

  /** May the actor do this on that project? */
  can(actor: Actor, permission: ProjectPermission, project: Project): boolean {
    return this.accessLevel(actor, project) >= PROJECT_PERMISSIONS[permission];
  }

  /** The caller's effective access level on a project: an admin's is Owner's, a non-member's 0. */
  accessLevel(actor: Actor, project: Project): number {
    return actor.admin ? ACCESS_LEVEL.owner : this.membership(actor, project) ?? 0;
  }

  /** The caller's own membership level (GitLab's `permissions.project_access`), null when none. */
  membership(actor: Actor, project: Project): number | null {
    const known = this.levels.get(project);
    if (known && known.userId === actor.userId) return known.level;
    const now = this.deps.clock.now();
    const row = this.deps.db.select({ level: members.accessLevel }).from(members).where(and(
      eq(members.projectId, project.id), eq(members.userId, actor.userId), or(isNull(members.expiresAt), sql`${members.expiresAt} > ${now}`),
    )).get();
    const level = row?.level ?? null;
    this.levels.set(project, { userId: actor.userId, level });
    return level;
  }

  /** The ONE project lookup: `42`, or `team/app` (clients send `team%2Fapp`; the router decodes it). */
  private lookup(rawId: string, userId: number): Project | null {
    const q = (this.q ??= lookups(this.deps.db));
    let found: Found | undefined;
    if (/^\d{1,15}$/.test(rawId)) {
      found = q.byId.get({ id: Number(rawId), user: userId });
    } else {
      const slash = rawId.indexOf('/');
      if (slash <= 0 || slash !== rawId.lastIndexOf('/')) return null;
      found = q.byPath.get({ namespace: rawId.slice(0, slash).toLowerCase(), path: rawId.slice(slash + 1).toLowerCase(), user: userId });
    }
    if (!found) return null;
    const live = found.level !== null && (found.expiresAt === null || found.expiresAt > this.deps.clock.now());
    this.levels.set(found.project, { userId, level: live ? found.level : null });
    return found.project;
  }

  /** Which projects `GET /projects` shows: a member's own (at least Guest), or every one for an admin. */
  projectFilter(actor: Actor, q: { membership?: boolean; owned?: boolean; minAccessLevel?: number; search?: string }): ProjectFilter {
    const min = Math.max(q.minAccessLevel ?? 0, q.owned ? ACCESS_LEVEL.owner : 0, ACCESS_LEVEL.guest);
    const onlyMine = !actor.admin || q.membership || q.owned || q.minAccessLevel !== undefined;
    return { search: q.search, ...(onlyMine ? { memberId: actor.userId, minAccessLevel: min } : {}) };
  }

  /**
   * A new project as this caller may make it: in their own namespace unless they name one
   * (another user's only for admins; a group-like one already in use only for admins and its
   * Maintainers), with a repo_url off the server's disk unless they are an admin, and with
   * the caller as its Owner (in a user's namespace: that user).
   */
  newProject(actor: Actor, input: ProjectInput): ProjectInput {
    let namespace = input.namespace ?? actor.username;
    if (!isValidPath(namespace)) throw badRequest(`namespace: ${PATH_RULE}`);
    if (RESERVED_NAMES.has(namespace.toLowerCase())) throw badRequest(`namespace: "${namespace}" is a reserved name`);
    const owner = this.users.findByUsername(namespace);
    const inUse = owner ? null : this.projects.namespaceSpelling(namespace);
    if (owner) namespace = owner.username;
    else if (inUse) namespace = inUse;
    if (!actor.admin) {
      if (owner && owner.id !== actor.userId) {
        throw forbidden(`403 Forbidden - namespace: "${namespace}" is another user's namespace; only that user or an admin creates projects there`);
      }
      if (inUse && !this.maintainsIn(actor, namespace)) {
        throw forbidden(`403 Forbidden - namespace: "${namespace}" is in use; only admins and Maintainers of its projects create projects there`);
      }
    }
    this.checkRepoUrl(actor, input.repoUrl);
    // A project in a user's namespace is that user's (an admin may create it for them).
    return { ...input, namespace, ownerId: owner?.id ?? actor.userId, repoUrlByAdmin: actor.admin };
  }

  /**
   * An edit as this caller may make it (the repo_url rule of newProject). A new repo_url is
   * the editor's; an administrator who sends the current one vouches for it too.
   */
  projectEdit(actor: Actor, project: Project, input: Partial<ProjectInput>): Partial<ProjectInput> {
    if (input.repoUrl === undefined) return { ...input, repoUrlByAdmin: undefined };
    if (input.repoUrl === project.repoUrl) return { ...input, repoUrlByAdmin: actor.admin ? true : undefined };
    this.checkRepoUrl(actor, input.repoUrl);
    return { ...input, repoUrlByAdmin: actor.admin };
  }

  private checkRepoUrl(actor: Actor, url: string) {
    if (!actor.admin && readsServerDisk(url)) {
      throw forbidden("403 Forbidden - repo_url: only administrators may use a local path or a file:// URL (git would read the server's own disk)");
    }
  }

  /**
   * The network half of the repo_url rule, which needs DNS (so the routes ask before they
   * write): a non-admin's repo_url may not point git at loopback, link-local or private
   * addresses unless Baton runs with --allow-local-requests (core/outbound.ts; the fetch
   * checks again). A name DNS does not know is left to the fetch to report.
   */
  async checkRepoUrlNetwork(actor: Actor, url: string | undefined, current?: Project): Promise<void> {
    if (url === undefined || actor.admin || this.deps.outbound.allowLocal || url === current?.repoUrl) return;
    const host = remoteHost(url);
    if (host !== null && (await hostReach(host)) === 'local') throw forbidden(`403 Forbidden - repo_url: ${REPO_LOCAL_NETWORK}`);
  }

  private maintainsIn(actor: Actor, namespace: string): boolean {
    const now = this.deps.clock.now();
    return !!this.deps.db.select({ id: members.projectId }).from(members).innerJoin(projects, eq(projects.id, members.projectId)).where(and(
      eq(members.userId, actor.userId), gte(members.accessLevel, ACCESS_LEVEL.maintainer),
      eq(sql`lower(${projects.namespace})`, namespace.toLowerCase()), or(isNull(members.expiresAt), sql`${members.expiresAt} > ${now}`),
    )).limit(1).get();
  }

  // ---------------------------------------------------------------- runners

  /** The runner a path names, if the actor may do `permission` to it: 404 when there is none, 403 when not allowed. */
  runner(actor: Actor, rawId: string, permission: RunnerPermission): Runner {
    const runner = /^\d{1,15}$/.test(rawId) ? this.runners.find(Number(rawId)) : null;
    if (!runner) throw notFound('Runner');
    if (actor.admin) return runner;
    if (runner.isShared) {
      if (permission === 'read_runner') return runner;
      throw forbidden('403 Forbidden - Runner is instance type');
    }
    if (!this.maintainsProjectOf(actor, runner.id)) throw forbidden('403 Forbidden - No access granted');
    if (permission === 'assign_runner' && runner.locked) throw forbidden('403 Forbidden - Runner is locked');
    if (permission === 'delete_runner' && this.runners.projectIds(runner.id).length > 1) {
      throw forbidden('403 Forbidden - Runner associated with more than one project');
    }
    return runner;
  }

  /** The runners `GET /runners` shows a non-admin: the project runners of projects they maintain. */
  runnerOwner(actor: Actor): number | undefined {
    return actor.admin ? undefined : actor.userId;
  }

  private maintainsProjectOf(actor: Actor, runnerId: number): boolean {
    const now = this.deps.clock.now();
    return !!this.deps.db.select({ id: members.projectId }).from(runnerProjects)
      .innerJoin(members, eq(members.projectId, runnerProjects.projectId)).where(and(
        eq(runnerProjects.runnerId, runnerId), eq(members.userId, actor.userId), gte(members.accessLevel, ACCESS_LEVEL.maintainer),
        or(isNull(members.expiresAt), sql`${members.expiresAt} > ${now}`),
      )).limit(1).get();
  }

  // ---------------------------------------------------------------- personal access tokens

  /** A user's own tokens; an admin's list shows everyone's (filtered by `user_id`). Another's user_id → 401, as GitLab. */
  tokenFilter(actor: Actor, filter: TokenFilter): TokenFilter {
    if (actor.admin) return filter;
    if (filter.userId !== undefined && filter.userId !== actor.userId) throw unauthorized();
    return { ...filter, userId: actor.userId };
  }

  /** One token, if the actor may see or revoke it: its owner or an admin. Others get 401 (GitLab), admins 404 for a missing one. */
  token(actor: Actor, rawId: string): PersonalAccessToken {
    const token = /^\d{1,15}$/.test(rawId) ? this.tokens.find(Number(rawId)) : null;
    if (actor.admin) {
      if (!token) throw notFound('Personal Access Token');
      return token;
    }
    if (!token || token.userId !== actor.userId) throw unauthorized();
    return token;
  }

  /** The token the request came with (`/personal_access_tokens/self`); 404 for a session. */
  ownToken(actor: Actor): PersonalAccessToken {
    const token = actor.tokenId === undefined ? null : this.tokens.find(actor.tokenId);
    if (!token) throw notFound('Personal Access Token');
    return token;
  }

  /** Users may make tokens for themselves; an admin for anyone. */
  requireSelfOrAdmin(actor: Actor, userId: number) {
    if (!actor.admin && actor.userId !== userId) throw forbidden();
  }

  /**
   * The project a path's `:id` names (id or URL-encoded path), without asking who is calling:
   * for routes whose credential is not a person (webhooks: the signature; trigger tokens).
   */
  findProject(rawId: string): Project | null {
    return this.lookup(rawId, -1);
  }

  /**
   * A CI_JOB_TOKEN (`JOB-TOKEN` header or `job_token`) on the few people routes that take
   * one (the Releases API, for release-cli): the token of a job that is running now, for
   * that job's own project only. An unknown token or one of a job that ended is 401; any
   * other project is 404 (its existence is not revealed), as GitLab without an allowlist.
   */
  projectForJobToken(token: string, rawId: string): { project: Project; job: Job } {
    const job = token === '' ? undefined : runningJobByToken(this.deps.db, hashToken(token));
    if (!job || job.status !== 'running') throw unauthorized();
    const project = this.lookup(rawId, -1);
    if (!project || project.id !== job.projectId) throw notFound('Project');
    return { project, job };
  }
}
