/** The job page: the log (tail first, then live), details and buttons updated by the stream. */
import type { JobView } from '../views/models';
import { FINAL } from '../views/format';
import { jobDetails } from '../views/job-info';
import { jobAction } from '../views/pipeline-graph';
import { statusBadge } from '../views/status';
import { toast } from './api';
import { LogView } from './log';
import { refreshTimes } from './times';

export function initJob() {
  const d = document.body.dataset;
  const el = document.querySelector<HTMLElement>('[data-log]')!;
  const followBtn = document.querySelector<HTMLButtonElement>('[data-follow]')!;
  const view = new LogView({
    el, raw: d.raw!, length: Number(d.length),
    onFollowChange: (on) => followBtn.setAttribute('aria-pressed', String(on)),
  });
  view.follow = d.final !== '1' && !location.hash;
  followBtn.setAttribute('aria-pressed', String(view.follow));
  followBtn.addEventListener('click', () => view.setFollow(!view.follow));
  document.querySelector('[data-expand-all]')?.addEventListener('click', () => view.expandAll(true));
  document.querySelector('[data-collapse-all]')?.addEventListener('click', () => view.expandAll(false));
  const api = d.api!;
  const canUpdate = d.canUpdate === '1';

  const update = (job: JobView) => {
    const details = document.querySelector('[data-job-details]');
    if (details) details.innerHTML = jobDetails(job, Date.now()).value;
    const badge = document.querySelector('[data-job-badge]');
    if (badge) badge.innerHTML = statusBadge(job.status, 'big').value;
    const actions = document.querySelector('[data-job-actions]');
    if (actions && canUpdate) actions.innerHTML = String(jobAction({ ...job, needs: null }, { api, canUpdate, afterRetry: 'go' }));
    refreshTimes(document);
  };

  void (async () => {
    try {
      await view.open();
    } catch (e) {
      toast((e as Error).message, 'error');
    }
    await goToHash(view);
    window.addEventListener('hashchange', () => void goToHash(view));
    if (d.final === '1') {
      view.finish();
      return;
    }
    const url = `${d.stream}?offset=${view.offset}`;
    const es = new EventSource(url);
    const live = document.querySelector('[data-log-size]');
    es.addEventListener('trace', (e) => {
      view.append(JSON.parse((e as MessageEvent).data) as string);
      view.offset = Number((e as MessageEvent).lastEventId);
      if (live) live.textContent = `${(view.offset / 1024).toFixed(1)} KiB`;
    });
    es.addEventListener('reset', () => view.reset());
    es.addEventListener('status', (e) => update(JSON.parse((e as MessageEvent).data) as JobView));
    es.addEventListener('end', (e) => {
      es.close();
      view.finish();
      const { status } = JSON.parse((e as MessageEvent).data) as { status: string };
      if (FINAL.has(status)) document.body.dataset.final = '1';
    });
    es.addEventListener('error', () => {
      if (es.readyState === EventSource.CLOSED) toast('Live updates stopped; reload the page to resume.', 'error');
    });
  })();
}

/** `#L123` in the address: show that line, loading earlier output until it is drawn. */
async function goToHash(view: LogView) {
  const m = /^#L(\d+)$/.exec(location.hash);
  if (!m) return;
  const n = Number(m[1]);
  for (let i = 0; i < 200 && n < view.firstLine() && document.querySelector('[data-earlier]'); i++) await view.loadEarlier();
  const line = document.getElementById(`L${n}`);
  if (!line) return;
  for (let p = line.parentElement; p; p = p.parentElement) if (p instanceof HTMLDetailsElement) p.open = true;
  line.scrollIntoView({ block: 'center' });
  line.classList.add('target');
}
