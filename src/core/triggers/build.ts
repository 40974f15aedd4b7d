/**
 * The outbox handlers that turn queued inbound work into pipelines — a recorded push
 * (`webhook` rows) and a claimed schedule slot or play (`schedule` rows) — through the one
 * creation path (core.creator). The row is marked done inside the transaction that stores
 * the pipeline, so a crash in between cannot build it twice. A repository that cannot be
 * reached is retried with the outbox's backoff; any other reason (no .gitlab-ci.yml, no
 * jobs for this ref, a configuration error, an unknown ref) ends the row `skipped` with
 * that reason, visible in the deliveries list and logged.
 */
import { eq } from 'drizzle-orm';
import { pipelineSchedules, pipelines, scheduleVariables, type OutboxRow } from '../../db/schema';
import type { CoreDeps } from '../context';
import { DomainError } from '../errors';
import { CiSourceError } from '../git';
import type { Outbox, Outcome } from '../outbox';
import type { CreatePipelineInput, PipelineCreator } from '../pipeline-creation';
import type { ProjectService } from '../projects';
import type { PushEvent } from './push-event';

const FULL_SHA = /^[0-9a-f]{40}$/;

export class InboundBuilder {
  constructor(private deps: Omit<CoreDeps, 'events'>, private projects: ProjectService, private creator: PipelineCreator, private outbox: Outbox) {}

  register() {
    this.outbox.on('webhook', (row) => this.push(row));
    this.outbox.on('schedule', (row) => this.schedule(row));
  }

  private async push(row: OutboxRow): Promise<Outcome> {
    const e = row.payload as PushEvent;
    return this.create(row, {
      ref: e.refName, sha: e.checkoutSha ?? undefined, beforeSha: FULL_SHA.test(e.before) ? e.before : undefined,
      source: 'push', commit: e.commit ?? undefined,
    });
  }

  private async schedule(row: OutboxRow): Promise<Outcome> {
    const { scheduleId } = row.payload as { scheduleId: number };
    const s = this.deps.db.select().from(pipelineSchedules).where(eq(pipelineSchedules.id, scheduleId)).get();
    if (!s) return { state: 'skipped', reason: `schedule ${scheduleId} was deleted` };
    const vars = this.deps.db.select().from(scheduleVariables).where(eq(scheduleVariables.scheduleId, s.id)).all();
    return this.create(row, {
      ref: s.ref, source: 'schedule', variables: vars.map((v) => ({ key: v.key, value: v.value })), scheduleDescription: s.description,
    }, (pipelineId) => {
      this.deps.db.update(pipelineSchedules).set({ lastPipelineId: pipelineId }).where(eq(pipelineSchedules.id, s.id)).run();
      this.deps.db.update(pipelines).set({ pipelineScheduleId: s.id }).where(eq(pipelines.id, pipelineId)).run();
    });
  }

  private async create(row: OutboxRow, input: CreatePipelineInput, alsoInTx?: (pipelineId: number) => void): Promise<Outcome> {
    const project = this.projects.find(row.projectId);
    if (!project) return { state: 'skipped', reason: 'the project was deleted' };
    try {
      const pipeline = await this.creator.create(project, {
        ...input,
        inTransaction: (p) => {
          alsoInTx?.(p.id);
          this.outbox.finish(row, { state: 'done', pipelineId: p.id, reason: `pipeline ${p.id} created` });
        },
      });
      this.deps.log.info({ projectId: project.id, delivery: row.id, kind: row.kind, pipelineId: pipeline.id, ref: input.ref }, 'pipeline created in the background');
      return { state: 'done', pipelineId: pipeline.id, reason: `pipeline ${pipeline.id} created` };
    } catch (e) {
      const reason = e instanceof CiSourceError ? e.base.join('; ') : e instanceof DomainError ? e.message : null;
      if (reason === null) throw e;
      // the repository may be back soon (network, the forge restarting): try again later
      const temporary = (e instanceof CiSourceError && /^Repository not reachable|git timed out/.test(reason)) || (e instanceof DomainError && e.code === 'unavailable');
      this.deps.log.info({ projectId: project.id, delivery: row.id, kind: row.kind, ref: input.ref, reason }, temporary ? 'no pipeline yet, will retry' : 'no pipeline');
      return temporary ? { state: 'retry', reason } : { state: 'skipped', reason: `no pipeline: ${reason}` };
    }
  }
}
