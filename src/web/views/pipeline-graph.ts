/**
 * A pipeline's jobs as columns, one per stage, each job with its status and duration, and
 * buttons where the viewer may act. Jobs that `needs` others carry their names in
 * `data-needs`; the browser draws those edges over the columns (client/pipeline.ts).
 * Rendered by the server for the first paint and by the browser on every stream event.
 */
import type { GraphJob } from './models';
import { html, type Html } from '../html';
import { duration, FINAL } from './format';
import { actionButton, pathOf, statusBadge } from './status';

export interface GraphContext {
  /** `/api/v4/projects/<id>` */
  api: string;
  /** may cancel, retry and play (Developer and up) */
  canUpdate: boolean;
  /** after a retry: stay (the graph updates itself) or go to the new job (the job page) */
  afterRetry?: 'stay' | 'go';
}

export function jobAction(job: GraphJob, ctx: GraphContext): Html | '' {
  if (!ctx.canUpdate) return '';
  const path = `${ctx.api}/jobs/${job.id}`;
  if (job.status === 'manual') return actionButton(ctx.afterRetry === 'go' ? 'Run' : '▶', { path: `${path}/play`, then: 'stay', aria: `Run ${job.name}` });
  if (['created', 'pending', 'running'].includes(job.status)) return actionButton(ctx.afterRetry === 'go' ? 'Cancel' : '⊘', { path: `${path}/cancel`, then: 'stay', aria: `Cancel ${job.name}` });
  if (FINAL.has(job.status) && job.status !== 'skipped') return actionButton(ctx.afterRetry === 'go' ? 'Retry' : '↻', { path: `${path}/retry`, then: ctx.afterRetry ?? 'stay', aria: `Retry ${job.name}` });
  return '';
}

export function pipelineGraph(jobs: GraphJob[], ctx: GraphContext): Html {
  const stages: { name: string; jobs: GraphJob[] }[] = [];
  for (const j of jobs) {
    let st = stages.find((s) => s.name === j.stage);
    if (!st) stages.push((st = { name: j.stage, jobs: [] }));
    st.jobs.push(j);
  }
  const anyNeeds = jobs.some((j) => j.needs && j.needs.length);
  return html`<div class="graph${anyNeeds ? ' has-needs' : ''}" data-graph>
<svg class="needs" aria-hidden="true" focusable="false"></svg>
${stages.map((st) => html`<section class="stage" aria-label="Stage ${st.name}">
<h3>${st.name}</h3>
<ul>${st.jobs.map((j) => html`<li class="job" data-name="${j.name}" data-id="${j.id}"${j.needs && j.needs.length ? html` data-needs="${JSON.stringify(j.needs)}"` : ''}>
<a href="${pathOf(j.web_url)}" class="job-link">${statusBadge(j.status)} <span class="job-name">${j.name}</span></a>
<span class="job-dur"${j.status === 'running' && j.started_at ? html` data-started="${j.started_at}"` : ''}>${j.duration !== null ? duration(j.duration) : ''}</span>
${j.needs && j.needs.length ? html`<span class="sr-only">needs ${j.needs.join(', ')}</span>` : ''}
${jobAction(j, ctx)}</li>`)}</ul>
</section>`)}
</div>`;
}

/** The pipeline's own buttons (Developer and up): cancel while it runs, retry once it failed or was canceled. */
export function pipelineActions(status: string, pipelineApi: string, canUpdate: boolean): Html {
  if (!canUpdate) return html``;
  return html`${['created', 'pending', 'running', 'manual'].includes(status) ? actionButton('Cancel pipeline', { path: `${pipelineApi}/cancel`, then: 'stay', kind: 'danger' }) : ''}
${['failed', 'canceled'].includes(status) ? actionButton('Retry pipeline', { path: `${pipelineApi}/retry`, then: 'stay' }) : ''}`;
}
