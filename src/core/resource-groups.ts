/**
 * `resource_group`: jobs sharing a key in a project run one at a time, across pipelines
 * (spec ci-yaml.md §8). A job whose turn comes waits in `waiting_for_resource`; the group's
 * one resource is granted with a conditional write (`holder_job_id IS NULL`) inside the
 * caller's IMMEDIATE transaction, so two processes on one data dir never both grant it; it is
 * released when the holder reaches any final status, and the next job is picked by the
 * group's process mode:
 *   unordered           any waiting job (oldest first)
 *   oldest_first        the oldest pipeline's job — if that one is not ready yet, nobody
 *   newest_first        the newest pipeline's job — likewise
 *   newest_ready_first  the newest pipeline's job among those already waiting
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import { jobs, resourceGroups, type ResourceGroup } from '../db/schema';
import type { CoreDeps } from './context';
import { badRequest, notFound } from './errors';
import { changes } from './tx';

export const PROCESS_MODES = ['unordered', 'oldest_first', 'newest_first', 'newest_ready_first'] as const;
export type ProcessMode = (typeof PROCESS_MODES)[number];

export class ResourceGroupService {
  constructor(private deps: CoreDeps) {}

  private get db() { return this.deps.db; }

  /** The group of `key` in the project, created on first use. */
  ensure(projectId: number, key: string): number {
    const now = this.deps.clock.now();
    this.db.insert(resourceGroups).values({ projectId, key, createdAt: now, updatedAt: now }).onConflictDoNothing().run();
    return this.db.select({ id: resourceGroups.id }).from(resourceGroups)
      .where(and(eq(resourceGroups.projectId, projectId), eq(resourceGroups.key, key))).get()!.id;
  }

  /**
   * Gives each free group's resource to its next job (which becomes `pending`). Answers the
   * pipelines whose jobs changed, so their status can be refreshed.
   */
  assign(groupIds: Iterable<number>): { pipelineIds: number[]; granted: number[] } {
    const pipelineIds = new Set<number>();
    const granted: number[] = [];
    for (const id of new Set(groupIds)) {
      const g = this.db.select().from(resourceGroups).where(eq(resourceGroups.id, id)).get();
      if (!g) continue;
      if (g.holderJobId !== null) {
        // A holder that ended without releasing (a crash between the two writes cannot
        // happen inside one transaction, but a deleted job can) frees the resource.
        const holder = this.db.select({ status: jobs.status }).from(jobs).where(eq(jobs.id, g.holderJobId)).get();
        if (holder && !['success', 'failed', 'canceled', 'skipped'].includes(holder.status)) continue;
        this.db.update(resourceGroups).set({ holderJobId: null }).where(eq(resourceGroups.id, id)).run();
      }
      const next = this.next(g);
      if (!next) continue;
      const res = this.db.run(sql`UPDATE resource_groups SET holder_job_id = ${next.id} WHERE id = ${id} AND holder_job_id IS NULL`);
      if (changes(res) !== 1) continue;
      const now = this.deps.clock.now();
      this.db.run(sql`UPDATE jobs SET status = 'pending', queued_at = ${now}, updated_at = ${now} WHERE id = ${next.id} AND status = 'waiting_for_resource'`);
      pipelineIds.add(next.pipelineId);
      granted.push(next.id);
    }
    return { pipelineIds: [...pipelineIds], granted };
  }

  /** The job that gets the resource next, if it is ready for it. */
  private next(g: ResourceGroup): { id: number; pipelineId: number } | null {
    const mode = g.processMode as ProcessMode;
    const ordered = mode === 'oldest_first' || mode === 'newest_first';
    const statuses = ordered ? sql`('created', 'scheduled', 'waiting_for_resource')` : sql`('waiting_for_resource')`;
    const dir = mode === 'oldest_first' || mode === 'unordered' ? sql`ASC` : sql`DESC`;
    const row = this.db.all<{ id: number; pipeline_id: number; status: string }>(sql`
      SELECT id, pipeline_id, status FROM jobs
      WHERE resource_group_id = ${g.id} AND retried = 0 AND status IN ${statuses}
      ORDER BY pipeline_id ${dir}, CASE status WHEN 'waiting_for_resource' THEN 0 ELSE 1 END, id ASC LIMIT 1`)[0];
    if (!row || row.status !== 'waiting_for_resource') return null;
    return { id: row.id, pipelineId: row.pipeline_id };
  }

  /** The holder lets go (any final status); the caller assigns the group again. */
  release(jobId: number, groupId: number) {
    this.db.update(resourceGroups).set({ holderJobId: null })
      .where(and(eq(resourceGroups.id, groupId), eq(resourceGroups.holderJobId, jobId))).run();
  }

  // ---------------------------------------------------------------- the API

  list(projectId: number): ResourceGroup[] {
    return this.db.select().from(resourceGroups).where(eq(resourceGroups.projectId, projectId)).orderBy(asc(resourceGroups.id)).all();
  }

  get(projectId: number, key: string): ResourceGroup {
    const g = this.db.select().from(resourceGroups).where(and(eq(resourceGroups.projectId, projectId), eq(resourceGroups.key, key))).get();
    if (!g) throw notFound('Resource Group');
    return g;
  }

  /** `PUT …/resource_groups/:key` `process_mode`; a freed ordering may let a job go at once. */
  update(projectId: number, key: string, processMode: string | undefined): { group: ResourceGroup; pipelineIds: number[] } {
    const g = this.get(projectId, key);
    if (processMode === undefined) return { group: g, pipelineIds: [] };
    if (!(PROCESS_MODES as readonly string[]).includes(processMode)) {
      throw badRequest(`process_mode does not have a valid value (one of ${PROCESS_MODES.join(', ')})`);
    }
    this.db.update(resourceGroups).set({ processMode, updatedAt: this.deps.clock.now() }).where(eq(resourceGroups.id, g.id)).run();
    const { pipelineIds } = this.assign([g.id]);
    return { group: this.get(projectId, key), pipelineIds };
  }

  /** Jobs that will get the resource, in the order they would (`…/upcoming_jobs`). */
  upcoming(projectId: number, key: string): number[] {
    const g = this.get(projectId, key);
    const desc = g.processMode === 'newest_first' || g.processMode === 'newest_ready_first';
    const statuses = g.processMode === 'oldest_first' || g.processMode === 'newest_first'
      ? sql`('created', 'scheduled', 'waiting_for_resource')` : sql`('waiting_for_resource')`;
    return this.db.all<{ id: number }>(sql`
      SELECT id FROM jobs WHERE resource_group_id = ${g.id} AND retried = 0 AND status IN ${statuses}
      ORDER BY pipeline_id ${desc ? sql`DESC` : sql`ASC`}, CASE status WHEN 'waiting_for_resource' THEN 0 ELSE 1 END, id ASC`).map((r) => r.id);
  }

  keyOf(id: number | null): string {
    if (id === null) return '';
    return this.db.select({ key: resourceGroups.key }).from(resourceGroups).where(eq(resourceGroups.id, id)).get()?.key ?? '';
  }
}
