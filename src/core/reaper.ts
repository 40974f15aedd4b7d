/**
 * Time limits, applied by one periodic sweep: a running job past its timeout fails with
 * `job_execution_timeout`; a running job silent for --stuck-timeout fails as stuck; a job
 * pending longer than --pending-timeout fails; expired artifacts and sign-in sessions are deleted.
 */
import { and, eq, lt, sql } from 'drizzle-orm';
import { jobs } from '../db/schema';
import type { ArtifactService } from './artifacts';
import type { CoreDeps } from './context';
import type { JobService } from './jobs';
import type { SessionService } from './people/sessions';

export interface SweepResult { timedOut: number; stuck: number; pendingExpired: number; artifactsExpired: number; sessionsExpired: number }

export class Reaper {
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private deps: CoreDeps, private jobs: JobService, private artifacts: ArtifactService, private sessions: SessionService) {}

  sweep(): SweepResult {
    const now = this.deps.clock.now();
    const { db, limits } = this.deps;
    const res: SweepResult = { timedOut: 0, stuck: 0, pendingExpired: 0, artifactsExpired: 0, sessionsExpired: 0 };
    // A small grace over the timeout: the runner enforces it itself and reports the failure.
    const overdue = db.select({ id: jobs.id }).from(jobs)
      .where(and(eq(jobs.status, 'running'), sql`${jobs.startedAt} + (coalesce(${jobs.timeout}, ${limits.defaultJobTimeout}) + 60) * 1000 < ${now}`)).all();
    for (const j of overdue) if (this.jobs.finish(j.id, 'failed', { failureReason: 'job_execution_timeout', exitCode: null })) res.timedOut++;
    const silent = db.select({ id: jobs.id }).from(jobs)
      .where(and(eq(jobs.status, 'running'), lt(jobs.updatedAt, now - limits.stuckTimeout * 1000))).all();
    for (const j of silent) if (this.jobs.finish(j.id, 'failed', { failureReason: 'stuck_or_timeout_failure', exitCode: null })) res.stuck++;
    const stale = db.select({ id: jobs.id }).from(jobs)
      .where(and(eq(jobs.status, 'pending'), lt(sql`coalesce(${jobs.queuedAt}, ${jobs.createdAt})`, now - limits.pendingTimeout * 1000))).all();
    for (const j of stale) if (this.jobs.failPending(j.id, 'stuck_or_timeout_failure')) res.pendingExpired++;
    res.artifactsExpired = this.artifacts.sweepExpired();
    res.sessionsExpired = this.sessions.sweep();
    return res;
  }

  start(everyMs = 30_000) {
    this.stop();
    this.timer = setInterval(() => {
      try { this.sweep(); } catch (e) { this.deps.log.error({ err: e }, 'reaper sweep failed'); }
    }, everyMs);
    this.timer.unref?.();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
