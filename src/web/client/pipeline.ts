/** The pipeline page: the graph redrawn from the pipeline stream, the edges of `needs` drawn over it. */
import type { PipelineSnapshotView } from '../views/models';
import { duration } from '../views/format';
import { pipelineActions, pipelineGraph } from '../views/pipeline-graph';
import { statusBadge } from '../views/status';
import { refreshTimes } from './times';

const SVG = 'http://www.w3.org/2000/svg';

/** Lines from each job to the jobs it needs, in an SVG laid over the stage columns. */
export function drawNeeds(graph: HTMLElement) {
  const svg = graph.querySelector<SVGSVGElement>('svg.needs');
  if (!svg) return;
  svg.replaceChildren();
  const box = graph.getBoundingClientRect();
  svg.setAttribute('width', String(graph.scrollWidth));
  svg.setAttribute('height', String(graph.scrollHeight));
  const byName = new Map<string, Element>();
  for (const li of graph.querySelectorAll<HTMLElement>('li.job')) byName.set(li.dataset.name!, li);
  for (const li of graph.querySelectorAll<HTMLElement>('li.job[data-needs]')) {
    const to = li.getBoundingClientRect();
    for (const name of JSON.parse(li.dataset.needs!) as string[]) {
      const fromEl = byName.get(name);
      if (!fromEl) continue;
      const from = fromEl.getBoundingClientRect();
      const x1 = from.right - box.left + graph.scrollLeft;
      const y1 = from.top + from.height / 2 - box.top + graph.scrollTop;
      const x2 = to.left - box.left + graph.scrollLeft;
      const y2 = to.top + to.height / 2 - box.top + graph.scrollTop;
      const mid = (x1 + x2) / 2;
      const path = document.createElementNS(SVG, 'path');
      path.setAttribute('d', `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`);
      path.setAttribute('class', 'edge');
      path.dataset.from = name;
      path.dataset.to = li.dataset.name!;
      svg.append(path);
    }
  }
}

export function initPipeline() {
  const d = document.body.dataset;
  const host = document.querySelector<HTMLElement>('[data-graph-host]')!;
  const redraw = () => { const g = host.querySelector<HTMLElement>('[data-graph]'); if (g) drawNeeds(g); };
  redraw();
  window.addEventListener('resize', redraw);
  host.addEventListener('toggle', redraw, true);
  if (!d.stream) return;
  const canUpdate = d.canUpdate === '1';
  const live = document.querySelector<HTMLElement>('[data-live]');
  const es = new EventSource(d.stream);
  es.addEventListener('pipeline', (e) => {
    const snap = JSON.parse((e as MessageEvent).data) as PipelineSnapshotView;
    host.innerHTML = pipelineGraph(snap.jobs, { api: d.api!, canUpdate }).value;
    const badge = document.querySelector('[data-pipeline-status]');
    if (badge) badge.innerHTML = statusBadge(snap.pipeline.status, 'big').value;
    const dur = document.querySelector<HTMLElement>('[data-pipeline-duration]');
    if (dur) {
      // a running pipeline's duration ticks (client/times.ts); a finished one says its own
      if (snap.pipeline.status === 'running' && snap.pipeline.started_at) dur.dataset.started = snap.pipeline.started_at;
      else { delete dur.dataset.started; dur.textContent = duration(snap.pipeline.duration); }
    }
    const actions = document.querySelector('[data-pipeline-actions]');
    if (actions) actions.innerHTML = pipelineActions(snap.pipeline.status, `${d.api}/pipelines/${snap.pipeline.id}`, canUpdate).value;
    refreshTimes(host);
    redraw();
  });
  es.addEventListener('end', () => {
    es.close();
    if (live) live.textContent = 'Finished';
  });
  es.addEventListener('error', () => {
    if (es.readyState === EventSource.CLOSED && live) live.textContent = 'Live updates stopped; reload the page to resume.';
  });
}
