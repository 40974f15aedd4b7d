/** One job: its log (live while it runs), its details, its artifacts. */
import type { Job, Project } from '../../db/schema';
import { isFinal } from '../../core/jobs';
import type { ZipListing } from '../../core/zip';
import type { Seen, Web } from '../context';
import { html } from '../html';
import { bytes } from '../views/format';
import { jobAction } from '../views/pipeline-graph';
import { jobDetails } from '../views/job-info';
import { pathOf, statusBadge } from '../views/status';
import { layout } from './layout';
import { crumbsOf } from './pipelines';

export function jobPage(web: Web, s: Seen, project: Project, job: Job): string {
  const shown = web.show.job(job, project);
  const api = `/api/v4/projects/${project.id}`;
  const page = pathOf(shown.web_url);
  const canUpdate = web.core.access.can(s.actor, 'update_job', project);
  const length = web.core.jobs.traceLength(job.id);
  const base = `/${project.namespace}/${project.path}`;
  let files: ZipListing | null = null;
  if (shown.artifacts_file) {
    try { files = web.core.artifacts.entries(job); } catch { files = null; }
  }
  return layout({
    title: `${job.name} (#${job.id}) · ${project.name}`, viewer: s.viewer, page: 'job',
    crumbs: crumbsOf(project, ['Pipelines', `${base}/-/pipelines`], [`#${job.pipelineId}`, `${base}/-/pipelines/${job.pipelineId}`], [`${job.name} #${job.id}`]),
    data: {
      api, job: job.id, raw: `${page}/raw`, length, 'can-update': canUpdate ? 1 : 0,
      stream: `${api}/jobs/${job.id}/trace/stream`,
      final: isFinal(job.status) ? 1 : 0,
    },
    main: html`<div class="page-head">
<div><h1><span data-job-badge>${statusBadge(job.status, 'big')}</span> ${job.name} <span class="muted">#${job.id}</span></h1>
<p class="small">Stage <code>${job.stage}</code> of <a href="${base}/-/pipelines/${job.pipelineId}">pipeline #${job.pipelineId}</a> · <code>${shown.ref}</code></p></div>
<div class="actions" data-job-actions>${jobAction({ ...shown, needs: null }, { api, canUpdate, afterRetry: 'go' })}</div>
</div>
<div class="job-layout">
<section class="log-panel" aria-label="Job log">
<div class="log-toolbar" role="toolbar" aria-label="Log">
<button type="button" class="btn" data-follow aria-pressed="${isFinal(job.status) ? 'false' : 'true'}">Follow the end</button>
<button type="button" class="btn" data-expand-all>Expand all</button>
<button type="button" class="btn" data-collapse-all>Collapse all</button>
<a class="btn" href="${page}/raw" download="job-${job.id}.log">Raw log</a>
<span class="muted small" data-log-size>${bytes(length)}</span>
</div>
<div class="log" data-log role="log" aria-live="off" tabindex="0" aria-label="Log output">${length === 0 ? html`<p class="log-empty muted" data-log-empty>${isFinal(job.status) ? 'This job wrote no log.' : 'Waiting for the log…'}</p>` : html`<p class="log-empty muted" data-log-empty>Loading the log…</p>`}</div>
</section>
<aside class="job-side" aria-label="Job details" data-job-details>${jobDetails(shown, web.core.deps.clock.now())}</aside>
</div>
${files ? html`<section aria-labelledby="files"><h2 id="files">Files in the artifacts</h2>${fileList(files)}</section>` : ''}`,
  }).value;
}

function fileList(files: ZipListing) {
  return html`<div class="table-wrap"><table class="list files"><caption class="sr-only">Files inside the artifacts archive</caption>
<thead><tr><th scope="col">Path</th><th scope="col">Size</th></tr></thead>
<tbody>${files.entries.map((e) => html`<tr><td><code>${e.path}</code></td><td>${e.directory ? '' : bytes(e.size)}</td></tr>`)}</tbody></table></div>
${files.truncated ? html`<p class="muted small">The first ${files.entries.length} of ${files.total} entries.</p>` : ''}`;
}

export function artifactsPage(web: Web, s: Seen, project: Project, job: Job): string {
  const files = web.core.artifacts.entries(job);
  const base = `/${project.namespace}/${project.path}`;
  return layout({
    title: `Artifacts of ${job.name} · ${project.name}`, viewer: s.viewer, page: 'artifacts',
    crumbs: crumbsOf(project, [`${job.name} #${job.id}`, `${base}/-/jobs/${job.id}`], ['Artifacts']),
    main: html`<h1>Artifacts of ${job.name} <span class="muted">#${job.id}</span></h1>
<p><a class="btn primary" href="${base}/-/jobs/${job.id}/artifacts/download" download>Download ${job.artifactsFile ?? 'artifacts.zip'}</a></p>
${fileList(files)}`,
  }).value;
}
