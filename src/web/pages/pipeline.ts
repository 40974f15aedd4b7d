/** One pipeline: its jobs by stage (and their needs), live while it runs. */
import { commitTitleOf } from '../../core/predefined-variables';
import type { Pipeline, Project } from '../../db/schema';
import { pipelineSnapshot } from '../../rest-api/streams';
import type { Seen, Web } from '../context';
import { html } from '../html';
import { duration, FINAL, timeAgo } from '../views/format';
import { pipelineActions, pipelineGraph } from '../views/pipeline-graph';
import { statusBadge } from '../views/status';
import { layout } from './layout';
import { crumbsOf } from './pipelines';

export function pipelinePage(web: Web, s: Seen, project: Project, pipeline: Pipeline): string {
  const snap = pipelineSnapshot(web.core, web.show, project, pipeline);
  const p = snap.pipeline;
  const api = `/api/v4/projects/${project.id}`;
  const canUpdate = web.core.access.can(s.actor, 'update_pipeline', project);
  const now = web.core.deps.clock.now();
  return layout({
    title: `Pipeline #${p.id} · ${project.name}`, viewer: s.viewer, page: 'pipeline',
    crumbs: crumbsOf(project, ['Pipelines', `/${project.namespace}/${project.path}/-/pipelines`], [`#${p.id}`]),
    data: {
      api, 'can-update': canUpdate ? 1 : 0,
      stream: FINAL.has(p.status) ? null : `${api}/pipelines/${p.id}/stream`,
    },
    main: html`<div class="page-head">
<div><h1><span data-pipeline-status>${statusBadge(p.status, 'big')}</span> Pipeline #${p.id}</h1>
<p class="small">${p.user ? html`Started by <span class="strong">${p.user.username}</span>` : html`Started by ${p.source}`}
<time datetime="${p.created_at}" data-ago>${timeAgo(p.created_at, now)}</time> · source <code>${p.source}</code></p>
<p class="small">${p.tag ? 'tag' : 'branch'} <code>${p.ref}</code> · commit <code title="${p.sha}">${p.sha.slice(0, 8)}</code> ${commitTitleOf(pipeline) ? html`<span class="title">${commitTitleOf(pipeline)}</span>` : ''}</p>
<p class="small">Duration <span data-pipeline-duration${p.status === 'running' && p.started_at ? html` data-started="${p.started_at}"` : ''}>${p.status === 'running' && p.started_at ? duration((now - Date.parse(p.started_at)) / 1000) : duration(p.duration)}</span></p></div>
<div class="actions" data-pipeline-actions>${pipelineActions(p.status, `${api}/pipelines/${p.id}`, canUpdate)}</div>
</div>
<p class="live muted small" data-live aria-live="polite">${FINAL.has(p.status) ? '' : 'Updating live'}</p>
<div data-graph-host>${pipelineGraph(snap.jobs, { api, canUpdate })}</div>`,
  }).value;
}
