/**
 * The lifecycle listener that fills the outbox (core/events.ts): a pipeline status change
 * becomes a commit status for the project's forge (coalesced per pipeline: only the latest
 * state is sent) and a "Pipeline Hook" per project hook that wants pipeline events; a job
 * status change becomes a "Job Hook" per hook that wants job events. Called inside the
 * transaction of the change; writes rows only. A project with no forge and no hooks costs
 * two indexed reads per change.
 */
import { and, asc, eq, lt, sql } from 'drizzle-orm';
import { jobs, pipelines, projectHooks, projects, runners, type Job, type Pipeline, type Runner } from '../../db/schema';
import type { CoreDeps } from '../context';
import type { LifecycleEvents } from '../events';
import type { StatusPayload } from './commit-status';
import { jobHook, pipelineHook } from './hook-payloads';
import type { Outbox } from './index';

const queries = (db: CoreDeps['db']) => {
  const id = sql.placeholder('id');
  return {
    project: db.select().from(projects).where(eq(projects.id, id)).prepare(),
    hooks: db.select({ id: projectHooks.id, pipelineEvents: projectHooks.pipelineEvents, jobEvents: projectHooks.jobEvents })
      .from(projectHooks).where(eq(projectHooks.projectId, id)).prepare(),
  };
};

export class DeliveryEvents implements LifecycleEvents {
  private q?: ReturnType<typeof queries>;

  constructor(private deps: Omit<CoreDeps, 'events'>, private outbox: Outbox) {}

  private get queries() { return (this.q ??= queries(this.deps.db)); }

  pipelineStatus(p: Pipeline, _from: string, to: string): void {
    const project = this.queries.project.get({ id: p.projectId });
    if (!project) return;
    if (project.forgeKind) {
      const payload: StatusPayload = { pipelineId: p.id, status: to, sha: p.sha, ref: p.ref };
      this.outbox.enqueue({ projectId: p.projectId, kind: 'commit_status', event: to, pipelineId: p.id, coalesceKey: `status:${p.id}`, payload });
    }
    const hooks = this.queries.hooks.all({ id: p.projectId }).filter((h) => h.pipelineEvents);
    if (hooks.length === 0) return;
    const all = this.deps.db.select().from(jobs).where(and(eq(jobs.pipelineId, p.id), eq(jobs.retried, false))).orderBy(asc(jobs.stageIdx), asc(jobs.id)).all();
    const body = pipelineHook(this.deps.server.url, project, p, all, this.runnerCache());
    for (const h of hooks) this.outbox.enqueue({ projectId: p.projectId, kind: 'hook', hookId: h.id, event: 'Pipeline Hook', pipelineId: p.id, payload: body });
  }

  jobStatus(j: Job, _from: string, _to: string): void {
    const hooks = this.queries.hooks.all({ id: j.projectId }).filter((h) => h.jobEvents);
    if (hooks.length === 0) return;
    const project = this.queries.project.get({ id: j.projectId });
    const pipeline = this.deps.db.select().from(pipelines).where(eq(pipelines.id, j.pipelineId)).get();
    if (!project || !pipeline) return;
    const retries = this.deps.db.select({ n: sql<number>`count(*)` }).from(jobs)
      .where(and(eq(jobs.pipelineId, j.pipelineId), eq(jobs.name, j.name), lt(jobs.id, j.id))).get()?.n ?? 0;
    const body = jobHook(this.deps.server.url, project, pipeline, j, this.runnerCache()(j), retries);
    for (const h of hooks) this.outbox.enqueue({ projectId: j.projectId, kind: 'hook', hookId: h.id, event: 'Job Hook', pipelineId: j.pipelineId, payload: body });
  }

  private runnerCache(): (j: Job) => Runner | null {
    const seen = new Map<number, Runner | null>();
    return (j) => {
      if (j.runnerId === null) return null;
      if (!seen.has(j.runnerId)) seen.set(j.runnerId, this.deps.db.select().from(runners).where(eq(runners.id, j.runnerId)).get() ?? null);
      return seen.get(j.runnerId)!;
    };
  }
}
