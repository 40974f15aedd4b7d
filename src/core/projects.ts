/**
 * Projects and their secret variables. A project lives at `<namespace>/<path>`
 * (projectFullPath): the one place CI_PROJECT_PATH, web_url and `/projects/team%2Fapp`
 * agree on. Who may create or see a project is decided in people/access.ts.
 */
import { and, asc, desc, eq, gte, isNull, or, sql, type SQL } from 'drizzle-orm';
import { jobs, members, projects, variables, type Project, type Variable } from '../db/schema';
import type { CoreDeps } from './context';
import { badRequest, DomainError, notFound } from './errors';
import type { InstanceService } from './instance';
import { randomHex, randomToken, TOKEN_PREFIX } from './tokens';
import { secretsChanged } from './trace';

export interface ProjectInput {
  name: string;
  /** default DEFAULT_NAMESPACE; people/access.ts fills in the creator's username */
  namespace?: string;
  path?: string;
  repoUrl: string;
  defaultBranch?: string;
  buildTimeout?: number;
  sharedRunnersEnabled?: boolean;
  allowGitFetch?: boolean;
  cloneWithJobToken?: boolean;
  /** becomes the project's Owner (50) member, in the same transaction */
  ownerId?: number;
  /** repo_url set by an administrator (may reach the local network; people/access.ts sets it) */
  repoUrlByAdmin?: boolean;
}

/** Which projects a list shows (GET /projects); the caller's rights are applied by people/access.ts. */
export interface ProjectFilter {
  /** only projects this user is a member of (with a live membership) … */
  memberId?: number;
  /** … with at least this access level */
  minAccessLevel?: number;
  /** name or path contains this (case-insensitive) */
  search?: string;
}

/** Projects made without a creator (old data dirs, tests through the core) live in the built-in root's namespace. */
export const DEFAULT_NAMESPACE = 'root';

/** `<namespace>/<path>`: path_with_namespace, CI_PROJECT_PATH, the web path. */
export function projectFullPath(p: Pick<Project, 'namespace' | 'path'>): string {
  return `${p.namespace}/${p.path}`;
}

/** The project's page (web_url, CI_PROJECT_URL), under the external URL. */
export function projectWebUrl(serverUrl: string, p: Pick<Project, 'namespace' | 'path'>): string {
  return `${serverUrl.replace(/\/+$/, '')}/${projectFullPath(p)}`;
}

/**
 * GitLab's rule for a path (and a namespace, a username): letters, digits, `_`, `-`, `.`;
 * not starting with `-` or `.`, not ending in `.`, `.git` or `.atom`.
 */
export const PATH_RULE = "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-' or '.', end in '.', '.git' or '.atom'";
export function isValidPath(path: string): boolean {
  return path.length <= 255 && /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(path) && !/(\.|\.git|\.atom)$/i.test(path);
}

/** A LIKE pattern (used with ESCAPE '\\') in which `%`, `_` and `\\` of the term match themselves. */
export function likePattern(term: string): string {
  return `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

const VARIABLE_KEY = /^[A-Za-z0-9_]{1,255}$/;

export function slugify(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').replace(/\.(git|atom)$/, '');
  return isValidPath(slug) ? slug : 'project';
}

const byIdQuery = (db: CoreDeps['db']) => db.select().from(projects).where(eq(projects.id, sql.placeholder('id'))).prepare();
const variablesQuery = (db: CoreDeps['db']) => db.select().from(variables).where(eq(variables.projectId, sql.placeholder('id'))).orderBy(asc(variables.key)).prepare();

export class ProjectService {
  constructor(private deps: CoreDeps, private instance: InstanceService) {}

  private get db() { return this.deps.db; }

  create(input: ProjectInput): Project {
    const path = input.path ?? slugify(input.name);
    const namespace = input.namespace ?? DEFAULT_NAMESPACE;
    if (!isValidPath(path)) throw badRequest(`path: ${PATH_RULE}`);
    if (this.findByPath(namespace, path)) throw badRequest(`path: has already been taken`);
    if (input.buildTimeout !== undefined && (input.buildTimeout < 600 || input.buildTimeout > 2_592_000)) {
      throw badRequest('build_timeout: must be between 600 and 2592000 seconds');
    }
    const now = this.deps.clock.now();
    return this.db.transaction((tx) => {
      const created = tx.insert(projects).values({
        name: input.name,
        namespace,
        path,
        repoUrl: input.repoUrl,
        repoUrlByAdmin: input.repoUrlByAdmin ?? false,
        defaultBranch: input.defaultBranch ?? 'main',
        runnersToken: randomToken(TOKEN_PREFIX.project),
        webhookSecret: randomHex(),
        buildTimeout: input.buildTimeout ?? 3600,
        sharedRunnersEnabled: input.sharedRunnersEnabled ?? true,
        allowGitFetch: input.allowGitFetch ?? true,
        cloneWithJobToken: input.cloneWithJobToken ?? false,
        createdAt: now,
      }).returning().get();
      if (input.ownerId !== undefined) {
        tx.insert(members).values({ projectId: created.id, userId: input.ownerId, accessLevel: 50, createdAt: now, createdBy: input.ownerId }).run();
      }
      return created;
    });
  }

  /** The project a GitLab-style full path names (`<namespace>/<path>`, case-insensitively). */
  findByFullPath(fullPath: string): Project | null {
    const parts = fullPath.replace(/^\/+|\/+$/g, '').split('/');
    return parts.length === 2 ? this.findByPath(parts[0], parts[1]) : null;
  }

  /** by id, prepared once (every request and pipeline reads it: bench P3) */
  private byId?: ReturnType<typeof byIdQuery>;
  private variablesOf?: ReturnType<typeof variablesQuery>;
  find(id: number): Project | null {
    return (this.byId ??= byIdQuery(this.db)).get({ id }) ?? null;
  }

  /** The project at `<namespace>/<path>`, case-insensitively (GitLab's rule). */
  findByPath(namespace: string, path: string): Project | null {
    return this.db.select().from(projects)
      .where(and(eq(sql`lower(${projects.namespace})`, namespace.toLowerCase()), eq(sql`lower(${projects.path})`, path.toLowerCase()))).get() ?? null;
  }

  /** The namespace as its projects spell it, or null when no project lives there. */
  namespaceSpelling(namespace: string): string | null {
    return this.db.select({ ns: projects.namespace }).from(projects).where(eq(sql`lower(${projects.namespace})`, namespace.toLowerCase())).limit(1).get()?.ns ?? null;
  }

  /** A user was renamed: the projects of their namespace move with them. */
  renameNamespace(from: string, to: string) {
    this.db.update(projects).set({ namespace: to }).where(eq(sql`lower(${projects.namespace})`, from.toLowerCase())).run();
  }

  get(id: number): Project {
    const p = this.find(id);
    if (!p) throw notFound('Project');
    return p;
  }

  /** Newest first; every project, or only those the filter keeps. */
  list(offset: number, limit: number, filter: ProjectFilter = {}): { rows: Project[]; total: number } {
    const where: SQL[] = [];
    if (filter.search) {
      const like = likePattern(filter.search);
      where.push(or(sql`lower(${projects.name}) LIKE ${like} ESCAPE '\\'`, sql`lower(${projects.path}) LIKE ${like} ESCAPE '\\'`)!);
    }
    if (filter.memberId !== undefined) {
      const now = this.deps.clock.now();
      const live = this.db.select({ id: members.projectId }).from(members).where(and(
        eq(members.userId, filter.memberId),
        gte(members.accessLevel, filter.minAccessLevel ?? 0),
        or(isNull(members.expiresAt), sql`${members.expiresAt} > ${now}`),
      ));
      where.push(sql`${projects.id} IN ${live}`);
    }
    const cond = where.length ? and(...where) : undefined;
    return {
      rows: this.db.select().from(projects).where(cond).orderBy(desc(projects.id)).limit(limit).offset(offset).all(),
      total: this.db.select({ n: sql<number>`count(*)` }).from(projects).where(cond).get()!.n,
    };
  }

  update(id: number, input: Partial<ProjectInput>): Project {
    const current = this.get(id);
    if (input.path !== undefined) {
      if (!isValidPath(input.path)) throw badRequest(`path: ${PATH_RULE}`);
      const other = this.findByPath(current.namespace, input.path);
      if (other && other.id !== id) throw badRequest('path: has already been taken');
    }
    if (input.buildTimeout !== undefined && (input.buildTimeout < 600 || input.buildTimeout > 2_592_000)) {
      throw badRequest('build_timeout: must be between 600 and 2592000 seconds');
    }
    // The namespace and the owner are set at creation only.
    const { namespace: _namespace, ownerId: _ownerId, ...editable } = input;
    const set = Object.fromEntries(Object.entries(editable).filter(([, v]) => v !== undefined));
    if (Object.keys(set).length) this.db.update(projects).set(set).where(eq(projects.id, id)).run();
    if (input.sharedRunnersEnabled !== undefined) {
      this.instance.tickQueue();
      this.deps.notifier.notify();
    }
    return this.get(id);
  }

  /** A new webhook secret; deliveries signed with the old one are refused from now on. */
  rotateWebhookSecret(id: number): Project {
    this.get(id);
    this.db.update(projects).set({ webhookSecret: randomHex() }).where(eq(projects.id, id)).run();
    return this.get(id);
  }

  /** Removes the project with its pipelines, jobs, traces and artifacts. */
  delete(id: number) {
    this.get(id);
    const ids = this.db.select({ id: jobs.id }).from(jobs).where(eq(jobs.projectId, id)).all().map((j) => j.id);
    this.db.delete(projects).where(eq(projects.id, id)).run();
    for (const jobId of ids) {
      this.deps.store.deleteTrace(jobId);
      this.deps.store.deleteArtifact(jobId);
    }
  }

  // ---- variables ----

  variables(projectId: number): Variable[] {
    this.get(projectId);
    return (this.variablesOf ??= variablesQuery(this.db)).all({ id: projectId });
  }

  variable(projectId: number, key: string): Variable {
    this.get(projectId);
    const v = this.db.select().from(variables).where(and(eq(variables.projectId, projectId), eq(variables.key, key))).get();
    if (!v) throw notFound('Variable');
    return v;
  }

  createVariable(projectId: number, input: { key: string; value: string; masked?: boolean }): Variable {
    this.get(projectId);
    if (!VARIABLE_KEY.test(input.key)) throw badRequest('key: can contain only letters, digits and "_" (at most 255 characters)');
    if (input.masked) checkMaskable(input.value);
    const exists = this.db.select({ k: variables.key }).from(variables).where(and(eq(variables.projectId, projectId), eq(variables.key, input.key))).get();
    if (exists) throw badRequest(`key: (${input.key}) has already been taken`);
    const created = this.db.insert(variables).values({ projectId, key: input.key, value: input.value, masked: input.masked ?? false }).returning().get();
    secretsChanged();
    return created;
  }

  updateVariable(projectId: number, key: string, input: { value?: string; masked?: boolean }): Variable {
    const current = this.variable(projectId, key);
    const masked = input.masked ?? current.masked;
    const value = input.value ?? current.value;
    if (masked) checkMaskable(value);
    this.db.update(variables).set({ value, masked }).where(and(eq(variables.projectId, projectId), eq(variables.key, key))).run();
    secretsChanged();
    return this.variable(projectId, key);
  }

  deleteVariable(projectId: number, key: string) {
    this.variable(projectId, key);
    this.db.delete(variables).where(and(eq(variables.projectId, projectId), eq(variables.key, key))).run();
    secretsChanged();
  }
}

/** GitLab only masks values a log scan can find reliably: one line, at least 8 characters. */
function checkMaskable(value: string) {
  if (value.length < 8 || /[\r\n]/.test(value)) {
    throw new DomainError('bad_request', 'value: is invalid: a masked variable must be at least 8 characters long and on one line');
  }
}
