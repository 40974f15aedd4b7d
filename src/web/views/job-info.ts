/** A job's details beside its log: rendered by the server, re-rendered on every status event. */
import type { JobView } from './models';
import { html, type Html } from '../html';
import { bytes, duration, FAILURE_REASON, timeAgo } from './format';
import { pathOf, statusBadge } from './status';

export function jobDetails(job: JobView, now: number): Html {
  const page = pathOf(job.web_url);
  const art = job.artifacts_file;
  return html`<dl class="facts">
<dt>Status</dt><dd data-job-status>${statusBadge(job.status)}${job.allow_failure ? html` <span class="muted">(allowed to fail)</span>` : ''}</dd>
${job.pending_reason ? html`<dt>Waiting</dt><dd class="pending-reason">${job.pending_reason}</dd>` : ''}
${job.failure_reason ? html`<dt>Failure</dt><dd class="failure-reason">${FAILURE_REASON[job.failure_reason] ?? job.failure_reason} <code>${job.failure_reason}</code></dd>` : ''}
<dt>Duration</dt><dd${job.status === 'running' && job.started_at ? html` data-started="${job.started_at}"` : ''}>${duration(job.duration)}</dd>
<dt>Queued</dt><dd>${duration(job.queued_duration)}</dd>
<dt>Started</dt><dd>${job.started_at ? html`<time datetime="${job.started_at}" data-ago>${timeAgo(job.started_at, now)}</time>` : '—'}</dd>
${job.finished_at ? html`<dt>Finished</dt><dd><time datetime="${job.finished_at}" data-ago>${timeAgo(job.finished_at, now)}</time></dd>` : ''}
<dt>Runner</dt><dd class="runner">${job.runner ? html`#${job.runner.id} ${job.runner.description}` : '—'}</dd>
<dt>Artifacts</dt><dd class="artifacts">${art
    ? html`<a href="${page}/artifacts/download" download>Download ${art.filename}</a> <span class="muted">(${bytes(art.size)})</span> · <a href="${page}/artifacts/browse">Browse</a>${job.artifacts_expire_at ? html`<br><span class="muted">expire <time datetime="${job.artifacts_expire_at}">${job.artifacts_expire_at.slice(0, 10)}</time></span>` : ''}`
    : '—'}</dd>
</dl>`;
}
