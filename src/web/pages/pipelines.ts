/** A project's page, its pipelines (filtered, paged) and the form that runs a new one. */
import type { Project } from '../../db/schema';
import { commitTitleOf } from '../../core/predefined-variables';
import { projectFullPath } from '../../core/projects';
import { STATUSES } from '../../rest-api/presenters';
import type { Seen, Web } from '../context';
import { html, query, type Html } from '../html';
import { duration, STATUS_LABEL, timeAgo } from '../views/format';
import { pathOf, statusBadge } from '../views/status';
import { layout } from './layout';

const PER_PAGE = 20;

export function pager(page: number, pages: number, href: (n: number) => string): Html | '' {
  if (pages <= 1) return '';
  return html`<nav class="pager" aria-label="Pages">
${page > 1 ? html`<a class="btn" href="${href(page - 1)}" rel="prev">← Newer</a>` : html`<span class="btn disabled" aria-disabled="true">← Newer</span>`}
<span>Page ${page} of ${pages}</span>
${page < pages ? html`<a class="btn" href="${href(page + 1)}" rel="next">Older →</a>` : html`<span class="btn disabled" aria-disabled="true">Older →</span>`}
</nav>`;
}

const SOURCE_LABEL: Record<string, string> = {
  push: 'a push', web: 'the dashboard', api: 'the API', trigger: 'a trigger token', schedule: 'a schedule',
  pipeline: 'another pipeline', parent_pipeline: 'its parent pipeline', merge_request_event: 'a merge request', external: 'an external system',
};

function startedBy(web: Web, p: { source: string; user: { username: string; name: string } | null }): Html {
  return p.user
    ? html`by <span class="strong" title="${p.user.name}">${p.user.username}</span> <span class="muted">via ${SOURCE_LABEL[p.source] ?? p.source}</span>`
    : html`by ${SOURCE_LABEL[p.source] ?? p.source}`;
}

export function pipelineRows(web: Web, project: Project, opts: { status?: string; ref?: string; page: number; perPage: number }) {
  const { rows, total } = web.core.pipelines.list(project.id, { status: opts.status, ref: opts.ref, offset: (opts.page - 1) * opts.perPage, limit: opts.perPage });
  const now = web.core.deps.clock.now();
  const body = rows.map((row) => {
    const p = web.show.pipeline(row, project);
    return html`<tr>
<td>${statusBadge(p.status)}</td>
<td><a href="${pathOf(p.web_url)}" class="strong">#${p.id}</a><div class="small">${startedBy(web, p)}</div></td>
<td><span class="ref">${p.tag ? html`<span aria-label="tag">🏷</span> ` : ''}<code>${p.ref}</code></span> <code class="sha" title="${p.sha}">${p.sha.slice(0, 8)}</code>
<div class="small title">${commitTitleOf(row) ?? ''}</div></td>
<td>${p.duration !== null ? duration(p.duration) : p.status === 'running' && p.started_at ? html`<span data-started="${p.started_at}">${duration((now - Date.parse(p.started_at)) / 1000)}</span>` : '—'}
<div class="small muted"><time datetime="${p.created_at}" data-ago>${timeAgo(p.created_at, now)}</time></div></td>
</tr>`;
  });
  return { total, body };
}

function pipelinesTable(body: Html[]): Html {
  return html`<div class="table-wrap"><table class="list pipelines">
<caption class="sr-only">Pipelines, newest first</caption>
<thead><tr><th scope="col">Status</th><th scope="col">Pipeline</th><th scope="col">Ref and commit</th><th scope="col">Duration</th></tr></thead>
<tbody>${body}</tbody></table></div>`;
}

function projectHeader(web: Web, s: Seen, project: Project): Html {
  const canRun = web.core.access.can(s.actor, 'create_pipeline', project);
  const base = `/${projectFullPath(project)}`;
  return html`<div class="page-head">
<div><h1>${project.name}</h1><p class="muted small"><code>${project.repoUrl}</code> · default branch <code>${project.defaultBranch}</code></p></div>
<div class="actions">${canRun ? html`<a class="btn primary" href="${base}/-/pipelines/new">Run pipeline</a>` : ''}</div>
</div>
<nav class="tabs" aria-label="Project"><a href="${base}">Overview</a><a href="${base}/-/pipelines">Pipelines</a>${web.core.access.can(s.actor, 'admin_project', project) ? html`<a href="${base}/-/runners">Runners</a>` : ''}</nav>`;
}

export function crumbsOf(project: Project, ...more: [string, string?][]): [string, string?][] {
  return [['Projects', '/'], [`${project.namespace} / ${project.name}`, `/${projectFullPath(project)}`], ...more];
}

export function projectPage(web: Web, s: Seen, project: Project): string {
  const { body, total } = pipelineRows(web, project, { page: 1, perPage: 10 });
  const base = `/${projectFullPath(project)}`;
  const last = web.core.pipelines.list(project.id, { ref: project.defaultBranch, offset: 0, limit: 1 }).rows[0];
  return layout({
    title: project.name, viewer: s.viewer, page: 'project', crumbs: crumbsOf(project),
    main: html`${projectHeader(web, s, project)}
<section aria-labelledby="branch-status"><h2 id="branch-status">Default branch</h2>
<p>${last ? html`<a href="${base}/-/pipelines/${last.id}">${statusBadge(last.status, 'big')}</a> pipeline #${last.id} on <code>${project.defaultBranch}</code>` : html`<span class="muted">No pipeline has run on <code>${project.defaultBranch}</code> yet.</span>`}</p></section>
<section aria-labelledby="recent"><h2 id="recent">Recent pipelines</h2>
${total === 0 ? html`<p class="muted">No pipelines yet.</p>` : html`${pipelinesTable(body)}${total > 10 ? html`<p><a href="${base}/-/pipelines">All ${total} pipelines →</a></p>` : ''}`}
</section>`,
  }).value;
}

export function pipelinesPage(web: Web, s: Seen, project: Project, q: { status?: string; ref?: string; page?: string }): string {
  const status = q.status && (STATUSES as readonly string[]).includes(q.status) ? q.status : undefined;
  const ref = q.ref?.trim() || undefined;
  const page = Math.max(1, Math.min(1e9, Number(q.page) || 1));
  const { body, total } = pipelineRows(web, project, { status, ref, page, perPage: PER_PAGE });
  const base = `/${projectFullPath(project)}/-/pipelines`;
  return layout({
    title: `Pipelines · ${project.name}`, viewer: s.viewer, page: 'pipelines', crumbs: crumbsOf(project, ['Pipelines']),
    main: html`${projectHeader(web, s, project)}
<form class="filters" method="get" action="${base}" role="search" aria-label="Filter pipelines">
<label>Status <select name="status"><option value="">any</option>${STATUSES.map((st) => html`<option value="${st}"${st === status ? ' selected' : ''}>${STATUS_LABEL[st] ?? st}</option>`)}</select></label>
<label>Branch or tag <input name="ref" value="${ref ?? ''}" placeholder="main" autocomplete="off"></label>
<button class="btn" type="submit">Filter</button>${status || ref ? html` <a href="${base}">Clear</a>` : ''}
</form>
<p class="muted small" aria-live="polite">${total} pipeline${total === 1 ? '' : 's'}</p>
${total === 0 ? html`<p class="empty">No pipelines${status || ref ? ' match this filter' : ' yet'}.</p>` : pipelinesTable(body)}
${pager(page, Math.max(1, Math.ceil(total / PER_PAGE)), (n) => `${base}${query({ status, ref, page: n })}`)}`,
  }).value;
}

export function newPipelinePage(web: Web, s: Seen, project: Project): string {
  const base = `/${projectFullPath(project)}`;
  return layout({
    title: `Run pipeline · ${project.name}`, viewer: s.viewer, page: 'new-pipeline', crumbs: crumbsOf(project, ['Pipelines', `${base}/-/pipelines`], ['Run pipeline']),
    data: { api: `/api/v4/projects/${project.id}` },
    main: html`<h1>Run pipeline</h1>
<form class="stack" id="run-pipeline" data-run-pipeline>
<label for="ref">Branch or tag</label>
<input id="ref" name="ref" required value="${project.defaultBranch}" autocomplete="off" spellcheck="false">
<fieldset><legend>Variables</legend>
<div class="vars" data-vars>
<div class="var-row"><label>Key <input name="key" autocomplete="off" spellcheck="false"></label><label>Value <input name="value" autocomplete="off" spellcheck="false"></label><button type="button" class="btn" data-remove-var aria-label="Remove this variable">✕</button></div>
</div>
<button type="button" class="btn" data-add-var>Add variable</button>
</fieldset>
<div class="form-error" role="alert" hidden data-error></div>
<div class="actions"><button class="btn primary" type="submit">Run pipeline</button> <a href="${base}/-/pipelines">Cancel</a></div>
</form>
<p class="muted small">Baton reads <code>.gitlab-ci.yml</code> from the repository at that ref.</p>`,
  }).value;
}
