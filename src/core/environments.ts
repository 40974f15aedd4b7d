/**
 * Environments and deployments (spec ci-yaml.md §8 `environment`, forges-and-rest.md §C.9).
 * A job with `environment` makes sure its environment exists when its turn comes; with
 * `action: start` (the default) it also gets a deployment, whose status follows the job
 * (created → running → success/failed/canceled; skipped; blocked while a manual job waits).
 * A successful start makes the environment available at its `url`; a successful `stop` job
 * stops it. `prepare`, `verify` and `access` touch no deployment.
 */
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { deployments, environments, type Deployment, type Environment, type Job } from '../db/schema';
import type { EnvironmentSpec } from '../db/job-spec';
import type { CoreDeps } from './context';
import { badRequest, notFound } from './errors';
import { environmentSlug } from './predefined-variables';

/** GitLab's guess of a tier from the name, when `deployment_tier` is not given. */
export function guessTier(name: string): string {
  if (/(dev|review|trunk)/i.test(name)) return 'development';
  if (/(test|tst|int|ac(ce|)pt|qa|qc|control|quality)/i.test(name)) return 'testing';
  if (/(st(a|)g|mod(e|)l|pre|demo|non)/i.test(name)) return 'staging';
  if (/(pr(o|)d|live)/i.test(name)) return 'production';
  return 'other';
}

/** Job status → deployment status (SQL text: sync() runs on every job status change, compiled once by bun:sqlite). */
const DEPLOYMENT_SQL = `CASE j.status WHEN 'running' THEN 'running' WHEN 'success' THEN 'success' WHEN 'failed' THEN 'failed'
  WHEN 'canceled' THEN 'canceled' WHEN 'skipped' THEN 'skipped' WHEN 'manual' THEN 'blocked' ELSE 'created' END`;

export const ENVIRONMENT_STATES = ['available', 'stopping', 'stopped'] as const;

export class EnvironmentService {
  constructor(private deps: CoreDeps) {}

  private get db() { return this.deps.db; }

  private ensure(projectId: number, env: EnvironmentSpec): Environment {
    const now = this.deps.clock.now();
    this.db.insert(environments).values({
      // no url yet: a successful deployment sets it (GitLab's environment starts without one)
      projectId, name: env.name, slug: environmentSlug(env.name), externalUrl: null,
      tier: env.deployment_tier ?? guessTier(env.name), createdAt: now, updatedAt: now,
    }).onConflictDoNothing().run();
    return this.db.select().from(environments).where(and(eq(environments.projectId, projectId), eq(environments.name, env.name))).get()!;
  }

  /** Jobs whose turn came (processing decided them): their environments and deployments. */
  jobsDecided(decided: Job[], pipeline: { ref: string; tag: boolean; sha: string; userId: number | null }) {
    for (const job of decided) {
      const env = job.spec.environment;
      if (!env || job.kind !== 'build') continue;
      const e = this.ensure(job.projectId, env);
      if (env.action !== 'start') continue;
      if (this.db.select({ id: deployments.id }).from(deployments).where(eq(deployments.jobId, job.id)).get()) continue;
      const now = this.deps.clock.now();
      const iid = (this.db.select({ n: sql<number>`coalesce(max(${deployments.iid}), 0)` }).from(deployments)
        .where(eq(deployments.projectId, job.projectId)).get()?.n ?? 0) + 1;
      this.db.insert(deployments).values({
        iid, projectId: job.projectId, environmentId: e.id, jobId: job.id, ref: pipeline.ref, tag: pipeline.tag, sha: pipeline.sha,
        status: 'created', userId: pipeline.userId, createdAt: now, updatedAt: now,
      }).run();
    }
  }

  /** Brings the deployments of a pipeline's jobs in line with the jobs (set-based, one statement). */
  sync(pipelineId: number) {
    const now = this.deps.clock.now();
    this.db.$client.query<unknown, { now: number; id: number }>(`UPDATE deployments SET
        status = (SELECT ${DEPLOYMENT_SQL} FROM jobs j WHERE j.id = deployments.job_id),
        updated_at = $now,
        finished_at = CASE WHEN (SELECT j.status FROM jobs j WHERE j.id = deployments.job_id) IN ('success', 'failed', 'canceled', 'skipped') THEN $now ELSE NULL END
      WHERE job_id IN (SELECT id FROM jobs WHERE pipeline_id = $id)
        AND status NOT IN ('success', 'failed', 'canceled', 'skipped')
        AND status <> (SELECT ${DEPLOYMENT_SQL} FROM jobs j WHERE j.id = deployments.job_id)`).run({ now, id: pipelineId });
  }

  /** A job with an environment ended: a successful start makes it available (at its url, expanded by the caller), a successful stop stops it. */
  jobEnded(job: Job, url?: string) {
    const env = job.spec.environment;
    if (!env || job.status !== 'success') return;
    const e = this.ensure(job.projectId, env);
    const now = this.deps.clock.now();
    if (env.action === 'start') {
      this.db.update(environments).set({ state: 'available', externalUrl: url ?? e.externalUrl, updatedAt: now }).where(eq(environments.id, e.id)).run();
    } else if (env.action === 'stop') {
      this.db.update(environments).set({ state: 'stopped', updatedAt: now }).where(eq(environments.id, e.id)).run();
    }
  }

  // ---------------------------------------------------------------- the API

  list(projectId: number, opts: { name?: string; search?: string; states?: string; offset: number; limit: number }): { rows: Environment[]; total: number } {
    if (opts.states !== undefined && !(ENVIRONMENT_STATES as readonly string[]).includes(opts.states)) {
      throw badRequest(`states does not have a valid value (one of ${ENVIRONMENT_STATES.join(', ')})`);
    }
    if (opts.name !== undefined && opts.search !== undefined) throw badRequest('name, search are mutually exclusive');
    const where = and(
      eq(environments.projectId, projectId),
      opts.name !== undefined ? eq(environments.name, opts.name) : undefined,
      opts.search !== undefined ? sql`instr(lower(${environments.name}), lower(${opts.search})) > 0` : undefined,
      opts.states !== undefined ? eq(environments.state, opts.states) : undefined,
    );
    return {
      rows: this.db.select().from(environments).where(where).orderBy(asc(environments.id)).limit(opts.limit).offset(opts.offset).all(),
      total: this.db.select({ n: sql<number>`count(*)` }).from(environments).where(where).get()!.n,
    };
  }

  get(projectId: number, id: number): Environment {
    const e = Number.isSafeInteger(id) ? this.db.select().from(environments).where(and(eq(environments.projectId, projectId), eq(environments.id, id))).get() : undefined;
    if (!e) throw notFound('Environment');
    return e;
  }

  byId(id: number): Environment | null {
    return this.db.select().from(environments).where(eq(environments.id, id)).get() ?? null;
  }

  /** The newest successful deployment of an environment (GitLab's `last_deployment`). */
  lastDeployment(environmentId: number): Deployment | null {
    return this.db.select().from(deployments).where(and(eq(deployments.environmentId, environmentId), eq(deployments.status, 'success')))
      .orderBy(desc(deployments.id)).limit(1).get() ?? null;
  }

  deployments(projectId: number, opts: { environment?: string; status?: string; orderBy?: string; sort?: string; offset: number; limit: number }): { rows: Deployment[]; total: number } {
    const STATUSES = ['created', 'running', 'success', 'failed', 'canceled', 'skipped', 'blocked'];
    if (opts.status !== undefined && !STATUSES.includes(opts.status)) throw badRequest(`status does not have a valid value (one of ${STATUSES.join(', ')})`);
    const ORDER: Record<string, unknown> = {
      id: deployments.id, iid: deployments.iid, created_at: deployments.createdAt, updated_at: deployments.updatedAt,
      finished_at: deployments.finishedAt, ref: deployments.ref,
    };
    const orderBy = opts.orderBy ?? 'id';
    if (!(orderBy in ORDER)) throw badRequest(`order_by does not have a valid value (one of ${Object.keys(ORDER).join(', ')})`);
    const sort = opts.sort ?? 'asc';
    if (sort !== 'asc' && sort !== 'desc') throw badRequest('sort does not have a valid value (asc or desc)');
    const envIds = opts.environment !== undefined
      ? this.db.select({ id: environments.id }).from(environments).where(and(eq(environments.projectId, projectId), eq(environments.name, opts.environment))).all().map((e) => e.id)
      : undefined;
    const where = and(
      eq(deployments.projectId, projectId),
      envIds !== undefined ? (envIds.length ? inArray(deployments.environmentId, envIds) : sql`0`) : undefined,
      opts.status !== undefined ? eq(deployments.status, opts.status) : undefined,
    );
    const col = ORDER[orderBy] as typeof deployments.id;
    return {
      rows: this.db.select().from(deployments).where(where).orderBy(sort === 'desc' ? desc(col) : asc(col), asc(deployments.id))
        .limit(opts.limit).offset(opts.offset).all(),
      total: this.db.select({ n: sql<number>`count(*)` }).from(deployments).where(where).get()!.n,
    };
  }

  deploymentOf(jobId: number): Deployment | null {
    return this.db.select().from(deployments).where(eq(deployments.jobId, jobId)).get() ?? null;
  }

  /** CI_ENVIRONMENT_* of a job (id and slug from the stored environment when it exists). */
  environmentOf(job: Job): Environment | null {
    const env = job.spec.environment;
    if (!env) return null;
    return this.db.select().from(environments).where(and(eq(environments.projectId, job.projectId), eq(environments.name, env.name))).get() ?? null;
  }
}
