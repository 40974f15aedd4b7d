/**
 * Pipeline schedules (GitLab's `/projects/:id/pipeline_schedules`). Every schedule keeps
 * its next slot, `next_run_at`. A tick (every few seconds, and once at start-up) takes the
 * active schedules whose slot has come and, for each, in ONE transaction:
 *
 *   UPDATE … SET next_run_at = <first slot after now> WHERE id = ? AND next_run_at = <seen>
 *
 * and, when that changed the row, queues the run in the outbox. The change count decides
 * which process runs a slot, so several Baton processes on one data dir run it once; and
 * since the new slot is the first one after NOW, slots missed while Baton was down are
 * run once, not once each. The pipeline itself (git, compile) is created by the outbox
 * worker (triggers/build.ts), with `source: schedule` and the schedule's variables.
 */
import { and, asc, desc, eq, lte, sql } from 'drizzle-orm';
import { pipelineSchedules, pipelines, scheduleVariables, type Pipeline, type PipelineSchedule, type ScheduleVariable } from '../../db/schema';
import type { CoreDeps } from '../context';
import { badRequest, notFound } from '../errors';
import { isValidRefName } from '../git';
import type { Outbox } from '../outbox';
import { atomically, changes } from '../tx';
import { CronSchedule } from './cron';

export interface ScheduleInput {
  description?: string;
  ref?: string;
  cron?: string;
  cronTimezone?: string;
  active?: boolean;
}

const VARIABLE_KEY = /^[A-Za-z0-9_]{1,255}$/;

export class ScheduleService {
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private deps: Omit<CoreDeps, 'events'>, private outbox: Outbox) {}

  private get db() { return this.deps.db; }

  list(projectId: number, scope?: 'active' | 'inactive'): PipelineSchedule[] {
    return this.db.select().from(pipelineSchedules)
      .where(and(eq(pipelineSchedules.projectId, projectId), scope ? eq(pipelineSchedules.active, scope === 'active') : undefined))
      .orderBy(asc(pipelineSchedules.id)).all();
  }

  get(projectId: number, rawId: string): PipelineSchedule {
    const id = /^\d{1,15}$/.test(rawId) ? Number(rawId) : NaN;
    const s = Number.isNaN(id) ? undefined : this.db.select().from(pipelineSchedules).where(and(eq(pipelineSchedules.id, id), eq(pipelineSchedules.projectId, projectId))).get();
    if (!s) throw notFound('Pipeline Schedule');
    return s;
  }

  lastPipeline(s: PipelineSchedule): Pipeline | null {
    return s.lastPipelineId === null ? null : this.db.select().from(pipelines).where(eq(pipelines.id, s.lastPipelineId)).get() ?? null;
  }

  /** The pipelines a schedule started (GitLab's `…/pipeline_schedules/:id/pipelines`), oldest first unless `desc`. */
  pipelines(s: PipelineSchedule, opts: { status?: string; desc?: boolean; offset: number; limit: number }): { rows: Pipeline[]; total: number } {
    const where = and(eq(pipelines.pipelineScheduleId, s.id), opts.status ? eq(pipelines.status, opts.status) : undefined);
    return {
      rows: this.db.select().from(pipelines).where(where).orderBy(opts.desc ? desc(pipelines.id) : asc(pipelines.id)).limit(opts.limit).offset(opts.offset).all(),
      total: this.db.select({ n: sql<number>`count(*)` }).from(pipelines).where(where).get()!.n,
    };
  }

  variables(scheduleId: number): ScheduleVariable[] {
    return this.db.select().from(scheduleVariables).where(eq(scheduleVariables.scheduleId, scheduleId)).orderBy(asc(scheduleVariables.key)).all();
  }

  create(projectId: number, input: ScheduleInput): PipelineSchedule {
    if (input.description === undefined) throw badRequest('description is missing');
    if (input.ref === undefined) throw badRequest('ref is missing');
    if (input.cron === undefined) throw badRequest('cron is missing');
    const ref = checkRef(input.ref);
    const tz = input.cronTimezone ?? 'UTC';
    const cron = new CronSchedule(input.cron, tz);
    const now = this.deps.clock.now();
    return this.db.insert(pipelineSchedules).values({
      projectId, description: input.description, ref, cron: input.cron.trim(), cronTimezone: tz, active: input.active ?? true,
      nextRunAt: cron.next(now)!, createdAt: now, updatedAt: now,
    }).returning().get();
  }

  update(projectId: number, rawId: string, input: ScheduleInput): PipelineSchedule {
    const s = this.get(projectId, rawId);
    const cronText = input.cron ?? s.cron;
    const tz = input.cronTimezone ?? s.cronTimezone;
    const active = input.active ?? s.active;
    const cron = new CronSchedule(cronText, tz);
    const now = this.deps.clock.now();
    // A changed timetable, or a schedule switched back on, starts from now: no catching up.
    const retime = cronText !== s.cron || tz !== s.cronTimezone || (active && !s.active);
    this.db.update(pipelineSchedules).set({
      description: input.description ?? s.description, ref: input.ref === undefined ? s.ref : checkRef(input.ref),
      cron: cronText.trim(), cronTimezone: tz, active, updatedAt: now, ...(retime ? { nextRunAt: cron.next(now)! } : {}),
    }).where(eq(pipelineSchedules.id, s.id)).run();
    return this.get(projectId, rawId);
  }

  delete(projectId: number, rawId: string) {
    const s = this.get(projectId, rawId);
    this.db.delete(pipelineSchedules).where(eq(pipelineSchedules.id, s.id)).run();
  }

  /** Runs the schedule now, in the background (GitLab answers 201 without a pipeline). */
  play(projectId: number, rawId: string) {
    const s = this.get(projectId, rawId);
    this.outbox.enqueue({ projectId, kind: 'schedule', event: 'play', payload: { scheduleId: s.id } });
  }

  // ---- variables

  variable(projectId: number, rawId: string, key: string): ScheduleVariable {
    const s = this.get(projectId, rawId);
    const v = this.db.select().from(scheduleVariables).where(and(eq(scheduleVariables.scheduleId, s.id), eq(scheduleVariables.key, key))).get();
    if (!v) throw notFound('Pipeline Schedule Variable');
    return v;
  }

  createVariable(projectId: number, rawId: string, input: { key?: string; value?: string; variableType?: string }): ScheduleVariable {
    const s = this.get(projectId, rawId);
    if (input.key === undefined) throw badRequest('key is missing');
    if (input.value === undefined) throw badRequest('value is missing');
    if (!VARIABLE_KEY.test(input.key)) throw badRequest('key is invalid: can contain only letters, digits and "_" (at most 255 characters)');
    const type = checkType(input.variableType);
    if (this.db.select().from(scheduleVariables).where(and(eq(scheduleVariables.scheduleId, s.id), eq(scheduleVariables.key, input.key))).get()) {
      throw badRequest(`key: (${input.key}) has already been taken`);
    }
    return this.db.insert(scheduleVariables).values({ scheduleId: s.id, key: input.key, value: input.value, variableType: type }).returning().get();
  }

  updateVariable(projectId: number, rawId: string, key: string, input: { value?: string; variableType?: string }): ScheduleVariable {
    const v = this.variable(projectId, rawId, key);
    this.db.update(scheduleVariables).set({ value: input.value ?? v.value, variableType: input.variableType === undefined ? v.variableType : checkType(input.variableType) })
      .where(and(eq(scheduleVariables.scheduleId, v.scheduleId), eq(scheduleVariables.key, key))).run();
    return this.variable(projectId, rawId, key);
  }

  deleteVariable(projectId: number, rawId: string, key: string): ScheduleVariable {
    const v = this.variable(projectId, rawId, key);
    this.db.delete(scheduleVariables).where(and(eq(scheduleVariables.scheduleId, v.scheduleId), eq(scheduleVariables.key, key))).run();
    return v;
  }

  // ---- the clock

  /** Claims every due slot (see the file comment); returns how many runs this process queued. */
  tick(): number {
    const now = this.deps.clock.now();
    const due = this.db.select().from(pipelineSchedules)
      .where(and(eq(pipelineSchedules.active, true), lte(pipelineSchedules.nextRunAt, now))).all();
    let queued = 0;
    for (const s of due) {
      let next: number | null;
      try {
        next = new CronSchedule(s.cron, s.cronTimezone).next(now);
      } catch (e) {
        // stored before a rule tightened, or a time zone the system lost: park it, say why
        this.deps.log.warn({ scheduleId: s.id, err: (e as Error).message }, 'schedule cannot be evaluated; deactivated');
        this.db.update(pipelineSchedules).set({ active: false }).where(eq(pipelineSchedules.id, s.id)).run();
        continue;
      }
      const won = atomically(this.db, () => {
        const res = this.db.update(pipelineSchedules).set({ nextRunAt: next ?? sql`${pipelineSchedules.nextRunAt}`, active: next !== null, updatedAt: now })
          .where(and(eq(pipelineSchedules.id, s.id), eq(pipelineSchedules.nextRunAt, s.nextRunAt), eq(pipelineSchedules.active, true))).run();
        if (changes(res) !== 1) return false;
        this.outbox.enqueue({ projectId: s.projectId, kind: 'schedule', event: 'cron', payload: { scheduleId: s.id, slot: s.nextRunAt } });
        return true;
      });
      if (won) {
        queued++;
        this.deps.log.info({ scheduleId: s.id, projectId: s.projectId, slot: new Date(s.nextRunAt).toISOString() }, 'schedule due: run queued');
      }
    }
    return queued;
  }

  start(everyMs = 10_000) {
    this.stop();
    const run = () => { try { this.tick(); } catch (e) { this.deps.log.error({ err: e }, 'schedule tick failed'); } };
    this.timer = setInterval(run, everyMs);
    this.timer.unref?.();
    run(); // runs missed while Baton was down: once, now
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

function checkRef(ref: string): string {
  const short = ref.replace(/^refs\/(heads|tags)\//, '');
  if (!isValidRefName(short)) throw badRequest(`ref is invalid: "${ref.slice(0, 100)}" is not a valid branch or tag name`);
  return short;
}

function checkType(t: string | undefined): string {
  if (t === undefined || t === 'env_var') return 'env_var';
  if (t === 'file') throw badRequest('variable_type does not have a valid value: file variables are not supported by Baton (only env_var)');
  throw badRequest(`variable_type does not have a valid value: "${t}" (env_var)`);
}
