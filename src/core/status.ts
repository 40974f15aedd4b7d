/**
 * Job and pipeline statuses and GitLab's composite status (lib/gitlab/ci/status/composite.rb,
 * spec ci-yaml.md §6.3): the one function that turns a set of job statuses into the status of
 * a stage, a pipeline, or — in DAG mode — the "prior status" of a job with `needs`.
 */

export const JOB_STATUSES = [
  'created', 'waiting_for_resource', 'preparing', 'pending', 'running', 'success', 'failed', 'canceled', 'skipped', 'manual', 'scheduled',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A job in one of these never changes again (except by a retry, which is a new job). */
export const FINAL_STATUSES = ['success', 'failed', 'canceled', 'skipped'] as const;
export const isFinal = (s: string) => (FINAL_STATUSES as readonly string[]).includes(s);
/** Statuses a pipeline cancel stops (GitLab's CANCELABLE_STATUSES); a manual job waits on (a job cancel stops it too). */
export const CANCELABLE = ['created', 'waiting_for_resource', 'preparing', 'pending', 'running', 'scheduled'] as const;

export interface StatusCount { status: string; allowFailure: boolean; n: number }

/**
 * GitLab's composite status over status counts, or null when there is nothing. A failed or
 * canceled job with allow_failure counts as success-with-warnings, an allowed manual job is
 * ignored; the checks run in GitLab's order, which matters. In DAG mode (the prior status of
 * a job with `needs`) any skipped or ignored need makes it `skipped`.
 */
export function composite(counts: Iterable<StatusCount>, dag = false): string | null {
  const set = new Set<string>();
  for (const c of counts) {
    if (c.n <= 0) continue;
    set.add(!c.allowFailure ? c.status
      : c.status === 'failed' || c.status === 'canceled' ? 'warning' : c.status === 'manual' ? 'ignored' : c.status);
  }
  if (set.size === 0) return null;
  const only = (...s: string[]) => [...set].every((x) => s.includes(x));
  const any = (...s: string[]) => s.some((x) => set.has(x));
  if (dag && any('skipped', 'ignored')) return 'skipped';
  if (only('skipped', 'ignored')) return 'skipped';
  if (only('success', 'skipped', 'warning', 'ignored')) return 'success';
  if (only('created', 'warning', 'ignored')) return 'created';
  if (only('preparing', 'warning', 'ignored')) return 'preparing';
  if (only('canceled', 'success', 'skipped', 'warning', 'ignored')) return 'canceled';
  if (only('pending', 'created', 'skipped', 'warning', 'ignored')) return 'pending';
  if (any('running', 'pending')) return 'running';
  if (any('waiting_for_resource')) return 'waiting_for_resource';
  if (any('manual')) return 'manual';
  if (any('scheduled')) return 'scheduled';
  if (any('preparing')) return 'preparing';
  if (any('created')) return 'running';
  return 'failed';
}

/** The pipeline (or stage) status: the composite, `skipped` for nothing at all. */
export function aggregate(counts: StatusCount[]): string {
  return composite(counts) ?? 'skipped';
}

/** Which prior statuses let a job of this `when` run (GitLab's ProcessBuildService). */
export function accepts(when: string, prior: string, dag: boolean): boolean {
  switch (when) {
    case 'on_success': case 'manual': case 'delayed': return prior === 'success' || (!dag && prior === 'skipped');
    case 'on_failure': return prior === 'failed';
    case 'always': return prior === 'success' || prior === 'failed' || prior === 'skipped';
    default: return false;
  }
}
