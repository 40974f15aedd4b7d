/** Times, durations and statuses as the pages show them (server and browser alike). */

/** `1h 02m 03s`, `2m 05s`, `7s`; null → '—'. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h) return `${h}h ${String(m).padStart(2, '0')}m ${String(r).padStart(2, '0')}s`;
  if (m) return `${m}m ${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}

/** `mm:ss` (or `h:mm:ss`) for a section's length. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

const UNITS: [number, string][] = [[365 * 86400, 'year'], [30 * 86400, 'month'], [7 * 86400, 'week'], [86400, 'day'], [3600, 'hour'], [60, 'minute']];

/** `just now`, `5 minutes ago`, `2 days ago`. */
export function timeAgo(iso: string | null | undefined, now: number): string {
  if (!iso) return '—';
  const secs = Math.max(0, (now - Date.parse(iso)) / 1000);
  for (const [size, unit] of UNITS) {
    const n = Math.floor(secs / size);
    if (n >= 1) return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
  }
  return 'just now';
}

/** GitLab's words for statuses (`success` shows as "passed"). */
export const STATUS_LABEL: Record<string, string> = {
  created: 'created', pending: 'pending', running: 'running', success: 'passed', failed: 'failed',
  canceled: 'canceled', skipped: 'skipped', manual: 'manual', scheduled: 'scheduled', preparing: 'preparing',
  waiting_for_resource: 'waiting', warning: 'passed with warnings',
};

/** A symbol per status, so the status reads without colour too. */
export const STATUS_ICON: Record<string, string> = {
  created: '○', pending: '◔', running: '◑', success: '✓', failed: '✕', canceled: '⊘', skipped: '»', manual: '⚙',
  scheduled: '◷', preparing: '◔', waiting_for_resource: '◔', warning: '!',
};

export const FINAL = new Set(['success', 'failed', 'canceled', 'skipped']);

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Failure reasons as sentences (GitLab's wording where it has one). */
export const FAILURE_REASON: Record<string, string> = {
  script_failure: 'the script failed', runner_system_failure: 'the runner failed', job_execution_timeout: 'the job ran past its timeout',
  stuck_or_timeout_failure: 'the job got stuck or timed out (its runner stopped answering)', unknown_failure: 'an unknown failure',
  missing_dependency_failure: 'the artifacts of a job it needs are missing', api_failure: 'an API failure',
  trace_size_exceeded: 'the log grew past the size limit', scheduler_failure: 'no runner picked it up in time',
  data_integrity_failure: 'a data integrity failure', archived_failure: 'the job was archived', unmet_prerequisites: 'unmet prerequisites',
  runner_unsupported: 'the runner does not support this job', stale_schedule: 'a stale schedule', image_pull_failure: 'the image could not be pulled',
  runner_configuration_error: 'a configuration error (the job or the runner)', runner_external_dependency_failure: 'the runner could not reach an external dependency',
  runner_interrupted: 'the runner was interrupted before the job could finish',
  environment_creation_failure: 'it would create an environment with an invalid parameter (its name as expanded)',
};
