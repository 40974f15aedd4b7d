/** The projects the viewer may see, each with the status of its default branch's last pipeline. */
import { projectFullPath } from '../../core/projects';
import type { Seen, Web } from '../context';
import { html, query } from '../html';
import { timeAgo } from '../views/format';
import { pathOf, statusBadge } from '../views/status';
import { pager } from './pipelines';
import { layout } from './layout';

const PER_PAGE = 20;

export function projectsPage(web: Web, s: Seen, q: { page?: string }): string {
  const page = Math.max(1, Number(q.page) || 1);
  const filter = web.core.access.projectFilter(s.actor, {});
  const { rows, total } = web.core.projects.list((page - 1) * PER_PAGE, PER_PAGE, filter);
  const now = web.core.deps.clock.now();
  const items = rows.map((p) => {
    const last = web.core.pipelines.list(p.id, { ref: p.defaultBranch, offset: 0, limit: 1 }).rows[0];
    const shown = last ? web.show.pipeline(last, p) : null;
    return html`<tr>
<td><a href="/${projectFullPath(p)}" class="strong">${p.namespace} / ${p.name}</a><div class="muted small">${projectFullPath(p)}</div></td>
<td><code>${p.defaultBranch}</code></td>
<td>${shown ? html`<a href="${pathOf(shown.web_url)}" aria-label="Pipeline #${shown.id}: ${shown.status}">${statusBadge(shown.status)}</a>` : html`<span class="muted">no pipeline yet</span>`}</td>
<td>${shown ? html`<time datetime="${shown.created_at}" data-ago>${timeAgo(shown.created_at, now)}</time>` : ''}</td>
</tr>`;
  });
  return layout({
    title: 'Projects', viewer: s.viewer, page: 'projects',
    main: html`<h1>Projects</h1>
${rows.length === 0 ? html`<div class="empty"><p>No projects you can see yet.</p><p class="muted">Create one with <code>baton project create</code> or <code>POST /api/v4/projects</code>; members see the projects they belong to.</p></div>`
  : html`<div class="table-wrap"><table class="list">
<caption class="sr-only">Projects and the status of their default branch</caption>
<thead><tr><th scope="col">Project</th><th scope="col">Default branch</th><th scope="col">Last pipeline</th><th scope="col">When</th></tr></thead>
<tbody>${items}</tbody></table></div>
${pager(page, Math.max(1, Math.ceil(total / PER_PAGE)), (n) => `/${query({ page: n })}`)}`}`,
  }).value;
}
