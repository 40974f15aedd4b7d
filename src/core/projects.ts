/** Projects and their secret variables. */
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { DEFAULT_NAMESPACE } from './predefined-variables';
import { jobs, projects, variables, type Project, type Variable } from '../db/schema';
import type { CoreDeps } from './context';
import { badRequest, DomainError, notFound } from './errors';
import type { InstanceService } from './instance';
import { randomToken, TOKEN_PREFIX } from './tokens';
import { secretsChanged } from './trace';

export interface ProjectInput {
  name: string;
  path?: string;
  repoUrl: string;
  defaultBranch?: string;
  buildTimeout?: number;
  sharedRunnersEnabled?: boolean;
  allowGitFetch?: boolean;
  cloneWithJobToken?: boolean;
}

const VARIABLE_KEY = /^[A-Za-z0-9_]{1,255}$/;

export function slugify(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '') || 'project';
}

export class ProjectService {
  constructor(private deps: CoreDeps, private instance: InstanceService) {}

  private get db() { return this.deps.db; }

  create(input: ProjectInput): Project {
    const path = input.path ?? slugify(input.name);
    if (!/^[A-Za-z0-9_.-]+$/.test(path)) throw badRequest('path: can contain only letters, digits, "_", "-" and "."');
    if (this.db.select({ id: projects.id }).from(projects).where(eq(projects.path, path)).get()) {
      throw badRequest(`path: has already been taken`);
    }
    if (input.buildTimeout !== undefined && (input.buildTimeout < 600 || input.buildTimeout > 2_592_000)) {
      throw badRequest('build_timeout: must be between 600 and 2592000 seconds');
    }
    return this.db.insert(projects).values({
      name: input.name,
      path,
      repoUrl: input.repoUrl,
      defaultBranch: input.defaultBranch ?? 'main',
      runnersToken: randomToken(TOKEN_PREFIX.project),
      buildTimeout: input.buildTimeout ?? 3600,
      sharedRunnersEnabled: input.sharedRunnersEnabled ?? true,
      allowGitFetch: input.allowGitFetch ?? true,
      cloneWithJobToken: input.cloneWithJobToken ?? false,
      createdAt: this.deps.clock.now(),
    }).returning().get();
  }

  /** The project a GitLab-style full path names (`baton/<path>`, or the bare path). */
  findByFullPath(fullPath: string): Project | null {
    const path = fullPath.replace(/^\/+|\/+$/g, '').replace(new RegExp(`^${DEFAULT_NAMESPACE}/`), '');
    if (path.includes('/')) return null;
    return this.db.select().from(projects).where(eq(projects.path, path)).get() ?? null;
  }

  find(id: number): Project | null {
    return this.db.select().from(projects).where(eq(projects.id, id)).get() ?? null;
  }

  get(id: number): Project {
    const p = this.find(id);
    if (!p) throw notFound('Project');
    return p;
  }

  list(offset: number, limit: number): { rows: Project[]; total: number } {
    return {
      rows: this.db.select().from(projects).orderBy(desc(projects.id)).limit(limit).offset(offset).all(),
      total: this.db.select({ n: sql<number>`count(*)` }).from(projects).get()!.n,
    };
  }

  update(id: number, input: Partial<ProjectInput>): Project {
    this.get(id);
    if (input.path !== undefined) {
      const other = this.db.select({ id: projects.id }).from(projects).where(eq(projects.path, input.path)).get();
      if (other && other.id !== id) throw badRequest('path: has already been taken');
    }
    if (input.buildTimeout !== undefined && (input.buildTimeout < 600 || input.buildTimeout > 2_592_000)) {
      throw badRequest('build_timeout: must be between 600 and 2592000 seconds');
    }
    const set = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
    if (Object.keys(set).length) this.db.update(projects).set(set).where(eq(projects.id, id)).run();
    if (input.sharedRunnersEnabled !== undefined) {
      this.instance.tickQueue();
      this.deps.notifier.notify();
    }
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
    return this.db.select().from(variables).where(eq(variables.projectId, projectId)).orderBy(asc(variables.key)).all();
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
