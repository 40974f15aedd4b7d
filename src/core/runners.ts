/**
 * Runners: registration (instance token → shared runner, project token → project runner),
 * authentication by token hash, liveness, and the admin's edits.
 */
import { and, desc, eq, gte, inArray, isNull, or, sql } from 'drizzle-orm';
import { members, projects, runnerProjects, runners, type Runner } from '../db/schema';
import type { CoreDeps } from './context';
import { badRequest, DomainError, forbidden, notFound } from './errors';
import type { InstanceService } from './instance';
import { hashToken, randomToken, safeEqual, TOKEN_PREFIX } from './tokens';

export interface RunnerInfo {
  name?: string; version?: string; revision?: string; platform?: string; architecture?: string; executor?: string;
}

export interface RegisterInput {
  token: string;
  description?: string;
  tagList?: string[];
  runUntagged?: boolean;
  locked?: boolean;
  active?: boolean;
  maximumTimeout?: number;
  info?: RunnerInfo;
  protocol: 'v1' | 'v4';
}

export interface RunnerEdit {
  description?: string;
  active?: boolean;
  tagList?: string[];
  runUntagged?: boolean;
  locked?: boolean;
  maximumTimeout?: number | null;
}

/** A runner counts as online when it asked for work within this window (GitLab: 1 hour). */
export const ONLINE_WINDOW_MS = 3600_000;
/** How long a runner looked up by token is trusted without asking the database again. */
const AUTH_CACHE_MS = 1000;
const AUTH_CACHE_MAX = 10_000;
/** Liveness writes are throttled so polling runners do not write on every request. */
const CONTACT_THROTTLE_MS = 15_000;


/** Prepared once per database: every runner call authenticates. */
const byTokenHash = (db: CoreDeps['db']) => db.select().from(runners).where(eq(runners.tokenHash, sql.placeholder('hash'))).prepare();

export class RunnerService {
  constructor(private deps: CoreDeps, private instance: InstanceService) {}

  private get db() { return this.deps.db; }

  register(input: RegisterInput): { runner: Runner; token: string } {
    if (!input.token) throw badRequest('token is missing');
    let projectId: number | undefined;
    if (!this.instance.isRegistrationToken(input.token)) {
      // Every project's token is compared, in constant time and without an index walk, so the
      // time taken says nothing about the token (registrations are rare; projects are few).
      let found: number | undefined;
      for (const p of this.db.select({ id: projects.id, token: projects.runnersToken }).from(projects).all()) {
        if (safeEqual(p.token, input.token)) found = p.id;
      }
      if (found === undefined) throw forbidden();
      projectId = found;
    }
    const { token: _registrationToken, ...settings } = input;
    return this.create({ ...settings, projectId });
  }

  /**
   * Creates a runner without a registration token (admin's `POST /user/runners`, and the
   * second half of `register`): an instance runner, or a project runner when `projectId` is set.
   */
  create(input: Omit<RegisterInput, 'token'> & { projectId?: number }): { runner: Runner; token: string } {
    const projectId = input.projectId;
    const isShared = projectId === undefined;
    if (projectId !== undefined && !this.db.select({ id: projects.id }).from(projects).where(eq(projects.id, projectId)).get()) {
      throw notFound('Project');
    }
    if (input.maximumTimeout !== undefined && input.maximumTimeout < 0) throw badRequest('maximum_timeout is invalid: must be 0 (none) or more seconds');
    const tagList = input.tagList ?? [];
    const runUntagged = input.runUntagged ?? true;
    if (tagList.length === 0 && !runUntagged) {
      throw new DomainError('not_found', 'tags_list can not be empty when runner is not allowed to pick untagged jobs');
    }
    const token = randomToken(TOKEN_PREFIX.runner);
    const now = this.deps.clock.now();
    const runner = this.db.transaction((tx) => {
      const r = tx.insert(runners).values({
        tokenHash: hashToken(token),
        description: input.description ?? '',
        tagList,
        runUntagged,
        locked: input.locked ?? false,
        active: input.active ?? true,
        isShared,
        maximumTimeout: input.maximumTimeout && input.maximumTimeout > 0 ? input.maximumTimeout : null,
        protocol: input.protocol,
        createdAt: now,
        ...infoColumns(input.info),
      }).returning().get();
      if (projectId !== undefined) tx.insert(runnerProjects).values({ runnerId: r.id, projectId }).run();
      return r;
    });
    this.instance.tickQueue();
    return { runner, token };
  }

  private tokenQuery?: ReturnType<typeof byTokenHash>;
  /**
   * Runners seen in the last AUTH_CACHE_MS, by token: every idle runner polls several times a
   * second, and hashing plus a lookup was a third of a poll's cost. Edits made here clear it;
   * an edit or removal by another process on the same data dir is seen within AUTH_CACHE_MS.
   * Held in memory only — nothing about a token is written anywhere by it.
   */
  private authCache = new Map<string, { runner: Runner; at: number }>();

  /** The runner owning this token, or null. The hash lookup is exact; the compare is constant-time. */
  authenticate(token: string | undefined): Runner | null {
    if (!token) return null;
    const now = performance.now();
    const hit = this.authCache.get(token);
    if (hit && now - hit.at < AUTH_CACHE_MS) return hit.runner;
    const hash = hashToken(token);
    const r = (this.tokenQuery ??= byTokenHash(this.db)).get({ hash });
    const runner = r && safeEqual(r.tokenHash, hash) ? r : null;
    if (runner) {
      if (this.authCache.size >= AUTH_CACHE_MAX) this.authCache.clear();
      this.authCache.set(token, { runner, at: now });
    } else if (hit) {
      this.authCache.delete(token);
    }
    return runner;
  }

  /** Runners by id, for recording a job's sign of life without a read on every trace PATCH. */
  private byIdCache = new Map<number, { runner: Runner; at: number }>();

  /**
   * The runner with this id for a liveness update (touch keeps the object current), read
   * from the database at most once per AUTH_CACHE_MS. Not for display — use get().
   */
  forHeartbeat(id: number | null): Runner | null {
    if (id === null) return null;
    const now = performance.now();
    const hit = this.byIdCache.get(id);
    if (hit && now - hit.at < AUTH_CACHE_MS) return hit.runner;
    const runner = this.db.select().from(runners).where(eq(runners.id, id)).get() ?? null;
    if (this.byIdCache.size >= AUTH_CACHE_MAX) this.byIdCache.clear();
    if (runner) this.byIdCache.set(id, { runner, at: now });
    else this.byIdCache.delete(id);
    return runner;
  }

  /** Forgets cached runners after a change to any of them. */
  private changed() {
    this.authCache.clear();
    this.byIdCache.clear();
  }

  /** Records that the runner called in (throttled) and what it says it is. */
  touch(runner: Runner, info: RunnerInfo | undefined, protocol: 'v1' | 'v4') {
    const now = this.deps.clock.now();
    const fresh = runner.contactedAt !== null && now - runner.contactedAt < CONTACT_THROTTLE_MS;
    // Every poll comes here: the common "nothing new" answer allocates nothing.
    if (fresh && runner.protocol === protocol && !infoDiffers(runner, info)) return;
    const cols = infoColumns(info);
    this.db.update(runners).set({ contactedAt: now, protocol, ...cols }).where(eq(runners.id, runner.id)).run();
    Object.assign(runner, { contactedAt: now, protocol }, cols);
  }

  remove(runnerId: number) {
    this.db.delete(runners).where(eq(runners.id, runnerId)).run();
    this.changed();
  }

  find(id: number): Runner | null {
    return this.db.select().from(runners).where(eq(runners.id, id)).get() ?? null;
  }

  get(id: number): Runner {
    const r = this.find(id);
    if (!r) throw notFound('Runner');
    return r;
  }

  /** Newest first: every runner, a project's, or (maintainerId) those of the projects a user maintains. */
  list(opts: { projectId?: number; maintainerId?: number; offset: number; limit: number }): { rows: Runner[]; total: number } {
    const now = this.deps.clock.now();
    const where = opts.projectId !== undefined
      ? inArray(runners.id, this.db.select({ id: runnerProjects.runnerId }).from(runnerProjects).where(eq(runnerProjects.projectId, opts.projectId)))
      : opts.maintainerId !== undefined
        ? inArray(runners.id, this.db.select({ id: runnerProjects.runnerId }).from(runnerProjects)
          .innerJoin(members, eq(members.projectId, runnerProjects.projectId))
          .where(and(eq(members.userId, opts.maintainerId), gte(members.accessLevel, 40), or(isNull(members.expiresAt), sql`${members.expiresAt} > ${now}`))))
        : undefined;
    const rows = this.db.select().from(runners).where(where).orderBy(desc(runners.id)).limit(opts.limit).offset(opts.offset).all();
    const total = this.db.select({ n: sql<number>`count(*)` }).from(runners).where(where).get()!.n;
    return { rows, total };
  }

  projectIds(runnerId: number): number[] {
    return this.db.select({ id: runnerProjects.projectId }).from(runnerProjects).where(eq(runnerProjects.runnerId, runnerId)).all().map((r) => r.id);
  }

  edit(id: number, edit: RunnerEdit): Runner {
    const current = this.get(id);
    const tagList = edit.tagList ?? current.tagList;
    const runUntagged = edit.runUntagged ?? current.runUntagged;
    if (tagList.length === 0 && !runUntagged) throw badRequest('tag_list can not be empty when runner is not allowed to pick untagged jobs');
    const set = Object.fromEntries(Object.entries({
      description: edit.description, active: edit.active, tagList: edit.tagList, runUntagged: edit.runUntagged,
      locked: edit.locked, maximumTimeout: edit.maximumTimeout,
    }).filter(([, v]) => v !== undefined));
    if (Object.keys(set).length) this.db.update(runners).set(set).where(eq(runners.id, id)).run();
    this.changed();
    this.instance.tickQueue();
    this.deps.notifier.notify();
    return this.get(id);
  }

  /** Enables a project runner for another project; a locked runner stays with its projects. */
  enableForProject(runnerId: number, projectId: number) {
    const r = this.get(runnerId);
    if (r.isShared) throw badRequest('runner_id: an instance runner serves every project already');
    const linked = this.projectIds(runnerId);
    if (linked.includes(projectId)) throw new DomainError('conflict', 'Runner has already been taken');
    if (r.locked) throw forbidden('403 Forbidden  - Runner is locked');
    this.db.insert(runnerProjects).values({ runnerId, projectId }).run();
    this.instance.tickQueue();
    this.deps.notifier.notify();
  }

  disableForProject(runnerId: number, projectId: number) {
    const r = this.get(runnerId);
    const linked = this.projectIds(runnerId);
    if (!linked.includes(projectId)) throw notFound('Runner');
    if (linked.length === 1 && !r.isShared) throw forbidden('403 Forbidden  - Only one project associated with the runner. Please remove the runner instead');
    this.db.delete(runnerProjects).where(and(eq(runnerProjects.runnerId, runnerId), eq(runnerProjects.projectId, projectId))).run();
  }

  isOnline(r: Runner): boolean {
    return r.contactedAt !== null && this.deps.clock.now() - r.contactedAt < ONLINE_WINDOW_MS;
  }
}

const INFO_KEYS = ['name', 'version', 'revision', 'platform', 'architecture', 'executor'] as const;

/** Does the runner say something about itself that differs from what is stored? */
function infoDiffers(runner: Runner, info: RunnerInfo | undefined): boolean {
  if (!info) return false;
  for (const k of INFO_KEYS) {
    const v = info[k];
    if (typeof v === 'string' && runner[k] !== (v.length > 255 ? v.slice(0, 255) : v)) return true;
  }
  return false;
}

function infoColumns(info: RunnerInfo | undefined) {
  if (!info) return {};
  const pick = (v: unknown) => (typeof v === 'string' ? v.slice(0, 255) : undefined);
  return Object.fromEntries(Object.entries({
    name: pick(info.name), version: pick(info.version), revision: pick(info.revision),
    platform: pick(info.platform), architecture: pick(info.architecture), executor: pick(info.executor),
  }).filter(([, v]) => v !== undefined)) as Partial<Pick<Runner, 'name' | 'version' | 'revision' | 'platform' | 'architecture' | 'executor'>>;
}
